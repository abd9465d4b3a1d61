import React from 'react';
import type { QueryEditorProps } from '@grafana/data';
import { InlineField, RadioButtonGroup, Stack } from '@grafana/ui';
import type { CorrelatorDataSource } from '../datasource';
import type { CorrelatorJsonData, CorrelatorQuery, CorrelatorVariableQuery, VariableKind } from '../types';
import { TextField } from '../components/editors/TextField';

type Props = QueryEditorProps<CorrelatorDataSource, CorrelatorQuery, CorrelatorJsonData, CorrelatorVariableQuery>;

const KIND_OPTIONS: Array<{ label: string; value: VariableKind; description: string }> = [
  { label: 'Circuits', value: 'circuits', description: 'Circuit ids seen in the time range' },
  { label: 'Services', value: 'services', description: 'Services in the service graph' },
  { label: 'Products', value: 'products', description: 'MDSO products with errors' },
  { label: 'Defect codes', value: 'defectCodes', description: 'Defect codes of the catalogue' },
  { label: 'States', value: 'states', description: 'MDSO issue states' },
];

/** Picks which list a template variable holds. */
export function VariableQueryEditor({ query, onChange }: Props) {
  const current: CorrelatorVariableQuery = { refId: query?.refId ?? 'variable', kind: query?.kind ?? 'circuits', filter: query?.filter };
  return (
    <Stack direction="column" gap={1}>
      <InlineField label="Values" labelWidth={16}>
        <RadioButtonGroup options={KIND_OPTIONS} value={current.kind} onChange={(kind) => onChange({ ...current, kind })} />
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
