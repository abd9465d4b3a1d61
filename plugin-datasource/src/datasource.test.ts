import { lastValueFrom, toArray } from 'rxjs';
import type { DataQueryResponse } from '@grafana/data';
import { CorrelatorDataSource } from './datasource';
import { TRACE_A, makeCircuit, makeCorrelation, makeLog, makeResource, makeSpan } from './test/fixtures';
import {
  FakeBackendSrv,
  RANGE_FROM,
  RANGE_TO,
  fakeDataSourceSrv,
  fakeTemplateSrv,
  instanceSettings,
  request,
  type FakeAnswer,
} from './test/fakes';
import type { CorrelatorQuery } from './types';

function setup(answers: Record<string, FakeAnswer>, vars: Record<string, string> = {}) {
  const backend = new FakeBackendSrv(answers);
  const ds = new CorrelatorDataSource(
    instanceSettings({ tempoDatasourceUid: 'tempo-uid' }),
    backend,
    fakeTemplateSrv(vars),
    fakeDataSourceSrv
  );
  return { backend, ds };
}

async function run(ds: CorrelatorDataSource, targets: CorrelatorQuery[], scopedVars = {}) {
  const packets: DataQueryResponse[] = await lastValueFrom(ds.query(request(targets, scopedVars)).pipe(toArray()));
  return new Map(packets.map((p) => [p.key, p]));
}

const circuitList = { data: { circuits: [makeCircuit()] } };
const stitched = {
  data: {
    circuitId: 'CKT-1',
    traceIds: [TRACE_A],
    spans: [makeSpan()],
    resources: [makeResource()],
    bridges: [],
    spanCount: 1,
    truncated: false,
  },
};

