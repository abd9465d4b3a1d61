import React from 'react';
import { InlineField, RadioButtonGroup, Stack } from '@grafana/ui';
import type { CircuitStatusFilter } from '../../types';
import { LimitField, TextField } from './TextField';
import { patch, type EditorProps } from './types';

const STATUS_OPTIONS: Array<{ label: string; value: CircuitStatusFilter | 'any' }> = [
  { label: 'Any', value: 'any' },
  { label: 'OK', value: 'ok' },
  { label: 'Error', value: 'error' },
];

export function CircuitSearchEditor(props: EditorProps<'circuitSearch'>) {
  const { query } = props;
  return (
    <Stack gap={1} wrap="wrap">
      <TextField
        label="Circuit id"
        placeholder="substring, or $circuit"
        value={query.query}
        onCommit={(value) => patch(props, { query: value })}
      />
      <InlineField label="Status" labelWidth={10}>
        <RadioButtonGroup<CircuitStatusFilter | 'any'>
          options={STATUS_OPTIONS}
          value={query.status ?? 'any'}
          onChange={(status) => patch(props, { status: status === 'any' ? undefined : status })}
        />
      </InlineField>
      <TextField label="Service" value={query.service} onCommit={(service) => patch(props, { service })} />
      <LimitField label="Limit" placeholder="100" value={query.limit} onCommit={(limit) => patch(props, { limit })} />
    </Stack>
  );
}
