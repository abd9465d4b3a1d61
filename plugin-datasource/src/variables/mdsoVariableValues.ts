import type { MdsoDefectCatalogueResponse, MdsoSummaryResponse } from '@correlation-station/api-schema';
import type { CorrelatorClient } from '../api/client';
import { MDSO_ISSUE_STATES } from '../frames/mdsoStates';
import type { VariableKind } from '../types';

/** Values of the MDSO variables: products with errors in the range, catalogue defect codes, issue states. */
export async function mdsoVariableValues(
  client: CorrelatorClient,
  kind: Exclude<VariableKind, 'circuits' | 'services'>,
  range: { from: number; to: number }
): Promise<string[]> {
  switch (kind) {
    case 'products': {
      // One bucket over the whole range: only the series keys are needed.
      const stepSeconds = Math.max(1, Math.ceil((range.to - range.from) / 1000));
      const summary = await client.get<MdsoSummaryResponse>('/api/mdso/summary', {
        from: range.from,
        to: range.to,
        step: Math.min(stepSeconds, 31_536_000),
        group_by: 'product',
      });
      return summary.series.map((s) => s.key);
    }
    case 'defectCodes': {
      const catalogue = await client.get<MdsoDefectCatalogueResponse>('/api/mdso/defects');
      return [...catalogue.rules.map((r) => r.code), 'uncategorized'];
    }
    case 'states':
      return [...MDSO_ISSUE_STATES];
  }
}
