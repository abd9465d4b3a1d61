import React from 'react';
import { Stack } from '@grafana/ui';
import { DefectCodeField, IssueStateField } from './IssueStateField';
import { LimitField, TextField } from './TextField';
import { patch, type EditorProps } from './types';

export function MdsoIssuesEditor(props: EditorProps<'mdsoIssues'>) {
  const { query } = props;
  return (
    <Stack direction="column" gap={1}>
      <IssueStateField value={query.state} onChange={(state) => patch(props, { state })} />
      <Stack gap={1} wrap="wrap">
        <TextField label="Product" value={query.product} onCommit={(product) => patch(props, { product })} />
        <DefectCodeField value={query.defect} onCommit={(defect) => patch(props, { defect })} />
        <LimitField label="Limit" placeholder="100" value={query.limit} onCommit={(limit) => patch(props, { limit })} />
      </Stack>
    </Stack>
  );
}