describe('CorrelatorDataSource.query', () => {
  it.each([
    ['circuitSearch', '/api/circuits', { circuits: [makeCircuit()] }],
    ['correlations', '/api/correlations', { correlations: [makeCorrelation()] }],
    ['logs', '/api/logs', { logs: [makeLog()] }],
  ] as const)("%s: a list the correlator cut at the limit carries a warning notice", async (queryType, path, list) => {
    for (const truncated of [true, false]) {
      const { ds } = setup({ [path]: { data: { ...list, truncated } } });
      const packets = await run(ds, [{ refId: 'A', queryType }]);
      const notices = packets.get('A')?.data[0].meta?.notices ?? [];
      expect(notices.map((n: { severity: string }) => n.severity)).toEqual(truncated ? ['warning'] : []);
    }
  });

  it('sends the dashboard range as epoch milliseconds and the interpolated filters', async () => {
    const { backend, ds } = setup({ '/api/circuits': circuitList }, { svc: 'mdso' });
    await run(ds, [{ refId: 'A', queryType: 'circuitSearch', query: 'CKT', service: '$svc', status: 'error' }]);
    const [params] = backend.paramsOf('/api/circuits');
    expect(Object.fromEntries(params)).toEqual({
      query: 'CKT',
      service: 'mdso',
      status: 'error',
      from: String(RANGE_FROM),
      to: String(RANGE_TO),
      limit: '100',
    });
  });

  it('sends a logs query\'s least severity, its variable replaced', async () => {
    const { backend, ds } = setup({ '/api/logs': { data: { logs: [makeLog()] } } }, { level: 'error' });
    await run(ds, [{ refId: 'A', queryType: 'logs', circuitId: 'CKT-1', minSeverity: '$level' }]);
    const [params] = backend.paramsOf('/api/logs');
    expect(Object.fromEntries(params)).toMatchObject({ circuit_id: 'CKT-1', min_severity: 'error' });
  });

  it("sends the dashboard range with a circuit's stitched trace only when the query asks for it", async () => {
    const { backend, ds } = setup({ '/api/circuits/CKT-1/trace': stitched });
    await run(ds, [
      { refId: 'A', queryType: 'circuitTrace', query: 'CKT-1', limit: 500 },
      { refId: 'B', queryType: 'circuitTrace', query: 'CKT-1', inTimeRange: true },
    ]);
    const sent = backend.paramsOf('/api/circuits/CKT-1/trace').map((p) => Object.fromEntries(p));
    expect(sent).toEqual(
      expect.arrayContaining([{ limit: '500' }, { from: String(RANGE_FROM), to: String(RANGE_TO) }])
    );
    expect(sent).toHaveLength(2);
  });

  it("says of a cut stitched trace whether its count of traces is the circuit's or the time range's", async () => {
    const cut = { data: { ...stitched.data, tracesTruncated: true, traceCount: 40 } };
    const { ds } = setup({ '/api/circuits/CKT-1/trace': cut });
    const byKey = await run(ds, [
      { refId: 'A', queryType: 'circuitTrace', query: 'CKT-1' },
      { refId: 'B', queryType: 'circuitTrace', query: 'CKT-1', inTimeRange: true },
    ]);
    const texts = (refId: string) =>
      (byKey.get(refId)?.data[0].meta?.notices ?? []).map((n: { text: string }) => n.text);
    expect(texts('A')).toEqual([
      'Showing the 1 most recent of 40 traces of the circuit: a narrower time range shows older ones.',
    ]);
    expect(texts('B')).toEqual([
      "Showing the 1 most recent of the circuit's 40 traces in the time range: a narrower time range shows older ones.",
    ]);
  });

  it('prefers scoped variables (repeated panels) over dashboard ones', async () => {
    const { backend, ds } = setup({ '/api/circuits/CKT-9/trace': stitched }, { circuit: 'CKT-1' });
    await run(ds, [{ refId: 'A', queryType: 'circuitTrace', query: '$circuit' }], {
      circuit: { text: 'CKT-9', value: 'CKT-9' },
    });
    expect(backend.paramsOf('/api/circuits/CKT-9/trace')).toHaveLength(1);
  });

  it('returns each query under its refId and keeps going when one fails', async () => {
    const { ds } = setup({
      '/api/circuits': circuitList,
      '/api/logs': {
        status: 400,
        data: { statusCode: 400, error: 'Bad Request', code: 'CORR_ERR_BAD_TIME', message: 'from must be before to' },
      },
      '/api/circuits/CKT-1/trace': stitched,
    });
    const byKey = await run(ds, [
      { refId: 'A', queryType: 'circuitSearch' },
      { refId: 'B', queryType: 'logs', circuitId: 'CKT-1' },
      { refId: 'C', queryType: 'circuitTrace', query: 'CKT-1' },
    ]);
    expect(byKey.get('A')?.data[0].name).toBe('Circuits');
    expect(byKey.get('C')?.data[0].meta.preferredVisualisationType).toBe('trace');
    expect(byKey.get('B')?.data).toEqual([]);
    expect(byKey.get('B')?.errors).toEqual([
      { refId: 'B', message: 'from must be before to (CORR_ERR_BAD_TIME, HTTP 400)' },
    ]);
  });

  it('asks for a bare trace id as a trace', async () => {
    const detail = {
      summary: {
        traceId: TRACE_A,
        rootService: 'beorn',
        rootName: 'x',
        services: [],
        spanCount: 1,
        errorCount: 0,
        logCount: 0,
        errorLogCount: 0,
        startTimeMs: 0,
        endTimeMs: 1,
        durationMs: 1,
        circuitIds: [],
      },
      spans: [makeSpan()],
      resources: [makeResource()],
      correlations: [],
      bridges: [],
      linksOut: [],
      linksIn: [],
    };
    const { backend, ds } = setup({ [`/api/traces/${TRACE_A}`]: { data: detail } });
    const byKey = await run(ds, [{ refId: 'A', queryType: 'circuitTrace', query: TRACE_A.toUpperCase() }]);
    expect(byKey.get('A')?.data[0].meta.custom).toEqual({ traceId: TRACE_A, circuitIds: [] });
    expect(backend.urls).toEqual([`/api/datasources/proxy/uid/corr-uid/api/traces/${TRACE_A}`]);
  });

  it('falls back to a circuit when a trace-shaped id is no known trace', async () => {
    const { backend, ds } = setup({ [`/api/circuits/${TRACE_A}/trace`]: stitched });
    const byKey = await run(ds, [{ refId: 'A', queryType: 'circuitTrace', query: TRACE_A }]);
    expect(byKey.get('A')?.errors).toBeUndefined();
    expect(backend.urls.map((u) => u.split('/api/datasources/proxy/uid/corr-uid')[1])).toEqual([
      `/api/traces/${TRACE_A}`,
      `/api/circuits/${TRACE_A}/trace`,
    ]);
  });

  it('treats a query without a type but with a trace id as a trace query (followed span link)', async () => {
    const { backend, ds } = setup({ '/api/circuits/CKT-1/trace': stitched });
    await run(ds, [{ refId: 'A', query: 'CKT-1' } as unknown as CorrelatorQuery]);
    expect(backend.paramsOf('/api/circuits/CKT-1/trace')).toHaveLength(1);
  });

  it('encodes circuit ids with reserved characters as one path segment', async () => {
    const { backend, ds } = setup({});
    await run(ds, [{ refId: 'A', queryType: 'circuitTrace', query: 'a/b c' }]);
    expect(backend.urls[0]).toBe('/api/datasources/proxy/uid/corr-uid/api/circuits/a%2Fb%20c/trace');
  });

  it('skips hidden queries and trace queries without an id', async () => {
    const { backend, ds } = setup({ '/api/circuits': circuitList });
    const byKey = await run(ds, [
      { refId: 'A', queryType: 'circuitTrace', query: '  ' },
      { refId: 'B', queryType: 'circuitSearch', hide: true },
    ]);
    expect(backend.urls).toEqual([]);
    expect([...byKey.values()]).toEqual([{ data: [] }]);
  });

  it('links log lines to the configured Tempo datasource by name', async () => {
    const { ds } = setup({ '/api/logs': { data: { logs: [makeLog()] } } });
    const byKey = await run(ds, [{ refId: 'A', queryType: 'logs', traceId: TRACE_A }]);
    const traceField = byKey.get('A')?.data[0].fields.find((f: { name: string }) => f.name === 'traceID');
    expect(traceField.config.links[1].internal).toMatchObject({ datasourceUid: 'tempo-uid', datasourceName: 'Tempo' });
  });
});

