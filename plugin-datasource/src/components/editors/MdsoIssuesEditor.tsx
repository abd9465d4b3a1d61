import React from 'react';
import { Stack } from '@grafana/ui';
import { LimitField, TextField } from './TextField';
import { patch, type EditorProps } from './types';

export function MdsoIssuesEditor(props: EditorProps<'mdsoIssues'>) {
  const { query } = props;
  return (
    <Stack gap={1} wrap="wrap">
      <TextField label="State" placeholder="any" value={query.state} onCommit={(state) => patch(props, { state })} />
      <TextField label="Product" value={query.product} onCommit={(product) => patch(props, { product })} />
      <TextField label="Defect code" value={query.defect} onCommit={(defect) => patch(props, { defect })} />
      <LimitField label="Limit" placeholder="100" value={query.limit} onCommit={(limit) => patch(props, { limit })} />
    </Stack>
  );
}
