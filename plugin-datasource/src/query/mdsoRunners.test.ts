import { CorrelatorClient } from '../api/client';
import { ONLY_SELF, makeMdsoError, makeMdsoIssue } from '../test/fixtures';
import { BASE_URL, FakeBackendSrv, type FakeAnswer } from '../test/fakes';
import type { QueryContext } from './context';
import { annotationsRunner, mdsoErrorsRunner, mdsoIssuesRunner, stepSeconds } from './mdsoRunners';

function context(answers: Record<string, FakeAnswer>, intervalMs = 60_000) {
  const backend = new FakeBackendSrv(answers);
  const ctx: QueryContext = {
    client: new CorrelatorClient(BASE_URL, backend),
    range: { from: 1700000000000, to: 1700001000000 },
    intervalMs,
    targets: ONLY_SELF,
  };
  return { backend, ctx };
}

const summary = {
  fromMs: 0,
  toMs: 1,
  stepSeconds: 30,
  groupBy: 'system',
  bucketStartsMs: [0],
  total: 1,
  series: [{ key: 'NSO', total: 1, counts: [1] }],
};

describe('stepSeconds', () => {
  it.each([
    [60_000, 60],
    [15_000, 15],
    [100, 1],
    [1e12, 31_536_000],
  ])('interval %d ms → %d s', (intervalMs, step) => {
    expect(stepSeconds(intervalMs)).toBe(step);
  });
});

describe('mdsoErrorsRunner', () => {
  it('asks for counts at the panel interval, grouped as chosen', async () => {
    const { backend, ctx } = context({ '/api/mdso/summary': { data: summary } }, 30_000);
    const frames = await mdsoErrorsRunner(
      { refId: 'A', queryType: 'mdsoErrors', format: 'counts', groupBy: 'system' },
      ctx
    );
    expect(frames.map((f) => f.name)).toEqual(['NSO']);
    expect(Object.fromEntries(backend.paramsOf('/api/mdso/summary')[0])).toEqual({
      from: '1700000000000',
      to: '1700001000000',
      step: '30',
      group_by: 'system',
    });
  });

  it('lists records with every filter and caps the limit at the correlator maximum', async () => {
    const { backend, ctx } = context({ '/api/mdso/errors': { data: { errors: [makeMdsoError()], nextCursor: null } } });
    await mdsoErrorsRunner(
      {
        refId: 'A',
        queryType: 'mdsoErrors',
        format: 'records',
        product: 'P',
        defect: 'DE-0001',
        state: 'new',
        circuitId: 'C',
        limit: 5000,
      },
      ctx
    );
    expect(Object.fromEntries(backend.paramsOf('/api/mdso/errors')[0])).toMatchObject({
      product: 'P',
      defect: 'DE-0001',
      state: 'new',
      circuit_id: 'C',
      limit: '1000',
    });
  });

  it('refuses an unknown state before asking the correlator', async () => {
    const { backend, ctx } = context({});
    await expect(
      mdsoErrorsRunner({ refId: 'A', queryType: 'mdsoErrors', format: 'records', state: 'open' }, ctx)
    ).rejects.toThrow('Unknown issue state "open".');
    expect(backend.urls).toEqual([]);
  });
});

describe('mdsoIssuesRunner', () => {
  it('returns the issues table', async () => {
    const { ctx } = context({ '/api/mdso/issues': { data: { issues: [makeMdsoIssue()] } } });
    const [frame] = await mdsoIssuesRunner({ refId: 'A', queryType: 'mdsoIssues', state: 'new' }, ctx);
    expect(frame.name).toBe('MDSO issues');
    expect(frame.length).toBe(1);
  });
});

describe('annotationsRunner', () => {
  it('asks for new and regressed issues for issue annotations', async () => {
    const { backend, ctx } = context({ '/api/mdso/issues': { data: { issues: [makeMdsoIssue()] } } });
    await annotationsRunner({ refId: 'An', queryType: 'annotations', source: 'mdsoIssues', product: 'P' }, ctx);
    expect(backend.paramsOf('/api/mdso/issues').map((p) => [p.get('state'), p.get('product')])).toEqual([
      ['new', 'P'],
      ['regressed', 'P'],
    ]);
  });

  it('marks failures in the range', async () => {
    const { backend, ctx } = context({ '/api/mdso/errors': { data: { errors: [makeMdsoError()], nextCursor: null } } });
    const [frame] = await annotationsRunner(
      { refId: 'An', queryType: 'annotations', source: 'mdsoFailures', circuitId: 'CKT-1' },
      ctx
    );
    expect(frame.fields.map((f) => f.name)).toEqual(['time', 'title', 'text', 'tags']);
    expect(backend.paramsOf('/api/mdso/errors')[0].get('circuit_id')).toBe('CKT-1');
  });
});
