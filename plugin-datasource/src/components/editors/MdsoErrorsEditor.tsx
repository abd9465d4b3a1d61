import React from 'react';
import { InlineField, RadioButtonGroup, Stack } from '@grafana/ui';
import type { MdsoErrorsFormat, MdsoGroupBy } from '../../types';
import { DefectCodeField, IssueStateField } from './IssueStateField';
import { LimitField, TextField } from './TextField';
import { patch, type EditorProps } from './types';

const FORMAT_OPTIONS: Array<{ label: string; value: MdsoErrorsFormat; description: string }> = [
  { label: 'Error records', value: 'records', description: 'One row per MDSO failure' },
  { label: 'Counts over time', value: 'counts', description: 'Time series at the panel interval' },
];

const GROUP_OPTIONS: Array<{ label: string; value: MdsoGroupBy }> = [
  { label: 'Product', value: 'product' },
  { label: 'Defect code', value: 'defect_code' },
  { label: 'System', value: 'system' },
];

export function MdsoErrorsEditor(props: EditorProps<'mdsoErrors'>) {
  const { query } = props;
  return (
    <Stack direction="column" gap={1}>
      <InlineField label="Show" labelWidth={16}>
        <RadioButtonGroup
          options={FORMAT_OPTIONS}
          value={query.format}
          onChange={(format) => patch(props, { format })}
        />
      </InlineField>
      {query.format === 'counts' ? (
        // The summary counts every error; filters apply to records only.
        <InlineField label="Group by" labelWidth={16} tooltip="Bucket width follows the panel's interval">
          <RadioButtonGroup
            options={GROUP_OPTIONS}
            value={query.groupBy ?? 'product'}
            onChange={(groupBy) => patch(props, { groupBy })}
          />
        </InlineField>
      ) : (
        <>
          <IssueStateField value={query.state} onChange={(state) => patch(props, { state })} />
          <Stack gap={1} wrap="wrap">
            <TextField label="Product" value={query.product} onCommit={(product) => patch(props, { product })} />
            <DefectCodeField value={query.defect} onCommit={(defect) => patch(props, { defect })} />
            <TextField
              label="Circuit id"
              value={query.circuitId}
              onCommit={(circuitId) => patch(props, { circuitId })}
            />
            <LimitField
              label="Limit"
              placeholder="100"
              value={query.limit}
              onCommit={(limit) => patch(props, { limit })}
            />
          </Stack>
        </>
      )}
    </Stack>
  );
}
