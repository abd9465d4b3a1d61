// The services of a time range, for the datasource's service variable: all of them, however many
// traces the range holds, where the service graph (drawn from the most recent traces) leaves older
// ones out.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ErrorResponse, ServiceList } from '@correlation-station/api-schema';
import type { FastifyInstance } from 'fastify';
import { buildLogs, buildTraces, logsProtobuf, tracesProtobuf } from '../fixtures/otel-sdk.js';
import { buildTestApp, postAccepted } from './app-fixture.js';

const H = 3_600_000;
const M = 60_000;
/** On the hour. */
const T0 = Date.UTC(2026, 11, 6, 12, 0, 0);

/**
 * beorn at 12:00, arda at 15:10, palantir from 17:50 to 18:10 (two hours), and mdso only through
 * a log of arda's trace at 16:30.
 */
async function ingest(app: FastifyInstance): Promise<void> {
  const built = await buildTraces([
    { service: 'beorn', spans: [{ name: 'POST /activate', startMs: T0 + 1000, endMs: T0 + 2000, attributes: { circuit_id: 'SL-1' } }] },
    { service: 'arda', spans: [{ name: 'configure', startMs: T0 + 3 * H + 10 * M, endMs: T0 + 3 * H + 11 * M }] },
    { service: 'palantir', spans: [{ name: 'watch', startMs: T0 + 5 * H + 50 * M, endMs: T0 + 6 * H + 10 * M }] },
  ]);
  await postAccepted(app, '/v1/traces', tracesProtobuf(built.flatMap(t => t.spans)));
  const arda = built[1]!.spans[0]!.spanContext();
  await postAccepted(app, '/v1/logs', logsProtobuf(await buildLogs('mdso', [{ body: 'plan done', atMs: T0 + 4 * H + 30 * M, traceId: arda.traceId, spanId: arda.spanId }])));
}

async function services(app: FastifyInstance, query: string): Promise<string[]> {
  const res = await app.inject(`/api/services${query}`);
  assert.equal(res.statusCode, 200, res.body);
  return res.json<ServiceList>().services;
}

describe('GET /api/services', () => {
  const ranges: { name: string; from?: number; to?: number; services: string[] }[] = [
    { name: 'no range: every service', services: ['arda', 'beorn', 'mdso', 'palantir'] },
    { name: 'the whole day', from: T0 - H, to: T0 + 8 * H, services: ['arda', 'beorn', 'mdso', 'palantir'] },
    // arda's trace runs from 15:10 to 16:30 through its log: its services count in each hour.
    { name: 'a minute of an hour counts the hour whole', from: T0 + 3 * H + 40 * M, to: T0 + 3 * H + 41 * M, services: ['arda', 'mdso'] },
    { name: 'hours with no data', from: T0 + H, to: T0 + 3 * H - 1, services: [] },
    { name: 'from the last millisecond of an hour', from: T0 + H - 1, to: T0 + H, services: ['beorn'] },
    { name: 'to the first millisecond of an hour', from: T0 + 2 * H, to: T0 + 3 * H, services: ['arda', 'mdso'] },
    { name: "a long trace's second hour", from: T0 + 6 * H + 30 * M, to: T0 + 6 * H + 40 * M, services: ['palantir'] },
  ];
  for (const r of ranges)
    it(`${r.name}: ${r.services.join(', ') || 'none'}`, async t => {
      const app = await buildTestApp(t);
      await ingest(app);
      const params = new URLSearchParams();
      if (r.from !== undefined) params.set('from', String(r.from));
      if (r.to !== undefined) params.set('to', new Date(r.to).toISOString());
      assert.deepEqual(await services(app, params.size > 0 ? `?${params}` : ''), r.services);
    });

  it('lists the services of traces older than those the service graph is drawn from', async t => {
    const app = await buildTestApp(t);
    await ingest(app);
    const graph = await app.correlator.store.serviceGraph({ maxTraces: 1 });
    assert.equal(graph.truncated, true);
    assert.deepEqual(graph.nodes.map(n => n.id), ['palantir']);
    assert.deepEqual(await services(app, ''), ['arda', 'beorn', 'mdso', 'palantir']);
  });

  it('forgets the hours retention removed the traces of', async t => {
    const app = await buildTestApp(t);
    await ingest(app);
    const steps = app.correlator.store.pruneStepwise(T0 + 5 * H);
    while (!steps.next().done);
    assert.deepEqual(await services(app, ''), ['palantir']);
  });

  it('forgets a service as soon as retention removed its traces of an hour, not when the hour ends', async t => {
    const app = await buildTestApp(t);
    const built = await buildTraces([
      { service: 'beorn', spans: [{ name: 'early', startMs: T0 + 10 * M, endMs: T0 + 11 * M }] },
      { service: 'arda', spans: [{ name: 'late', startMs: T0 + 40 * M, endMs: T0 + 41 * M }] },
    ]);
    await postAccepted(app, '/v1/traces', tracesProtobuf(built.flatMap(t => t.spans)));
    const steps = app.correlator.store.pruneStepwise(T0 + 20 * M);
    while (!steps.next().done);
    assert.deepEqual(await services(app, `?from=${T0}&to=${T0 + 30 * M}`), ['arda']);
  });

  it('lists a service known only from logs of no trace, and forgets it with them', async t => {
    const app = await buildTestApp(t);
    await ingest(app);
    const at = T0 + 7 * H + 15 * M;
    const reports = await buildLogs('bpocore', [{ body: 'resource failed', atMs: at, attributes: { circuit_id: 'SL-1' } }]);
    await postAccepted(app, '/v1/logs', logsProtobuf(reports));
    assert.deepEqual(await services(app, ''), ['arda', 'beorn', 'bpocore', 'mdso', 'palantir']);
    assert.deepEqual(await services(app, `?from=${at - M}&to=${at + M}`), ['bpocore']);
    const steps = app.correlator.store.pruneStepwise(at + 1);
    while (!steps.next().done);
    assert.deepEqual(await services(app, ''), []);
  });

  const refusals = [
    { query: `?from=${T0 + H}&to=${T0}`, status: 400, names: 'from' },
    { query: '?from=yesterday', status: 400, names: 'yesterday' },
    { query: '?service=beorn', status: 400, names: 'service' },
  ];
  for (const r of refusals)
    it(`refuses ${r.query} with ${r.status}, naming ${r.names}`, async t => {
      const app = await buildTestApp(t);
      const res = await app.inject(`/api/services${r.query}`);
      assert.equal(res.statusCode, r.status, res.body);
      const body = res.json<ErrorResponse>();
      assert.ok(body.message.includes(r.names), `message names ${r.names}: ${body.message}`);
    });
});
