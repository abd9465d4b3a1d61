import React from 'react';
import { Stack } from '@grafana/ui';
import { CORRELATION_METHODS } from '../../constants';
import { LimitField, TextField } from './TextField';
import { TraceIdField } from './TraceIdField';
import { patch, type EditorProps } from './types';

const METHODS: readonly string[] = CORRELATION_METHODS;

/** Why the correlator would refuse a method filter (a 400), if it would; variables pass. */
export function methodProblem(method: string | undefined): string | undefined {
  return method && !method.includes('$') && !METHODS.includes(method) ? `A method is one of ${METHODS.join(', ')}` : undefined;
}

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
        invalid={methodProblem(query.method)}
        onCommit={(method) => patch(props, { method })}
      />
      <LimitField label="Limit" placeholder="100" value={query.limit} onCommit={(limit) => patch(props, { limit })} />
    </Stack>
  );
}
