/**
 * @jest-environment ./jest/jsdom-with-fetch-environment.js
 */
import { createServer, type Server } from 'node:http';
import {
  dateTime,
  DataFrameView,
  type DataFrame,
  type DataQueryRequest,
  type DataQueryResponse,
  type TraceSpanRow,
} from '@grafana/data';
import { lastValueFrom, toArray } from 'rxjs';
import { CorrelatorDataSource } from '../datasource';
import { fakeDataSourceSrv, fakeTemplateSrv } from '../test/fakes';
import type { CorrelatorJsonData, CorrelatorQuery } from '../types';
import { correlatorBuilt, freePort, SERVER_JS, startCorrelator, type RunningCorrelator } from './correlatorProcess';
import { demoCircuit, linkedPairTraces, loadDemoCircuit, post } from './demoCircuit';
import { FetchBackendSrv, PROXY_PREFIX } from './fetchBackendSrv';

jest.setTimeout(60_000);

const built = correlatorBuilt();
if (!built) {
  console.warn(
    `Skipping the correlator integration test: ${SERVER_JS} does not exist. Build first: cd /work/main && npm run build`
  );
}
const describeWithCorrelator = built ? describe : describe.skip;

function datasource(upstream: string, proxyHeaders: Record<string, string> = {}, jsonData: CorrelatorJsonData = {}) {
  return new CorrelatorDataSource(
    {
      id: 1,
      uid: 'it-uid',
      type: 'seefa-correlation-datasource',
      name: 'Correlation Station',
      url: PROXY_PREFIX,
      access: 'proxy',
      jsonData,
      readOnly: false,
      meta: {} as never,
    },
    new FetchBackendSrv(upstream, proxyHeaders),
    fakeTemplateSrv({ circuit: '' }),
    fakeDataSourceSrv
  );
}

function request(targets: CorrelatorQuery[], fromMs: number, toMs: number): DataQueryRequest<CorrelatorQuery> {
  const from = dateTime(fromMs);
  const to = dateTime(toMs);
  return {
    requestId: 'it',
    interval: '1m',
    intervalMs: 60_000,
    range: { from, to, raw: { from, to } },
    scopedVars: {},
    targets,
    timezone: 'utc',
    app: 'explore',
    startTime: fromMs,
  };
}

function field(frame: DataFrame, name: string): unknown[] {
  const found = frame.fields.find((f) => f.name === name);
  if (!found) {
    throw new Error(`frame ${frame.name} has no field ${name}`);
  }
  return found.values;
}

