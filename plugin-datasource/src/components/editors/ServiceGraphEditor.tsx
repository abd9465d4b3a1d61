import React from 'react';
import { Stack } from '@grafana/ui';
import { TextField } from './TextField';
import { patch, type EditorProps } from './types';

export function ServiceGraphEditor(props: EditorProps<'serviceGraph'>) {
  return (
    <Stack gap={1}>
      <TextField
        label="Circuit id"
        tooltip="Empty: all services in the time range. Bridged edges (no trace context, e.g. MDSO hops) are dashed."
        value={props.query.circuitId}
        onCommit={(circuitId) => patch(props, { circuitId })}
      />
    </Stack>
  );
}
