import React from 'react';
import type { QueryEditorProps } from '@grafana/data';
import { InlineField, RadioButtonGroup, Stack } from '@grafana/ui';
import { TextField } from '../components/editors/TextField';
import { defaultQuery } from '../query/defaults';
import type { AnnotationSource, AnnotationsQuery, CorrelatorQuery } from '../types';

type Props = QueryEditorProps<any, CorrelatorQuery>;

const SOURCE_OPTIONS: Array<{ label: string; value: AnnotationSource; description: string }> = [
  { label: 'MDSO failures', value: 'mdsoFailures', description: 'One annotation per failed MDSO resource' },
  { label: 'New and regressed issues', value: 'mdsoIssues', description: 'When a defect issue opened or regressed' },
];

/** Editor of annotation queries: what to mark and optional filters. */
export function AnnotationQueryEditor({ query: raw, onChange }: Props) {
  const query: AnnotationsQuery =
    raw?.queryType === 'annotations'
      ? raw
      : (defaultQuery('annotations', raw?.refId ?? 'Annotations') as AnnotationsQuery);
  const update = (change: Partial<AnnotationsQuery>) => onChange({ ...query, ...change });
  return (
    <Stack direction="column" gap={1}>
      <InlineField label="Mark" labelWidth={16}>
        <RadioButtonGroup options={SOURCE_OPTIONS} value={query.source} onChange={(source) => update({ source })} />
      </InlineField>
      <Stack gap={1} wrap="wrap">
        <TextField label="Product" value={query.product} onCommit={(product) => update({ product })} />
        <TextField label="Defect code" value={query.defect} onCommit={(defect) => update({ defect })} />
        {query.source === 'mdsoFailures' && (
          <TextField label="Circuit id" value={query.circuitId} onCommit={(circuitId) => update({ circuitId })} />
        )}
      </Stack>
    </Stack>
  );
}
