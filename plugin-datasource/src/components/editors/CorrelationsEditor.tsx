import React from 'react';
import { Stack } from '@grafana/ui';
import { LimitField, TextField } from './TextField';
import { TraceIdField } from './TraceIdField';
import { patch, type EditorProps } from './types';

export function CorrelationsEditor(props: EditorProps<'correlations'>) {
  const { query } = props;
  return (
    <Stack gap={1} wrap="wrap">
      <TextField label="Circuit id" value={query.circuitId} onCommit={(circuitId) => patch(props, { circuitId })} />
      <TraceIdField value={query.traceId} onCommit={(traceId) => patch(props, { traceId })} />
      <TextField label="Service" value={query.service} onCommit={(service) => patch(props, { service })} />
      <TextField
        label="Method"
        placeholder="e.g. circuit_id_match"
        value={query.method}
        onCommit={(method) => patch(props, { method })}
      />
      <LimitField label="Limit" placeholder="100" value={query.limit} onCommit={(limit) => patch(props, { limit })} />
    </Stack>
  );
}