describeWithCorrelator('datasource against a real correlator', () => {
  let correlator: RunningCorrelator;
  const demo = demoCircuit();
  const startMs = Date.now() - 60_000;
  // Not containing the demo's id: the circuit variable's filter matches parts of ids.
  const linkedCircuitId = demo.circuitId.replace('CKT-IT-', 'CKT-LNK-');
  let byRefId: Map<string | undefined, DataQueryResponse>;

  beforeAll(async () => {
    correlator = await startCorrelator();
    await loadDemoCircuit(correlator.baseUrl, demo, startMs);
    // Acknowledged means stored (the correlator answers after its write), so the graph sees it.
    await post(correlator.baseUrl, '/v1/traces', linkedPairTraces(linkedCircuitId, startMs).body, {});
    const ds = datasource(correlator.baseUrl, {}, { tempoDatasourceUid: 'tempo-uid' });
    const targets: CorrelatorQuery[] = [
      { refId: 'search', queryType: 'circuitSearch', query: demo.circuitId },
      { refId: 'stitched', queryType: 'circuitTrace', query: demo.circuitId },
      { refId: 'oneTrace', queryType: 'circuitTrace', query: demo.traceIds.mdso },
      { refId: 'logs', queryType: 'logs', circuitId: demo.circuitId },
      { refId: 'correlations', queryType: 'correlations', circuitId: demo.circuitId },
      { refId: 'graph', queryType: 'serviceGraph', circuitId: demo.circuitId },
      { refId: 'linkedGraph', queryType: 'serviceGraph', circuitId: linkedCircuitId },
      { refId: 'mdsoCounts', queryType: 'mdsoErrors', format: 'counts', groupBy: 'product' },
      { refId: 'issues', queryType: 'mdsoIssues' },
      { refId: 'broken', queryType: 'logs', traceId: 'not-a-trace-id' },
    ];
    const packets = await lastValueFrom(
      ds.query(request(targets, startMs - 60_000, Date.now() + 60_000)).pipe(toArray())
    );
    byRefId = new Map(packets.map((p) => [p.key, p]));
  });

  afterAll(async () => {
    await correlator?.stop();
  });

  it('answers every query, each under its own refId', () => {
    expect([...byRefId.keys()].sort()).toEqual(
      ['broken', 'correlations', 'graph', 'issues', 'linkedGraph', 'logs', 'mdsoCounts', 'oneTrace', 'search', 'stitched'].sort()
    );
  });

  it('returns the failing query as an error without hiding the others', () => {
    const broken = byRefId.get('broken');
    expect(broken?.data).toEqual([]);
    expect(broken?.errors?.[0]).toMatchObject({ refId: 'broken', message: expect.stringContaining('HTTP 400') });
    for (const [key, packet] of byRefId) {
      if (key !== 'broken') {
        expect({ key, errors: packet.errors }).toEqual({ key, errors: undefined });
      }
    }
  });

  it('finds the circuit with its services, traces, error and bridges', () => {
    const [frame] = byRefId.get('search')!.data as DataFrame[];
    const [row] = new DataFrameView(frame).toArray();
    expect(row).toMatchObject({
      circuitId: demo.circuitId,
      status: 'error',
      traceCount: 3,
      spanCount: 5,
      errorCount: 1,
      bridged: true,
    });
    expect(row.services.split(', ').sort()).toEqual(['arda', 'beorn', 'mdso']);
  });

  it('stitches every span of the three traces plus the bridge spans into one trace frame', () => {
    const [frame] = byRefId.get('stitched')!.data as DataFrame[];
    expect(frame.meta?.preferredVisualisationType).toBe('trace');
    const rows = new DataFrameView<TraceSpanRow>(frame).toArray();
    const ids = demo.traceIds;
    expect(new Set(rows.map((r) => r.traceID))).toEqual(new Set([ids.beorn, ids.mdso, ids.arda]));
    const synthetic = rows.filter((r) => r.tags?.some((t) => t.key === 'correlator.synthetic'));
    expect(rows).toHaveLength(5 + synthetic.length);
    expect(synthetic.length).toBeGreaterThanOrEqual(2);
    for (const bridge of synthetic) {
      expect(bridge.warnings?.[0]).toMatch(/^Synthetic bridge made by the correlator/);
    }
    // The entry spans of the later traces hang under the bridge that joined them: Grafana parents a
    // span without parent on its first reference.
    const bridgeIds = new Set(synthetic.map((b) => b.spanID));
    for (const traceId of [ids.mdso, ids.arda]) {
      const entry = rows.find((r) => r.traceID === traceId && !r.parentSpanID);
      expect(bridgeIds.has(entry?.references?.[0]?.spanID ?? '')).toBe(true);
    }
    const failing = rows.find((r) => r.spanID === demo.errorSpanId);
    expect(failing?.statusCode).toBe(2);
    expect(failing?.tags).toContainEqual({ key: 'error', value: true });
  });

  it('shows one trace when the query is a bare trace id (a followed span link)', () => {
    const [frame] = byRefId.get('oneTrace')!.data as DataFrame[];
    expect(frame.meta?.custom).toMatchObject({ traceId: demo.traceIds.mdso, circuitIds: [demo.circuitId] });
    const traceIds = new Set(field(frame, 'traceID'));
    expect(traceIds.has(demo.traceIds.mdso)).toBe(true);
    expect(field(frame, 'spanID')).toContain(demo.errorSpanId);
  });

  it('returns the circuit logs as a logs frame linked to the trace', () => {
    const [frame] = byRefId.get('logs')!.data as DataFrame[];
    expect(frame.meta?.type).toBe('log-lines');
    expect([...field(frame, 'body')].sort()).toEqual(
      ['activation requested', 'activation started', 'NSO timeout while activating', 'port provisioned'].sort()
    );
    expect(new Set(field(frame, 'traceID'))).toEqual(new Set(Object.values(demo.traceIds)));
    const links = frame.fields.find((f) => f.name === 'traceID')?.config.links ?? [];
    expect(links.map((l) => l.internal?.datasourceUid)).toEqual(['it-uid', 'tempo-uid']);
  });

  it('lists the circuit_id correlation', () => {
    const [frame] = byRefId.get('correlations')!.data as DataFrame[];
    const rows = new DataFrameView(frame).toArray();
    expect(rows).toContainEqual(
      expect.objectContaining({ method: 'circuit_id_match', key: 'circuit_id', value: demo.circuitId })
    );
  });

  it('draws the service graph with bridged edges marked', () => {
    const [nodes, edges] = byRefId.get('graph')!.data as DataFrame[];
    expect([...field(nodes, 'id')].sort()).toEqual(['arda', 'beorn', 'mdso']);
    const edgeRows = new DataFrameView(edges)
      .toArray()
      .map((e) => [e.source, e.target, e.detail__bridged, e.strokedasharray]);
    expect(edgeRows).toEqual(
      expect.arrayContaining([
        ['beorn', 'mdso', true, '6 4'],
        ['mdso', 'arda', true, '6 4'],
      ])
    );
  });

  it('draws a span link as its own dotted purple hop', () => {
    const [nodes, edges] = byRefId.get('linkedGraph')!.data as DataFrame[];
    expect([...field(nodes, 'id')].sort()).toEqual(['arda', 'beorn']);
    const linked = new DataFrameView(edges)
      .toArray()
      .filter((e) => e.detail__linked)
      .map((e) => [e.source, e.target, e.color, e.strokedasharray]);
    expect(linked).toEqual([['beorn', 'arda', 'purple', '2 4']]);
  });

  it('answers the MDSO queries (no MDSO data in this correlator)', () => {
    expect(byRefId.get('mdsoCounts')?.data).toEqual([]);
    const [issues] = byRefId.get('issues')!.data as DataFrame[];
    expect(issues.length).toBe(0);
  });

  it('Save & test reports the correlator and its API version', async () => {
    const outcome = await datasource(correlator.baseUrl).testDatasource();
    expect(outcome).toMatchObject({
      status: 'success',
      message: expect.stringMatching(/^Connected to the correlator .* \(API v1, auth: none/),
    });
  });

  it('fills circuit and service variables', async () => {
    const ds = datasource(correlator.baseUrl);
    expect(await ds.variableValues({ refId: 'v', kind: 'circuits', filter: demo.circuitId })).toEqual([demo.circuitId]);
    expect(await ds.variableValues({ refId: 'v', kind: 'services' })).toEqual(['arda', 'beorn', 'mdso']);
  });
});

describeWithCorrelator('Save & test diagnoses', () => {
  const TOKEN = 'integration-test-token-0123456789';
  let secured: RunningCorrelator;
  let html: Server;
  let htmlUrl: string;

  beforeAll(async () => {
    secured = await startCorrelator({ AUTH_MODE: 'bearer', AUTH_TOKEN: TOKEN });
    html = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html><body>Some other app</body></html>');
    });
    await new Promise<void>((done) => html.listen(0, '127.0.0.1', done));
    const address = html.address();
    htmlUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });

  afterAll(async () => {
    await secured?.stop();
    await new Promise<void>((done) => (html ? html.close(() => done()) : done()));
  });

  it('auth refused without the bearer token', async () => {
    expect(await datasource(secured.baseUrl).testDatasource()).toMatchObject({
      status: 'error',
      message: expect.stringMatching(/^Auth refused \(HTTP 401\)/),
    });
  });

  it('success with the token the data proxy adds', async () => {
    const outcome = await datasource(secured.baseUrl, { Authorization: `Bearer ${TOKEN}` }).testDatasource();
    expect(outcome).toMatchObject({ status: 'success', message: expect.stringContaining('auth: bearer') });
  });

  it('wrong service for another HTTP server', async () => {
    expect(await datasource(htmlUrl).testDatasource()).toMatchObject({
      status: 'error',
      message: expect.stringMatching(/^Wrong service/),
    });
  });

  it('unreachable when nothing listens', async () => {
    const port = await freePort();
    expect(await datasource(`http://127.0.0.1:${port}`).testDatasource()).toMatchObject({
      status: 'error',
      message: expect.stringMatching(/^Unreachable: .*\(HTTP 502\)/),
    });
  });
});
