import React from 'react';
import type { QueryEditorProps, SelectableValue } from '@grafana/data';
import { InlineField, RadioButtonGroup, Stack } from '@grafana/ui';
import type { CorrelatorDataSource } from '../datasource';
import { defaultQuery, normalizeQuery } from '../query/defaults';
import type { CorrelatorJsonData, CorrelatorQuery, QueryType } from '../types';
import { CircuitSearchEditor } from './editors/CircuitSearchEditor';
import { CircuitTraceEditor } from './editors/CircuitTraceEditor';
import { CorrelationsEditor } from './editors/CorrelationsEditor';
import { LogsEditor } from './editors/LogsEditor';
import { MdsoErrorsEditor } from './editors/MdsoErrorsEditor';
import { MdsoIssuesEditor } from './editors/MdsoIssuesEditor';
import { ServiceGraphEditor } from './editors/ServiceGraphEditor';

type Props = QueryEditorProps<CorrelatorDataSource, CorrelatorQuery, CorrelatorJsonData>;

export const QUERY_TYPE_OPTIONS: Array<SelectableValue<QueryType>> = [
  { label: 'Circuit trace', value: 'circuitTrace', description: 'Stitched trace of a circuit, or one trace by id' },
  { label: 'Circuit search', value: 'circuitSearch', description: 'Table of circuits' },
  { label: 'Correlations', value: 'correlations', description: 'Table of correlation events' },
  { label: 'Logs', value: 'logs', description: 'Log lines of a circuit or trace' },
  { label: 'MDSO errors', value: 'mdsoErrors', description: 'Error records or counts over time' },
  { label: 'MDSO issues', value: 'mdsoIssues', description: 'Defect issues with state and counts' },
  { label: 'Service graph', value: 'serviceGraph', description: 'Node graph of services, bridged hops marked' },
];

/** Picks the query type and hands the narrowed query to that type's editor. */
export function QueryEditor({ query: raw, onChange, onRunQuery }: Props) {
  const query = normalizeQuery(raw);
  const change = (next: CorrelatorQuery) => {
    onChange(next);
    onRunQuery();
  };
  const changeType = (queryType: QueryType) =>
    change({ ...defaultQuery(queryType, query.refId), datasource: query.datasource });

  return (
    <Stack direction="column" gap={1}>
      <InlineField label="Query type" labelWidth={16}>
        <RadioButtonGroup options={QUERY_TYPE_OPTIONS} value={query.queryType} onChange={changeType} />
      </InlineField>
      {renderEditor(query, change)}
    </Stack>
  );
}

function renderEditor(query: CorrelatorQuery, onChange: (q: CorrelatorQuery) => void) {
  switch (query.queryType) {
    case 'circuitTrace':
      return <CircuitTraceEditor query={query} onChange={onChange} />;
    case 'circuitSearch':
      return <CircuitSearchEditor query={query} onChange={onChange} />;
    case 'correlations':
      return <CorrelationsEditor query={query} onChange={onChange} />;
    case 'logs':
      return <LogsEditor query={query} onChange={onChange} />;
    case 'mdsoErrors':
      return <MdsoErrorsEditor query={query} onChange={onChange} />;
    case 'mdsoIssues':
      return <MdsoIssuesEditor query={query} onChange={onChange} />;
    case 'serviceGraph':
      return <ServiceGraphEditor query={query} onChange={onChange} />;
    case 'annotations':
      // Annotation queries have their own editor (annotations/AnnotationQueryEditor.tsx).
      return null;
  }
}
