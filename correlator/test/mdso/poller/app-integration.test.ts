// The MDSO feature inside the real correlator app: the poller's spans land in the stitched circuit
// view, its routes are in the OpenAPI document and its metrics on /metrics.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../../src/app.js';
import { loadConfig } from '../../../src/config/config.js';
import { SIM_PASS, SIM_USER, startSim, until, type RunningSim } from './harness.js';

const SM = 'charter.resourceTypes.ServiceMapper';

/**
 * The correlator app polling a simulator of one product, for a suite: started before its tests,
 * closed and its data directory removed after them.
 */
function appPollingSimulator(seed: number, resourcesPerProduct: number): { readonly sim: RunningSim; readonly app: FastifyInstance } {
  let sim: RunningSim | undefined;
  let app: FastifyInstance | undefined;
  let dir: string | undefined;
  before(async () => {
    sim = await startSim({ seed, resourcesPerProduct, failureRate: 0.3, products: [SM] });
    dir = mkdtempSync(join(tmpdir(), 'mdso-app-'));
    const config = loadConfig({
      DATA_DIR: dir,
      LOG_LEVEL: 'silent',
      MDSO_URL: sim.url,
      MDSO_USER: SIM_USER,
      MDSO_PASS: SIM_PASS,
      MDSO_PRODUCTS: 'ServiceMapper',
      MDSO_POLL_INTERVAL_SECONDS: '3600',
      MDSO_INITIAL_LOOKBACK_HOURS: '48',
    });
    app = await buildApp({ config });
    await app.ready();
  });
  after(async () => {
    await app?.close();
    await sim?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return {
    get sim() {
      return sim!;
    },
    get app() {
      return app!;
    },
  };
}

void describe('MDSO poller in the correlator app', () => {
  const running = appPollingSimulator(17, 40);

  void it('polls on start and puts each failure into the stitched circuit view as MDSO spans', async () => {
    const { app, sim } = running;
    const lastPoll = await until(async () => {
      const res = await app.inject({ url: '/api/mdso/status' });
      const body = res.json() as { lastPoll: { outcome: string } | null };
      return body.lastPoll && body.lastPoll.outcome !== 'running' ? body.lastPoll : null;
    }, 'the first poll');
    assert.equal(lastPoll.outcome, 'ok');

    const failed = sim.app.mdsoSim.store.search({ exactTypeId: SM, q: 'orchState:failed' });
    const withTrace = failed.find(r => sim.app.mdsoSim.store.dependenciesOf(r.id, false).some(d => d.resourceTypeId === 'tosca.resourceTypes.TraceLog'))!;
    const res = await app.inject({ url: `/api/circuits/${encodeURIComponent(withTrace.label)}/trace` });
    assert.equal(res.statusCode, 200, res.body);
    const view = res.json() as { spans: Array<{ name: string; serviceName: string; spanId: string; parentSpanId?: string | null; status: { code: string } | string }> };
    const mdso = view.spans.filter(s => s.serviceName === 'mdso');
    const root = mdso.find(s => s.name === 'mdso.product.ServiceMapper');
    assert.ok(root, `a parent span in ${JSON.stringify(view.spans.map(s => s.name))}`);
    assert.ok(mdso.some(s => s.parentSpanId === root.spanId), 'step spans under the parent');

    const errors = await app.inject({ url: `/api/mdso/errors?circuit_id=${encodeURIComponent(withTrace.label)}` });
    assert.equal(errors.statusCode, 200, errors.body);

    // A SENSE call for the same circuit, just before MDSO started: W3C context does not cross MDSO,
    // so only a bridge joins the two traces.
    const traceLog = sim.app.mdsoSim.store.dependenciesOf(withTrace.id, false).find(d => d.resourceTypeId === 'tosca.resourceTypes.TraceLog')!;
    const mdsoStartMs = (traceLog.properties['start_time_sec'] as number) * 1000;
    const nanos = (ms: number) => (BigInt(ms) * 1_000_000n).toString();
    const sense = await app.inject({
      method: 'POST',
      url: '/v1/traces',
      headers: { 'content-type': 'application/json' },
      payload: {
        resourceSpans: [
          {
            resource: { attributes: [{ key: 'service.name', value: { stringValue: 'beorn' } }] },
            scopeSpans: [
              {
                scope: { name: 'test' },
                spans: [
                  {
                    traceId: '0af7651916cd43dd8448eb211c80319c',
                    spanId: 'b7ad6b7169203331',
                    name: 'POST /beorn/api/v1/service/create',
                    kind: 2,
                    startTimeUnixNano: nanos(mdsoStartMs - 2000),
                    endTimeUnixNano: nanos(mdsoStartMs + 500),
                    attributes: [{ key: 'circuit_id', value: { stringValue: withTrace.label } }],
                    status: { code: 1 },
                  },
                ],
              },
            ],
          },
        ],
      },
    });
    assert.equal(sense.statusCode, 200, sense.body);
    const bridged = await until(async () => {
      const v = (await app.inject({ url: `/api/circuits/${encodeURIComponent(withTrace.label)}/trace` })).json() as {
        bridges: Array<{ parentService: string; childService: string }>;
      };
      return v.bridges.length > 0 ? v.bridges : null;
    }, 'a bridge between beorn and mdso');
    assert.ok(bridged.some(b => b.parentService === 'beorn' && b.childService === 'mdso'), JSON.stringify(bridged));
  });

  void it('lists its routes in the OpenAPI document and its metrics on /metrics', async () => {
    const { app } = running;
    const doc = (await app.inject({ url: '/docs/json' })).json() as { paths: Record<string, unknown> };
    assert.ok(doc.paths['/api/mdso/status'], 'doc.paths[\'/api/mdso/status\']');
    assert.ok(doc.paths['/api/mdso/collect'], 'doc.paths[\'/api/mdso/collect\']');
    const metrics = (await app.inject({ url: '/metrics' })).body;
    assert.match(metrics, /mdso_poll_duration_seconds_count\{outcome="ok"\} 1/);
    assert.match(metrics, /mdso_api_requests_total\{endpoint="\/bpocore\/market\/api\/v1\/resources",status="200"\} \d+/);
    assert.match(metrics, /mdso_poll_lag_seconds \d/);
  });
});

void describe('MDSO poller spans and the OTLP ingest metrics', () => {
  // Dashboards and alerts on otlp_ingest_* watch OTLP clients: the poller's spans (hundreds a poll,
  // re-sent as duplicates by design) must not show up there.
  const running = appPollingSimulator(23, 30);

  const sample = (metrics: string, series: string): number => {
    const line = metrics.split('\n').find(l => l.startsWith(`${series} `));
    return line === undefined ? 0 : Number(line.split(' ').pop());
  };
  const otlpSeries = [
    'otlp_ingest_items_total{signal="traces",outcome="accepted"}',
    'otlp_ingest_items_total{signal="traces",outcome="duplicate"}',
    'otlp_ingest_items_total{signal="traces",outcome="rejected"}',
    'otlp_ingest_requests_total{signal="traces",outcome="ok"}',
    'ingest_batch_duration_seconds_count{signal="traces"}',
  ];

  void it('counts the poller spans as mdso_spans_ingested_total, and only OTLP requests in otlp_ingest_*', async () => {
    const { app, sim } = running;
    const lastPoll = await until(async () => {
      const body = (await app.inject({ url: '/api/mdso/status' })).json() as { lastPoll: { outcome: string; failuresRecorded: number } | null };
      return body.lastPoll && body.lastPoll.outcome !== 'running' ? body.lastPoll : null;
    }, 'the first poll');
    assert.equal(lastPoll.outcome, 'ok');
    assert.ok(lastPoll.failuresRecorded > 0, 'the poll found failures, so it sent spans');

    const afterPoll = (await app.inject({ url: '/metrics' })).body;
    for (const series of otlpSeries) assert.equal(sample(afterPoll, series), 0, `${series} after a poll and no OTLP request`);
    const pollerSpans = sample(afterPoll, 'mdso_spans_ingested_total{outcome="accepted"}');
    assert.ok(pollerSpans >= 2 * lastPoll.failuresRecorded, `a parent and step spans per failure: ${pollerSpans} for ${lastPoll.failuresRecorded} failures`);

    const span = { traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174', name: 'GET /x', kind: 2, startTimeUnixNano: '1700000000000000000', endTimeUnixNano: '1700000000100000000' };
    const request = { resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'client' } }] }, scopeSpans: [{ scope: { name: 't' }, spans: [span] }] }] };
    for (let i = 0; i < 2; i++) {
      const res = await app.inject({ method: 'POST', url: '/v1/traces', headers: { 'content-type': 'application/json' }, payload: request });
      assert.equal(res.statusCode, 200, res.body);
    }
    const failed = sim.app.mdsoSim.store.search({ exactTypeId: SM, q: 'orchState:active' })[0]!;
    assert.equal((await sim.admin('POST', `/__sim/resources/${failed.id}/fail`)).status, 200);
    const second = (await app.inject({ method: 'POST', url: '/api/mdso/collect' })).json() as { poll: { failuresRecorded: number } };
    assert.equal(second.poll.failuresRecorded, 1, JSON.stringify(second));

    const afterClients = (await app.inject({ url: '/metrics' })).body;
    const expected = [1, 1, 0, 2, 2];
    for (const [i, series] of otlpSeries.entries()) assert.equal(sample(afterClients, series), expected[i], `${series}: the two OTLP requests only`);
    assert.ok(sample(afterClients, 'mdso_spans_ingested_total{outcome="accepted"}') > pollerSpans, 'the second poll’s spans are counted as the poller’s');
  });
});
