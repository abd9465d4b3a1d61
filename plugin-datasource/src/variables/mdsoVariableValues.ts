import type { CorrelatorClient } from '../api/client';
import type { VariableKind } from '../types';

// Placeholder until api-schema/src/mdso-analysis.ts lands.
export async function mdsoVariableValues(
  _client: CorrelatorClient,
  kind: Exclude<VariableKind, 'circuits' | 'services'>,
  _range: { from: number; to: number }
): Promise<string[]> {
  throw new Error(`Variables of kind ${kind} are not available yet.`);
}
