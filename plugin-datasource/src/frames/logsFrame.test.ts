import { DataFrameType, DataFrameView, FieldType } from '@grafana/data';
import { ALL_TARGETS, ONLY_SELF, TRACE_B, makeLog } from '../test/fixtures';
import { logLabels, logsFrame } from './logsFrame';

describe('logsFrame', () => {
  it('follows the logs contract', () => {
    const frame = logsFrame('L', [makeLog()], ONLY_SELF);
    expect(frame.meta).toMatchObject({ type: DataFrameType.LogLines, preferredVisualisationType: 'logs' });
    expect(frame.fields.map((f) => [f.name, f.type])).toEqual([
      ['timestamp', FieldType.time],
      ['body', FieldType.string],
      ['severity', FieldType.string],
      ['id', FieldType.string],
      ['labels', FieldType.other],
      ['traceID', FieldType.string],
      ['spanID', FieldType.string],
    ]);
    expect(new DataFrameView(frame).get(0)).toMatchObject({
      timestamp: 1700000000100,
      body: 'activation failed',
      severity: 'error',
      id: 'log-1',
      traceID: TRACE_B,
      labels: { service_name: 'mdso', source: 'otlp', circuit_id: 'CKT-1' },
    });
  });

  it.each([
    ['only this datasource', ONLY_SELF, ['Open trace with correlations']],
    [
      'Tempo and Loki',
      ALL_TARGETS,
      ['Open trace with correlations', 'Open trace in Tempo', 'Logs of this trace in Loki'],
    ],
  ])('traceID links to %s', (_name, targets, titles) => {
    const traceField = logsFrame('L', [makeLog()], targets).fields.find((f) => f.name === 'traceID');
    expect((traceField?.config.links ?? []).map((l) => l.title)).toEqual(titles);
  });

  it.each([
    [[], undefined],
    [['failed'], { searchWords: ['failed'] }],
  ])('search words %j → meta.custom %j', (words, custom) => {
    expect(logsFrame('L', [], ONLY_SELF, words).meta?.custom).toEqual(custom);
  });
});

describe('logLabels', () => {
  it.each([
    [
      'keeps non-empty business keys',
      makeLog({ keys: { circuit_id: 'C', request_id: 'R' } }),
      { service_name: 'mdso', source: 'otlp', circuit_id: 'C', request_id: 'R' },
    ],
    ['drops empty keys', makeLog({ keys: { circuit_id: '' }, source: 'api' }), { service_name: 'mdso', source: 'api' }],
  ])('%s', (_name, entry, labels) => {
    expect(logLabels(entry)).toEqual(labels);
  });
});