describe('CorrelatorDataSource.interpolateVariablesInQueries', () => {
  it('replaces variables in text fields only', () => {
    const { ds } = setup({}, { circuit: 'CKT-7', kind: 'logs' });
    const [query] = ds.interpolateVariablesInQueries(
      [{ refId: 'A', queryType: 'logs', circuitId: '$circuit', search: 'x ${circuit}' }],
      {}
    );
    expect(query).toEqual({ refId: 'A', queryType: 'logs', circuitId: 'CKT-7', search: 'x CKT-7' });
  });
});

describe('CorrelatorDataSource.variableValues', () => {
  it('lists distinct sorted circuit ids over the default lookback when there is no range', async () => {
    const { backend, ds } = setup({
      '/api/circuits': {
        data: {
          circuits: [makeCircuit({ circuitId: 'B' }), makeCircuit({ circuitId: 'A' }), makeCircuit({ circuitId: 'B' })],
        },
      },
    });
    expect(await ds.variableValues({ refId: 'v', kind: 'circuits' })).toEqual(['A', 'B']);
    const [params] = backend.paramsOf('/api/circuits');
    expect(Number(params.get('to')) - Number(params.get('from'))).toBe(24 * 3600 * 1000);
  });

  it("lists the services of the dashboard's time range, not the service graph's (drawn from recent traces only)", async () => {
    const { ds, backend } = setup({
      '/api/services': { data: { services: ['mdso', 'arda', 'beorn'] } },
      '/api/service-graph': { data: { nodes: [{ id: 'mdso' }], edges: [], truncated: true } },
    });
    expect(await ds.variableValues({ refId: 'v', kind: 'services' })).toEqual(['arda', 'beorn', 'mdso']);
    const [params] = backend.paramsOf('/api/services');
    expect(Number(params.get('to')) - Number(params.get('from'))).toBe(24 * 3600 * 1000);
  });

  it.each([
    ['products', { '/api/mdso/summary': { data: { series: [{ key: 'Zeta' }, { key: 'Alpha' }] } } }, ['Alpha', 'Zeta']],
    [
      'defectCodes',
      { '/api/mdso/defects': { data: { rules: [{ code: 'DE-0002' }, { code: 'DE-0001' }] } } },
      ['DE-0001', 'DE-0002', 'uncategorized'],
    ],
    ['states', {}, ['new', 'acknowledged', 'regressed', 'resolved', 'ignored']],
  ] as const)('lists MDSO %s', async (kind, answers, values) => {
    const { ds } = setup(answers as Record<string, FakeAnswer>);
    expect(await ds.variableValues({ refId: 'v', kind })).toEqual(values);
  });
});
