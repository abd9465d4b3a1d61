import React from 'react';
import { InlineField, InlineSwitch, Stack } from '@grafana/ui';
import { LimitField, TextField } from './TextField';
import { patch, type EditorProps } from './types';

export function CircuitTraceEditor(props: EditorProps<'circuitTrace'>) {
  const { query } = props;
  return (
    <Stack gap={1} wrap="wrap">
      <TextField
        label="Circuit or trace id"
        width={48}
        tooltip="A circuit id shows every trace of the circuit stitched together; a 32-hex trace id shows that trace with its links."
        placeholder="e.g. CKT-0001 or $circuit"
        value={query.query}
        onCommit={(value) => patch(props, { query: value ?? '' })}
      />
      <LimitField
        label="Span limit"
        placeholder="20000"
        value={query.limit}
        onCommit={(limit) => patch(props, { limit })}
      />
      <InlineField
        label="In time range"
        labelWidth={16}
        tooltip="Only the circuit's traces with data in the dashboard's time range: one activation of a circuit seen for days. A trace id ignores it."
      >
        <InlineSwitch
          aria-label="In time range"
          value={query.inTimeRange ?? false}
          onChange={(e) => patch(props, { inTimeRange: e.currentTarget.checked || undefined })}
        />
      </InlineField>
    </Stack>
  );
}
