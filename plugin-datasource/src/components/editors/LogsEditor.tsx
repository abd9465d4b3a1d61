import React from 'react';
import { Stack } from '@grafana/ui';
import { LimitField, TextField } from './TextField';
import { TraceIdField } from './TraceIdField';
import { patch, type EditorProps } from './types';

export function LogsEditor(props: EditorProps<'logs'>) {
  const { query } = props;
  return (
    <Stack gap={1} wrap="wrap">
      <TextField label="Circuit id" value={query.circuitId} onCommit={(circuitId) => patch(props, { circuitId })} />
      <TraceIdField value={query.traceId} onCommit={(traceId) => patch(props, { traceId })} />
      <TextField label="Service" value={query.service} onCommit={(service) => patch(props, { service })} />
      <TextField
        label="Search"
        placeholder="text in the log line"
        value={query.search}
        onCommit={(search) => patch(props, { search })}
      />
      <TextField
        label="Min severity"
        placeholder="error, warn, 17 or $level"
        tooltip="Only logs of this severity or worse; the limit counts only those, so INFO lines do not hide errors"
        width={24}
        value={query.minSeverity}
        onCommit={(minSeverity) => patch(props, { minSeverity })}
      />
      <LimitField label="Limit" placeholder="1000" value={query.limit} onCommit={(limit) => patch(props, { limit })} />
    </Stack>
  );
}
