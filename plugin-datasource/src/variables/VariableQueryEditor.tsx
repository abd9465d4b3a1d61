import React from 'react';
import type { QueryEditorProps } from '@grafana/data';
import { InlineField, RadioButtonGroup, Stack } from '@grafana/ui';
import type { CorrelatorDataSource } from '../datasource';
import {
  VARIABLE_KINDS,
  type CorrelatorJsonData,
  type CorrelatorQuery,
  type CorrelatorVariableQuery,
  type VariableKind,
} from '../types';
import { TextField } from '../components/editors/TextField';

type Props = QueryEditorProps<CorrelatorDataSource, CorrelatorQuery, CorrelatorJsonData, CorrelatorVariableQuery>;

const KIND_OPTIONS: Array<{ label: string; value: VariableKind; description: string }> = [
  { label: 'Circuits', value: 'circuits', description: 'Circuit ids seen in the time range' },
  { label: 'Services', value: 'services', description: 'Services with data in the time range' },
  { label: 'Products', value: 'products', description: 'MDSO products with errors' },
  { label: 'Defect codes', value: 'defectCodes', description: 'Defect codes of the catalogue' },
  { label: 'States', value: 'states', description: 'MDSO issue states' },
];

/** Older dashboards may store a variable query as a plain string such as "services". */
export function normalizeVariableQuery(query: CorrelatorVariableQuery | string | undefined): CorrelatorVariableQuery {
  if (typeof query === 'string') {
    const kind = VARIABLE_KINDS.find((k) => k === query.trim()) ?? 'circuits';
    return { refId: 'variable', kind };
  }
  return { refId: query?.refId ?? 'variable', kind: query?.kind ?? 'circuits', filter: query?.filter };
}

/** Picks which list a template variable holds. */
export function VariableQueryEditor({ query, onChange }: Props) {
  const current = normalizeVariableQuery(query);
  return (
    <Stack direction="column" gap={1}>
      <InlineField label="Values" labelWidth={16}>
        <RadioButtonGroup
          options={KIND_OPTIONS}
          value={current.kind}
          onChange={(kind) => onChange({ ...current, kind })}
        />
      </InlineField>
      {current.kind === 'circuits' && (
        <TextField
          label="Circuit filter"
          placeholder="substring of the circuit id"
          value={current.filter}
          onCommit={(filter) => onChange({ ...current, filter })}
        />
      )}
    </Stack>
  );
}
