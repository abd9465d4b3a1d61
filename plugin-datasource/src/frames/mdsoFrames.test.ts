import { DataFrameType, DataFrameView, FieldType } from '@grafana/data';
import type { MdsoSummaryResponse } from '@correlation-station/api-schema';
import { ONLY_SELF, makeMdsoError, makeMdsoIssue } from '../test/fixtures';
import { mdsoErrorsFrame, mdsoIssuesFrame, mdsoSummaryFrames } from './mdsoFrames';

describe('mdsoErrorsFrame', () => {
  const frame = mdsoErrorsFrame(
    'E',
    [
      makeMdsoError(),
      makeMdsoError({ id: 'err-2', defectCode: null, defectTitle: null, circuitId: null, system: null }),
    ],
    ONLY_SELF,
    false
  );

  it.each([
    ['time', FieldType.time],
    ['product', FieldType.string],
    ['defectCode', FieldType.string],
    ['circuitId', FieldType.string],
    ['issueState', FieldType.string],
    ['text', FieldType.string],
  ])('has %s of type %s', (name, type) => {
    expect(frame.fields.find((f) => f.name === name)?.type).toBe(type);
  });

  it.each([
    [0, { time: 1700000000500, defectCode: 'DE-0042', defectTitle: 'NSO timeout', circuitId: 'CKT-1', system: 'NSO' }],
    [1, { defectCode: 'uncategorized', defectTitle: '', circuitId: '', system: '' }],
  ])('row %d', (index, expected) => {
    expect(new DataFrameView(frame).get(index)).toMatchObject(expected);
  });

  it('links the circuit to the app and the stitched trace', () => {
    const links = frame.fields.find((f) => f.name === 'circuitId')?.config.links ?? [];
    expect(links.map((l) => l.title)).toEqual(['Open in Circuit Explorer', 'Stitched circuit trace']);
  });

  it.each([
    [false, undefined],
    [
      true,
      [{ severity: 'info', text: 'Showing the first 2 errors; raise the limit or narrow the filters to see more.' }],
    ],
  ])('more pages=%p → notices %j', (hasMore, notices) => {
    expect(mdsoErrorsFrame('E', [makeMdsoError(), makeMdsoError()], ONLY_SELF, hasMore).meta?.notices).toEqual(notices);
  });
});

describe('mdsoSummaryFrames', () => {
  const summary: MdsoSummaryResponse = {
    fromMs: 1700000000000,
    toMs: 1700000180000,
    stepSeconds: 60,
    groupBy: 'defect_code',
    bucketStartsMs: [1700000000000, 1700000060000, 1700000120000],
    total: 6,
    series: [
      { key: 'DE-0042', total: 4, counts: [1, 0, 3] },
      { key: 'uncategorized', total: 2, counts: [0, 2, 0] },
    ],
  };
  const frames = mdsoSummaryFrames('S', summary);

  it('makes one time series per group with the group as label and display name', () => {
    expect(frames.map((f) => f.name)).toEqual(['DE-0042', 'uncategorized']);
    const [time, errors] = frames[0].fields;
    expect(frames[0].meta?.type).toBe(DataFrameType.TimeSeriesMulti);
    expect([time.name, time.type, time.config.interval]).toEqual(['time', FieldType.time, 60_000]);
    expect(time.values).toEqual(summary.bucketStartsMs);
    expect([errors.type, errors.values, errors.labels, errors.config.displayNameFromDS]).toEqual([
      FieldType.number,
      [1, 0, 3],
      { defect_code: 'DE-0042' },
      'DE-0042',
    ]);
  });

  it('returns no frames for no series', () => {
    expect(mdsoSummaryFrames('S', { ...summary, series: [] })).toEqual([]);
  });
});

describe('mdsoIssuesFrame', () => {
  it('lists issues with state, counts and first/last seen as times', () => {
    const frame = mdsoIssuesFrame('I', [makeMdsoIssue({ assignee: 'ops', defectCode: null })]);
    expect(frame.fields.map((f) => f.name)).toEqual([
      'id',
      'state',
      'title',
      'defectCode',
      'product',
      'system',
      'count',
      'circuitCount',
      'assignee',
      'firstSeen',
      'lastSeen',
      'stateChanged',
    ]);
    expect(frame.fields.filter((f) => f.type === FieldType.time).map((f) => f.name)).toEqual([
      'firstSeen',
      'lastSeen',
      'stateChanged',
    ]);
    expect(new DataFrameView(frame).get(0)).toMatchObject({
      state: 'new',
      count: 7,
      circuitCount: 3,
      assignee: 'ops',
      defectCode: 'uncategorized',
    });
  });
});
