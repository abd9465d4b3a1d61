import { DataFrameView } from '@grafana/data';
import { makeMdsoError, makeMdsoIssue } from '../test/fixtures';
import { failureAnnotationsFrame, issueAnnotationsFrame } from './annotationFrames';

describe('failureAnnotationsFrame', () => {
  it.each([
    [
      'a categorised failure on a circuit',
      makeMdsoError(),
      {
        time: 1700000000500,
        title: 'ServiceMapper failed: DE-0042 (NSO timeout)',
        text: 'Timeout talking to NSO\nCircuit CKT-1',
        tags: ['mdso', 'ServiceMapper', 'DE-0042', 'NSO', 'circuit:CKT-1'],
      },
    ],
    [
      'an uncategorised failure without circuit',
      makeMdsoError({ defectCode: null, defectTitle: null, system: null, circuitId: null }),
      {
        title: 'ServiceMapper failed: uncategorized',
        text: 'Timeout talking to NSO',
        tags: ['mdso', 'ServiceMapper', 'uncategorized'],
      },
    ],
  ])('%s', (_name, error, expected) => {
    const frame = failureAnnotationsFrame('An', [error]);
    expect(frame.fields.map((f) => f.name)).toEqual(['time', 'title', 'text', 'tags']);
    expect(new DataFrameView(frame).get(0)).toMatchObject(expected);
  });
});

describe('issueAnnotationsFrame', () => {
  const range = { from: 1700000000000, to: 1700001000000 };
  it.each([
    ['a new issue at its first sighting', makeMdsoIssue(), [[1700000000500, 'New issue: NSO timeout']]],
    [
      'a regressed issue at its state change',
      makeMdsoIssue({ state: 'regressed', firstSeenMs: 1600000000000, stateChangedMs: 1700000500000 }),
      [[1700000500000, 'Regressed issue: NSO timeout']],
    ],
    ['a new issue before the range', makeMdsoIssue({ firstSeenMs: 1600000000000 }), []],
    ['an acknowledged issue', makeMdsoIssue({ state: 'acknowledged' }), []],
  ])('%s', (_name, issue, expected) => {
    const rows = new DataFrameView(issueAnnotationsFrame('An', [issue], range)).toArray();
    expect(rows.map((r) => [r.time, r.title])).toEqual(expected);
  });

  it('sorts by time and describes counts', () => {
    const frame = issueAnnotationsFrame(
      'An',
      [makeMdsoIssue({ id: 'b', firstSeenMs: 1700000900000 }), makeMdsoIssue({ id: 'a', firstSeenMs: 1700000100000 })],
      range
    );
    const rows = new DataFrameView(frame).toArray();
    expect(rows.map((r) => r.time)).toEqual([1700000100000, 1700000900000]);
    expect(rows[0].text).toBe('DE-0042 · ServiceMapper · 7 errors on 3 circuits');
    expect(rows[0].tags).toEqual(['mdso', 'new', 'ServiceMapper', 'DE-0042']);
  });
});
