import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import type { CircuitDetail, CircuitListResponse, LogBatchResponse, StitchedTrace, TraceDetail } from '@correlation-station/api-schema';
import type { FastifyInstance } from 'fastify';
import { SpanKind, buildLogs, buildTraces, logsProtobuf, tracesJson, tracesProtobuf, type BuiltTrace, type TraceSpec } from '../fixtures/otel-sdk.js';
import { buildTestApp } from './app-fixture.js';

const T0 = Date.UTC(2026, 10, 21, 12, 0, 0);
const CID = '80.L1XX.005054..CHTR';

/** One activation of the circuit, starting at `at`; ids from `seed`. */
async function circuit(at = T0, seed = 1): Promise<{ beorn: BuiltTrace; mdso: BuiltTrace; arda: BuiltTrace }> {
  const [beorn, mdso, arda] = await buildTraces([
    {
      service: 'beorn',
      spans: [
        { name: 'POST /beorn/api/v1/service/create', kind: SpanKind.SERVER, startMs: at, endMs: at + 900, attributes: { circuit_id: CID } },
        { name: 'POST mdso/resources', kind: SpanKind.CLIENT, startMs: at + 20, endMs: at + 80, parent: 'POST /beorn/api/v1/service/create', attributes: { circuit_id: CID } },
      ],
    },
    {
      service: 'mdso',
      spans: [
        { name: 'mdso.product.CircuitDetailsCollector', startMs: at + 100, endMs: at + 700, attributes: { 'mdso.circuit_id': CID } },
        { name: 'GET arda topology', kind: SpanKind.CLIENT, startMs: at + 150, endMs: at + 400, parent: 'mdso.product.CircuitDetailsCollector', attributes: { 'mdso.circuit_id': CID } },
      ],
    },
    {
      service: 'arda',
      spans: [{ name: 'get_topology', kind: SpanKind.SERVER, startMs: at + 200, endMs: at + 380, attributes: { circuit_id: CID }, error: true }],
    },
  ], seed);
  return { beorn: beorn!, mdso: mdso!, arda: arda! };
}

async function postProto(app: FastifyInstance, body: Buffer, url = '/v1/traces', gzip = false) {
  return app.inject({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/x-protobuf', ...(gzip ? { 'content-encoding': 'gzip' } : {}) },
    payload: gzip ? gzipSync(body) : body,
  });
}

/** Three activations of CID an hour apart from `start` (seeds `seed`, +1, +2), one request each. */
async function postHourlyActivations(app: FastifyInstance, start: number, seed: number): Promise<void> {
  for (let k = 0; k < 3; k++) {
    const a = await circuit(start + k * 3_600_000, seed + k);
    await postProto(app, tracesProtobuf([...a.arda.spans, ...a.mdso.spans, ...a.beorn.spans]));
  }
}

/** GETs answered 200, read as JSON. */
function jsonGetter(app: FastifyInstance): <T>(path: string) => Promise<T> {
  return async <T>(path: string): Promise<T> => {
    const res = await app.inject(path);
    assert.equal(res.statusCode, 200, res.body);
    return res.json<T>();
  };
}

describe('circuit API over ingested SDK traces', () => {
  it('stitches beorn → mdso → arda with one bridge per hop, in the earlier trace, linked to the later entry span', async t => {
    const app = await buildTestApp(t);
    const { beorn, mdso, arda } = await circuit();
    // Each service exports on its own, in a different encoding, arda first (late middle hop).
    assert.equal((await postProto(app, tracesProtobuf(arda.spans), '/v1/traces', true)).statusCode, 200);
    assert.equal((await app.inject({ method: 'POST', url: '/api/otlp/v1/traces', payload: tracesJson(beorn.spans) as object })).statusCode, 200);
    assert.equal((await postProto(app, tracesProtobuf(mdso.spans))).statusCode, 200);

    const res = await app.inject(`/api/circuits/${encodeURIComponent(CID)}/trace`);
    assert.equal(res.statusCode, 200);
    const view = res.json<StitchedTrace>();
    assert.deepEqual(new Set(view.spans.map(s => s.serviceName)), new Set(['beorn', 'mdso', 'arda', 'correlation-station']));
    assert.deepEqual(new Set(view.traceIds), new Set([beorn.traceId, mdso.traceId, arda.traceId]));
    assert.equal(view.truncated, false);
    const bridges = view.spans.filter(s => s.synthetic);
    assert.deepEqual(bridges.map(b => b.name).sort(), ['beorn_to_mdso_bridge', 'mdso_to_arda_bridge']);

    const b1 = bridges.find(b => b.name === 'beorn_to_mdso_bridge')!;
    assert.equal(b1.traceId, beorn.traceId);
    assert.equal(b1.parentSpanId, beorn.spanIds['POST mdso/resources']);
    assert.deepEqual(b1.links.map(l => [l.traceId, l.spanId]), [[mdso.traceId, mdso.spanIds['mdso.product.CircuitDetailsCollector']]]);
    assert.equal(b1.attributes['bridge.type'], 'synthetic');
    assert.equal(b1.attributes['bridge.parent_service'], 'beorn');
    assert.equal(b1.attributes['bridge.child_service'], 'mdso');
    assert.equal(b1.attributes['circuit_id'], CID);
    assert.equal(b1.attributes['correlation.method'], 'circuit_id_match');
    assert.equal(typeof b1.attributes['correlation.confidence'], 'number');

    const b2 = bridges.find(b => b.name === 'mdso_to_arda_bridge')!;
    assert.equal(b2.traceId, mdso.traceId);
    assert.equal(b2.parentSpanId, mdso.spanIds['GET arda topology']);
    assert.deepEqual(b2.links.map(l => [l.traceId, l.spanId]), [[arda.traceId, arda.spanIds['get_topology']]]);

    // Each span's resource and scope, given once in the reply.
    const resources = new Map(view.resources.map(r => [r.id, r]));
    assert.equal(resources.size, view.resources.length, 'each resource once');
    for (const s of view.spans) {
      assert.equal(resources.get(s.resourceId)?.attributes['service.name'], s.serviceName, `${s.name}: its resource`);
    }
    assert.equal(resources.size, 4, 'beorn, mdso, arda and the bridges');

    // One timeline: sorted by start.
    const starts = view.spans.map(s => s.startTimeMs);
    assert.deepEqual(starts, [...starts].sort((a, b) => a - b));
    const errored = view.spans.find(s => s.name === 'get_topology')!;
    assert.equal(errored.status.code, 'error');

    const detail = (await app.inject(`/api/circuits/${encodeURIComponent(CID)}`)).json<CircuitDetail>();
    assert.equal(detail.summary.traceCount, 3);
    assert.equal(detail.summary.spanCount, 5);
    assert.equal(detail.summary.errorCount, 1);
    assert.equal(detail.summary.status, 'error');
    assert.equal(detail.summary.bridged, true);
    assert.equal(detail.summary.bridgeCount, 2);
    assert.deepEqual(new Set(detail.summary.services), new Set(['beorn', 'mdso', 'arda']));
    assert.equal(detail.traces.length, 3);
    assert.equal(detail.bridges.length, 2);
    assert.equal(detail.correlations.length, 1);
    assert.equal(detail.correlations[0]!.method, 'circuit_id_match');
    assert.equal(detail.correlations[0]!.traceIds.length, 3);
    assert.equal(detail.correlationsTruncated, false);

    const ardaTrace = (await app.inject(`/api/traces/${arda.traceId}`)).json<TraceDetail>();
    assert.deepEqual(
      ardaTrace.linksIn.map(l => [l.sourceTraceId, l.origin]),
      [[mdso.traceId, 'bridge']],
    );
    const beornTrace = (await app.inject(`/api/traces/${beorn.traceId}`)).json<TraceDetail>();
    assert.equal(beornTrace.correlationsTruncated, false);
    assert.deepEqual(beornTrace.linksOut.map(l => l.targetTraceId), [mdso.traceId]);
    assert.equal(beornTrace.spans.filter(s => s.synthetic).length, 1);
    assert.deepEqual(
      beornTrace.resources.map(r => r.id).sort(),
      [...new Set(beornTrace.spans.map(s => s.resourceId))].sort(),
      'the trace detail lists the resources of its spans',
    );
    // beorn's trace: two spans and its bridge span.
    assert.deepEqual([beornTrace.spans.length, beornTrace.spanCount, beornTrace.truncated], [3, 3, false]);
    const cut = (await app.inject(`/api/traces/${beorn.traceId}?limit=2`)).json<TraceDetail>();
    assert.deepEqual([cut.spans.length, cut.spanCount, cut.truncated], [2, 3, true]);
  });

  it('is idempotent: replaying the same data adds no spans, bridges, correlations or events', async t => {
    const app = await buildTestApp(t);
    const { beorn, mdso, arda } = await circuit();
    const all = [...beorn.spans, ...mdso.spans, ...arda.spans];
    await postProto(app, tracesProtobuf(all));
    const before = (await app.inject(`/api/circuits/${encodeURIComponent(CID)}`)).json<CircuitDetail>();
    const events = async () => {
      const text = (await app.inject('/metrics')).body;
      return Number(/correlation_events_total\{method="circuit_id_match"\} (\d+)/.exec(text)?.[1] ?? 0);
    };
    const eventsBefore = await events();
    assert.ok(eventsBefore >= 2, 'eventsBefore >= 2');
    for (const body of [tracesProtobuf(all), tracesProtobuf(mdso.spans)]) {
      const r = await postProto(app, body, '/v1/traces', true);
      assert.equal(r.statusCode, 200);
    }
    const after = (await app.inject(`/api/circuits/${encodeURIComponent(CID)}`)).json<CircuitDetail>();
    assert.deepEqual(after.summary, before.summary);
    assert.deepEqual(after.bridges.map(b => b.spanId).sort(), before.bridges.map(b => b.spanId).sort());
    assert.equal(after.correlations.length, 1);
    assert.equal(await events(), eventsBefore);
    const view = (await app.inject(`/api/circuits/${encodeURIComponent(CID)}/trace`)).json<StitchedTrace>();
    assert.equal(view.spans.length, 7);
  });

  it('never bridges services that trace context already connects', async t => {
    const app = await buildTestApp(t);
    const [beorn, arda] = await buildTraces([
      {
        service: 'beorn',
        spans: [
          { name: 'root', kind: SpanKind.SERVER, startMs: T0, endMs: T0 + 100, attributes: { circuit_id: 'CTX' } },
          { name: 'call palantir', kind: SpanKind.CLIENT, startMs: T0 + 10, endMs: T0 + 50, parent: 'root', attributes: { circuit_id: 'CTX' } },
        ],
      },
      { service: 'arda', spans: [{ name: 'get_topology', kind: SpanKind.SERVER, startMs: T0 + 60, endMs: T0 + 70, attributes: { circuit_id: 'CTX' } }] },
    ]);
    await postProto(app, tracesProtobuf(beorn!.spans));
    // palantir received beorn's W3C context: same trace id, parented to beorn's client span.
    const palantir = {
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'palantir' } }] },
          scopeSpans: [
            {
              scope: { name: 'flask' },
              spans: [
                {
                  traceId: beorn!.traceId,
                  spanId: 'feedbeeffeedbeef',
                  parentSpanId: beorn!.spanIds['call palantir'],
                  name: 'GET /palantir/v1/status',
                  kind: 2,
                  startTimeUnixNano: String(BigInt(T0 + 15) * 1_000_000n),
                  endTimeUnixNano: String(BigInt(T0 + 45) * 1_000_000n),
                  attributes: [{ key: 'circuit_id', value: { stringValue: 'CTX' } }],
                },
              ],
            },
          ],
        },
      ],
    };
    assert.equal((await app.inject({ method: 'POST', url: '/v1/traces', payload: palantir })).statusCode, 200);
    await postProto(app, tracesProtobuf(arda!.spans));
    const detail = (await app.inject('/api/circuits/CTX')).json<CircuitDetail>();
    assert.equal(detail.summary.traceCount, 2);
    assert.deepEqual(new Set(detail.summary.services), new Set(['beorn', 'palantir', 'arda']));
    // Only the un-propagated hop to arda is bridged; beorn → palantir is real context.
    assert.deepEqual(
      detail.bridges.map(b => [b.childTraceId, b.childService]),
      [[arda!.traceId, 'arda']],
    );
  });

  it('joins logs to the circuit by trace id and by keys in the body, and answers the log queries', async t => {
    const app = await buildTestApp(t);
    const { beorn } = await circuit();
    await postProto(app, tracesProtobuf(beorn.spans));
    const records = await buildLogs('beorn', [
      { body: 'creating service', atMs: T0 + 5, traceId: beorn.traceId, spanId: beorn.spanIds['POST mdso/resources'] },
      { body: `scriptplan resource_id=550e8400-e29b-41d4-a716-446655440000 circuit_id=${CID}`, atMs: T0 + 300 },
    ]);
    assert.equal((await postProto(app, logsProtobuf(records), '/v1/logs')).statusCode, 200);
    const api = await app.inject({
      method: 'POST',
      url: '/api/logs',
      payload: {
        resource: { service: 'bpocore', host: 'mdso-1', env: 'dev' },
        records: [
          { timestamp: new Date(T0 + 400).toISOString(), severity: 'ERROR', message: 'activation failed', circuit_id: CID, labels: { k: 'v' } },
          { timestamp: 'yesterday', message: 'bad' },
          { timestamp: new Date(T0).toISOString(), message: 'bad id', trace_id: 'xyz' },
        ],
      },
    });
    assert.equal(api.statusCode, 200);
    const apiBody = api.json<{ accepted: number; rejected: number; errors: { index: number; message: string }[] }>();
    assert.equal(apiBody.accepted, 1);
    assert.equal(apiBody.rejected, 2);
    assert.deepEqual(apiBody.errors.map(e => e.index), [1, 2]);
    assert.match(apiBody.errors[0]!.message, /timestamp/);
    assert.match(apiBody.errors[1]!.message, /trace_id/);

    const logs = (await app.inject(`/api/circuits/${encodeURIComponent(CID)}/logs`)).json<{ logs: { body: string; serviceName: string; keys: Record<string, string> }[] }>().logs;
    assert.deepEqual(logs.map(l => l.body).sort(), ['activation failed', 'creating service', `scriptplan resource_id=550e8400-e29b-41d4-a716-446655440000 circuit_id=${CID}`].sort());
    const fromBody = logs.find(l => l.body.startsWith('scriptplan'))!;
    assert.equal(fromBody.keys.resource_id, '550e8400-e29b-41d4-a716-446655440000');
    const byTrace = (await app.inject(`/api/logs?trace_id=${beorn.traceId}`)).json<{ logs: unknown[] }>().logs;
    assert.equal(byTrace.length, 1);
    const limited = (await app.inject('/api/logs?limit=2')).json<{ logs: unknown[] }>().logs;
    assert.equal(limited.length, 2);
    const corr = (await app.inject(`/api/correlations?trace_id=${beorn.traceId}`)).json<{ correlations: { method: string; logCount: number }[] }>();
    assert.ok(corr.correlations.some(c => c.method === 'trace_id' && c.logCount === 1), 'corr.correlations.some(c => c.method === \'trace_id\' && c.logCount === 1)');
  });

  it('cuts a stitched view at ?limit= to the earliest spans of the full timeline and says so', async t => {
    const app = await buildTestApp(t);
    const { beorn, mdso, arda } = await circuit();
    await postProto(app, tracesProtobuf([...arda.spans, ...mdso.spans, ...beorn.spans]));
    const view = async (q: string) => (await app.inject(`/api/circuits/${encodeURIComponent(CID)}/trace${q}`)).json<StitchedTrace>();
    const full = await view('');
    assert.equal(full.truncated, false);
    assert.equal(full.spanCount, full.spans.length);
    // The summary counts the spans that arrived; the view adds one bridge span per hop.
    const summary = (await app.inject(`/api/circuits/${encodeURIComponent(CID)}`)).json<CircuitDetail>().summary;
    assert.deepEqual([full.bridgeSpanCount, full.spanCount - full.bridgeSpanCount], [2, summary.spanCount]);
    assert.equal(full.spans.filter(s => s.synthetic).length, 2);
    for (const t of (await app.inject(`/api/circuits/${encodeURIComponent(CID)}`)).json<CircuitDetail>().traces) {
      const detail = (await app.inject(`/api/traces/${t.traceId}`)).json<{ spans: { synthetic: boolean }[]; spanCount: number; bridgeSpanCount: number }>();
      assert.deepEqual(
        [detail.spanCount - detail.bridgeSpanCount, detail.bridgeSpanCount],
        [t.spanCount, detail.spans.filter(s => s.synthetic).length],
        t.traceId,
      );
    }
    const starts = full.spans.map(s => BigInt(s.startTimeUnixNano));
    assert.deepEqual(starts, [...starts].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    for (const limit of [1, 3, full.spans.length - 1]) {
      const cut = await view(`?limit=${limit}`);
      assert.equal(cut.truncated, true, `limit ${limit}`);
      assert.deepEqual([cut.spanCount, cut.bridgeSpanCount], [full.spanCount, full.bridgeSpanCount], `limit ${limit}`);
      assert.deepEqual(
        cut.spans.map(s => s.spanId),
        full.spans.slice(0, limit).map(s => s.spanId),
        `limit ${limit}`,
      );
    }
    assert.equal((await view(`?limit=${full.spans.length}`)).truncated, false);
  });

  it('keeps identical records of one request as many, and a retry of the request adds none', async t => {
    const app = await buildTestApp(t);
    const line = { timestamp: new Date(T0).toISOString(), severity: 'WARN', message: 'port busy, retrying', circuit_id: CID };
    const batch = { resource: { service: 'bpocore' }, records: [line, line, { ...line, message: 'gave up' }, line] };
    // The counts only: `warnings` (time-warnings.test.ts) says this fixed date is past retention by now.
    const post = async () => {
      const { warnings: _, ...counts } = (await app.inject({ method: 'POST', url: '/api/logs', payload: batch })).json<LogBatchResponse>();
      return counts;
    };
    assert.deepEqual(await post(), { accepted: 4, duplicates: 0, rejected: 0, errors: [] });
    const [retried] = await Promise.all([post(), post()]);
    assert.deepEqual(retried, { accepted: 4, duplicates: 4, rejected: 0, errors: [] }, 'the retry is accepted, and said to be stored already');
    const records = await buildLogs('arda', [
      { body: `circuit_id=${CID} link down`, atMs: T0 + 1 },
      { body: `circuit_id=${CID} link down`, atMs: T0 + 1 },
    ]);
    for (let i = 0; i < 2; i++) assert.equal((await postProto(app, logsProtobuf(records), '/v1/logs')).statusCode, 200);

    const logs = (await app.inject(`/api/circuits/${encodeURIComponent(CID)}/logs`)).json<{ logs: { body: string }[] }>().logs;
    assert.deepEqual(logs.map(l => l.body).sort(), [
      `circuit_id=${CID} link down`,
      `circuit_id=${CID} link down`,
      'gave up',
      'port busy, retrying',
      'port busy, retrying',
      'port busy, retrying',
    ]);
    const summary = (await app.inject(`/api/circuits/${encodeURIComponent(CID)}`)).json<CircuitDetail>().summary;
    assert.equal(summary.logCount, 6);
  });

  it("gives a trace the extent of its spans, not of its logs, whenever the logs come", async t => {
    const [trace] = await buildTraces([{ service: 'mdso', spans: [{ name: 'activate', startMs: T0, endMs: T0 + 100, attributes: { circuit_id: 'DUR-1' } }] }]);
    const logs = await buildLogs('mdso', [
      { body: 'late', atMs: T0 + 600_000, traceId: trace!.traceId, spanId: trace!.spanIds['activate'] },
      { body: 'early', atMs: T0 - 120_000, traceId: trace!.traceId, spanId: trace!.spanIds['activate'] },
    ]);
    for (const order of ['spans first', 'logs first']) {
      const app = await buildTestApp(t);
      const requests = [() => postProto(app, tracesProtobuf(trace!.spans)), () => postProto(app, logsProtobuf(logs), '/v1/logs')];
      for (const post of order === 'spans first' ? requests : requests.reverse()) assert.equal((await post()).statusCode, 200);
      const { summary } = (await app.inject(`/api/traces/${trace!.traceId}`)).json<{ summary: { startTimeMs: number; endTimeMs: number; durationMs: number } }>();
      assert.deepEqual([summary.startTimeMs - T0, summary.endTimeMs - T0, summary.durationMs], [0, 100, 100], order);
      const listed = (await app.inject('/api/circuits/DUR-1')).json<CircuitDetail>().traces;
      assert.deepEqual(listed.map(x => x.durationMs), [100], order);
    }
  });

  it('takes an all-zero trace or span id in the JSON batch as none, as OTLP does', async t => {
    const app = await buildTestApp(t);
    const zero = { trace_id: '0'.repeat(32), span_id: '0'.repeat(16) };
    const at = new Date(T0).toISOString();
    const posted = await app.inject({
      method: 'POST',
      url: '/api/logs',
      payload: {
        resource: { service: 'bpocore' },
        records: [
          { timestamp: at, message: 'a', circuit_id: 'ZC-2', ...zero },
          { timestamp: at, message: 'b', circuit_id: 'ZC-3', ...zero },
        ],
      },
    });
    assert.equal(posted.json<{ accepted: number }>().accepted, 2);
    const logs = (await app.inject('/api/circuits/ZC-2/logs')).json<{ logs: { body: string; traceId: string; spanId: string }[] }>().logs;
    assert.deepEqual(logs.map(l => [l.body, l.traceId, l.spanId]), [['a', '', '']]);
    const summary = (await app.inject('/api/circuits/ZC-2')).json<CircuitDetail>().summary;
    assert.deepEqual([summary.traceCount, summary.logCount], [0, 1]);
    assert.equal((await app.inject(`/api/traces/${'0'.repeat(32)}`)).statusCode, 404);
  });

  it('says when a circuit has more correlations than its detail lists', async t => {
    const app = await buildTestApp(t);
    // 501 episodes two minutes apart, each a trace and a log without one: a correlation each.
    const EPISODES = 501;
    const traces = await buildTraces(
      Array.from({ length: EPISODES }, (_, i) => ({
        service: 'beorn',
        spans: [{ name: `activate ${i}`, startMs: T0 + i * 120_000, endMs: T0 + i * 120_000 + 10, attributes: { circuit_id: CID } }],
      })),
      21,
    );
    assert.equal((await postProto(app, tracesProtobuf(traces.flatMap(x => x.spans)))).statusCode, 200);
    const records = Array.from({ length: EPISODES }, (_, i) => ({
      timestamp: new Date(T0 + i * 120_000 + 5).toISOString(),
      message: `activation step ${i}`,
      circuit_id: CID,
    }));
    const posted = await app.inject({ method: 'POST', url: '/api/logs', payload: { resource: { service: 'bpocore' }, records } });
    assert.equal(posted.json<{ accepted: number }>().accepted, EPISODES);
    const all = (await app.inject(`/api/correlations?circuit_id=${encodeURIComponent(CID)}&limit=1000`)).json<{ correlations: unknown[] }>();
    assert.equal(all.correlations.length, EPISODES);

    const detail = (await app.inject(`/api/circuits/${encodeURIComponent(CID)}`)).json<CircuitDetail>();
    assert.equal(detail.correlations.length, 500);
    assert.equal(detail.correlationsTruncated, true);
    // The most recent ones are listed.
    assert.equal(detail.correlations[0]!.firstSeenMs, T0 + (EPISODES - 1) * 120_000);
  });

  it('cuts a stitched view where roots and parents tie in start time as a prefix of the full timeline', async t => {
    const app = await buildTestApp(t);
    // beorn's step starts with arda's root and has the lower id (made first): the timeline puts
    // the root first, and a cut must keep the same spans the full view starts with.
    const [beorn, arda] = await buildTraces(
      [
        {
          service: 'beorn',
          spans: [
            { name: 'create', kind: SpanKind.SERVER, startMs: T0 - 10, endMs: T0 + 50, attributes: { circuit_id: CID } },
            { name: 'step', startMs: T0, endMs: T0 + 5, parent: 'create' },
            { name: 'call arda', kind: SpanKind.CLIENT, startMs: T0 + 1, endMs: T0 + 40, parent: 'create' },
          ],
        },
        { service: 'arda', spans: [{ name: 'topology', kind: SpanKind.SERVER, startMs: T0, endMs: T0 + 30, attributes: { circuit_id: CID } }] },
      ],
      31,
    );
    assert.ok(beorn!.spanIds['step']! < arda!.spanIds['topology']!, 'the step sorts first by id');
    await postProto(app, tracesProtobuf([...beorn!.spans, ...arda!.spans]));
    const view = async (q: string) => (await app.inject(`/api/circuits/${encodeURIComponent(CID)}/trace${q}`)).json<StitchedTrace>();
    const full = await view('');
    // The bridge hangs from the step, the one span under way when arda's trace starts.
    assert.deepEqual(full.spans.map(s => s.name), ['create', 'topology', 'step', 'beorn_to_arda_bridge', 'call arda']);
    for (let limit = 1; limit < full.spans.length; limit++) {
      const cut = await view(`?limit=${limit}`);
      assert.deepEqual(
        cut.spans.map(s => s.name),
        full.spans.slice(0, limit).map(s => s.name),
        `limit ${limit}`,
      );
    }
  });

  it('finds a circuit\'s and a trace\'s correlations through every key of their traces, and only theirs', async t => {
    const app = await buildTestApp(t);
    const RID = '7c9e6679-7425-40de-944b-e07fc1f90ae7';
    const OTHER = '81.L1XX.000002..TWCC';
    // Circuit A's two traces share its circuit id; one of them shares a resource with circuit B's trace.
    const [a1, a2, b1, c1, c2] = await buildTraces(
      [
        { service: 'beorn', spans: [{ name: 'a1', startMs: T0, endMs: T0 + 10, attributes: { circuit_id: CID, 'mdso.resource_id': RID } }] },
        { service: 'arda', spans: [{ name: 'a2', startMs: T0 + 20, endMs: T0 + 30, attributes: { circuit_id: CID } }] },
        { service: 'palantir', spans: [{ name: 'b1', startMs: T0 + 40, endMs: T0 + 50, attributes: { circuit_id: OTHER, 'mdso.resource_id': RID } }] },
        { service: 'beorn', spans: [{ name: 'c1', startMs: T0, endMs: T0 + 10, attributes: { circuit_id: '82.L1XX.000003..CHTR' } }] },
        { service: 'arda', spans: [{ name: 'c2', startMs: T0 + 20, endMs: T0 + 30, attributes: { circuit_id: '82.L1XX.000003..CHTR' } }] },
      ],
      11,
    );
    await postProto(app, tracesProtobuf([...a1!.spans, ...a2!.spans, ...b1!.spans, ...c1!.spans, ...c2!.spans]));
    const correlations = async (q: string) =>
      (await app.inject(`/api/correlations?${q}`))
        .json<{ correlations: { key: string; value: string; traceIds: string[] }[] }>()
        .correlations.map(c => `${c.key}=${c.value} [${[...c.traceIds].sort().join(',')}]`)
        .sort();
    const ids = (...traces: BuiltTrace[]) => traces.map(x => x.traceId).sort().join(',');
    const circuitA = `circuit_id=${CID} [${ids(a1!, a2!)}]`;
    const resource = `resource_id=${RID} [${ids(a1!, b1!)}]`;
    const circuitC = `circuit_id=82.L1XX.000003..CHTR [${ids(c1!, c2!)}]`;
    assert.deepEqual(await correlations(`circuit_id=${encodeURIComponent(CID)}`), [circuitA, resource].sort());
    assert.deepEqual(await correlations(`circuit_id=${encodeURIComponent(OTHER)}`), [resource]);
    assert.deepEqual(await correlations(`trace_id=${a2!.traceId}`), [circuitA]);
    assert.deepEqual(await correlations(`trace_id=${b1!.traceId}`), [resource]);
    assert.deepEqual(await correlations(`circuit_id=${encodeURIComponent(CID)}&method=resource_id_match`), [resource]);
    assert.deepEqual(await correlations(`circuit_id=unknown`), []);
    assert.deepEqual(await correlations(''), [circuitA, resource, circuitC].sort());
  });

  it('lists circuits with filters and a service graph with bridged edges marked', async t => {
    const app = await buildTestApp(t);
    const { beorn, mdso, arda } = await circuit();
    await postProto(app, tracesProtobuf([...beorn.spans, ...mdso.spans, ...arda.spans]));
    const [other] = await buildTraces([{ service: 'palantir', spans: [{ name: 'x', startMs: T0, endMs: T0 + 1, attributes: { circuit_id: '81.L1XX.000001..TWCC' } }] }], 5);
    await postProto(app, tracesProtobuf(other!.spans));

    const list = async (q: string) => (await app.inject(`/api/circuits${q}`)).json<CircuitListResponse>().circuits.map(c => c.circuitId).sort();
    assert.deepEqual(await list(''), [CID, '81.L1XX.000001..TWCC'].sort());
    assert.deepEqual(await list('?query=l1xx.0050'), [CID]);
    assert.deepEqual(await list('?status=error'), [CID]);
    assert.deepEqual(await list('?status=ok'), ['81.L1XX.000001..TWCC']);
    assert.deepEqual(await list('?service=palantir'), ['81.L1XX.000001..TWCC']);
    assert.deepEqual(await list(`?from=${T0 + 10_000}`), []);
    assert.equal((await list(`?to=${new Date(T0 + 10_000).toISOString()}&limit=1`)).length, 1);

    const graph = (await app.inject(`/api/service-graph?from=${T0 - 1000}&to=${T0 + 10_000}`)).json<{
      nodes: { id: string }[];
      edges: { source: string; target: string; bridged: boolean; meanConfidence: number; errorCount: number }[];
    }>();
    assert.deepEqual(new Set(graph.nodes.map(n => n.id)), new Set(['beorn', 'mdso', 'arda', 'palantir']));
    const bridged = graph.edges.filter(e => e.bridged).map(e => `${e.source}->${e.target}`).sort();
    assert.deepEqual(bridged, ['beorn->mdso', 'mdso->arda']);
    // arda's entry span failed: the hop into it did, as a trace-context call into a failed span does.
    assert.deepEqual(
      Object.fromEntries(graph.edges.filter(e => e.bridged).map(e => [`${e.source}->${e.target}`, e.errorCount])),
      { 'beorn->mdso': 0, 'mdso->arda': 1 },
    );
    assert.ok(graph.edges.every(e => e.meanConfidence > 0 && e.meanConfidence <= 1), 'graph.edges.every(e => e.meanConfidence > 0 && e.meanConfidence <= 1)');

    // One circuit's graph keeps to the range asked for, as the whole graph does.
    const circuitGraph = async (range: string) =>
      (await app.inject(`/api/service-graph?circuit_id=${encodeURIComponent(CID)}${range}`)).json<{ nodes: { id: string }[]; edges: unknown[] }>();
    assert.deepEqual(new Set((await circuitGraph(`&from=${T0 - 1000}&to=${T0 + 10_000}`)).nodes.map(n => n.id)), new Set(['beorn', 'mdso', 'arda']));
    assert.deepEqual(await circuitGraph(`&from=${T0 + 60_000}&to=${T0 + 120_000}`), { nodes: [], edges: [], traceCount: 0, traceLimit: 5000, truncated: false });

    // A range that starts after both hops but within all three traces: the same traces, so the
    // same bridges (they were chosen by the child's start, the traces by overlap).
    for (const q of [`from=${T0 + 250}&to=${T0 + 10_000}`, `circuit_id=${encodeURIComponent(CID)}&from=${T0 + 250}&to=${T0 + 10_000}`]) {
      const late = (await app.inject(`/api/service-graph?${q}`)).json<{ nodes: { id: string }[]; edges: { source: string; target: string; bridged: boolean }[] }>();
      assert.ok(['beorn', 'mdso', 'arda'].every(s => late.nodes.some(n => n.id === s)), q);
      assert.deepEqual(late.edges.filter(e => e.bridged).map(e => `${e.source}->${e.target}`).sort(), ['beorn->mdso', 'mdso->arda'], q);
    }
  });

  it("checks each bridge's direction against the clock offsets trace context shows, in the stitched view and the service graph", async t => {
    const app = await buildTestApp(t);
    const cid = 'CIRC-SKEW';
    const attributes = { circuit_id: cid };
    // arda's host runs 5 s behind beorn's. X: beorn calls arda with trace context.
    const [x] = await buildTraces([
      {
        service: 'beorn',
        spans: [
          { name: 'activate', kind: SpanKind.SERVER, startMs: T0, endMs: T0 + 1000, attributes },
          { name: 'call arda', kind: SpanKind.CLIENT, startMs: T0 + 100, endMs: T0 + 300, parent: 'activate' },
        ],
      },
    ], 41);
    const [xArda] = await buildTraces([
      { service: 'arda', spans: [{ name: 'serve', kind: SpanKind.SERVER, startMs: T0 - 4890, endMs: T0 - 4710, remoteParent: { traceId: x!.traceId, spanId: x!.spanIds['call arda']! } }] },
    ], 42);
    assert.equal(xArda!.traceId, x!.traceId);
    // Then, disconnected: arda's step at T0 + 10.5 s (it reads T0 + 5.5 s), and beorn's at T0 + 10 s.
    const [z, y] = await buildTraces([
      { service: 'arda', spans: [{ name: 'configure', kind: SpanKind.SERVER, startMs: T0 + 5500, endMs: T0 + 6000, attributes }] },
      { service: 'beorn', spans: [{ name: 'verify', kind: SpanKind.SERVER, startMs: T0 + 10_000, endMs: T0 + 11_000, attributes }] },
    ], 43);
    for (const tr of [x!, xArda!, z!, y!]) assert.equal((await postProto(app, tracesProtobuf(tr.spans))).statusCode, 200);

    const view = (await app.inject(`/api/circuits/${cid}/trace`)).json<StitchedTrace>();
    const checks = view.bridges
      .map(b => `${b.parentService}->${b.childService} gap=${b.gapMs} ${b.clockCheck?.order} ${JSON.stringify(b.clockCheck?.childClockOffset)}`)
      .sort();
    assert.deepEqual(checks, [
      // The clocks cannot explain away 5.4 s of arda after beorn: arda is behind, the gap only grows.
      `arda->beorn gap=4500 reversed ${JSON.stringify({ lowMs: 4990, highMs: 5010, calls: 1, conflicting: false })}`,
      `beorn->arda gap=5400 consistent ${JSON.stringify({ lowMs: -5010, highMs: -4990, calls: 1, conflicting: false })}`,
    ]);
    // The circuit detail does not read spans, and checks nothing.
    const detail = (await app.inject(`/api/circuits/${cid}`)).json<CircuitDetail>();
    assert.equal(detail.bridges.length, 2);
    assert.ok(detail.bridges.every(b => b.clockCheck === undefined));

    const graph = (await app.inject(`/api/service-graph?circuit_id=${cid}`)).json<{ edges: { id: string; clockOffset?: unknown }[] }>();
    assert.deepEqual(
      graph.edges.map(e => `${e.id} ${JSON.stringify(e.clockOffset)}`).sort(),
      [
        `arda->beorn:bridge undefined`,
        `beorn->arda ${JSON.stringify({ lowMs: -5010, highMs: -4990, calls: 1, conflicting: false })}`,
      ],
    );
  });

  it('finds circuits by text in any case, non-ASCII letters included', async t => {
    const app = await buildTestApp(t);
    const ids = ['ünï-1.KGFN', 'ÜNÏ-2.KGFN', 'plain-3.KGFN'];
    const traces = await buildTraces(ids.map(id => ({ service: 'beorn', spans: [{ name: 'x', startMs: T0, endMs: T0 + 1, attributes: { circuit_id: id } }] })));
    await postProto(app, tracesProtobuf(traces.flatMap(tr => tr.spans)));
    const list = async (q: string) =>
      (await app.inject(`/api/circuits?query=${encodeURIComponent(q)}`)).json<CircuitListResponse>().circuits.map(c => c.circuitId).sort();
    assert.deepEqual(await list('ÜN'), [ids[0], ids[1]].sort());
    assert.deepEqual(await list('ünï-2'), [ids[1]]);
    assert.deepEqual(await list('kgfn'), [...ids].sort());
    assert.deepEqual(await list('ü_'), [], 'LIKE wildcards in the text are literal');
  });

  it('serves the stitched view of a circuit seen only in logs so far, empty', async t => {
    const app = await buildTestApp(t);
    const res = await app.inject({
      method: 'POST',
      url: '/api/logs',
      payload: { resource: { service: 'mdso' }, records: [{ timestamp: new Date(T0).toISOString(), message: `circuit_id=${CID} queued` }] },
    });
    assert.equal(res.statusCode, 200);
    const view = await app.inject(`/api/circuits/${encodeURIComponent(CID)}/trace`);
    assert.equal(view.statusCode, 200, view.body);
    const body = view.json<StitchedTrace>();
    assert.deepEqual([body.circuitId, body.traceIds, body.spans, body.spanCount], [CID, [], [], 0]);
  });

  it('picks one activation of a circuit out of its days by time range, in its detail and its stitched view', async t => {
    const app = await buildTestApp(t);
    const first = await circuit(T0);
    const second = await circuit(T0 + 2 * 3_600_000, 2);
    for (const a of [first, second]) await postProto(app, tracesProtobuf([...a.beorn.spans, ...a.mdso.spans, ...a.arda.spans]));
    const url = `/api/circuits/${encodeURIComponent(CID)}`;
    const secondIds = [second.beorn.traceId, second.mdso.traceId, second.arda.traceId].sort();
    // The range reaches into the second activation only (its arda trace ends 380 ms in).
    const from = new Date(T0 + 2 * 3_600_000 + 300).toISOString();
    const to = String(T0 + 3 * 3_600_000);

    const whole = (await app.inject(url)).json<CircuitDetail>();
    assert.deepEqual([whole.traces.length, whole.correlations.length, whole.bridges.length], [6, 2, 4]);
    const detail = (await app.inject(`${url}?from=${from}&to=${to}`)).json<CircuitDetail>();
    assert.deepEqual(detail.traces.map(x => x.traceId).sort(), secondIds);
    assert.deepEqual(detail.correlations.map(c => [...c.traceIds].sort()), [secondIds]);
    assert.deepEqual(detail.bridges.map(b => b.traceId).sort(), [second.beorn.traceId, second.mdso.traceId].sort());
    assert.deepEqual(detail.summary, whole.summary, "the summary is the circuit's, whatever the range");

    const view = (await app.inject(`${url}/trace?from=${from}&to=${to}`)).json<StitchedTrace>();
    assert.deepEqual([...view.traceIds].sort(), secondIds);
    assert.deepEqual([...new Set(view.spans.map(s => s.traceId))].sort(), [second.beorn.traceId, second.mdso.traceId, second.arda.traceId].sort());
    assert.deepEqual(view.spans.filter(s => s.synthetic).map(s => s.name).sort(), ['beorn_to_mdso_bridge', 'mdso_to_arda_bridge']);
    assert.deepEqual(view.bridges.map(b => b.spanId).sort(), view.spans.filter(s => s.synthetic).map(s => s.spanId).sort());
    assert.deepEqual([view.spanCount, view.truncated], [7, false]);
    // Only `to`: the first activation.
    const early = (await app.inject(`${url}/trace?to=${T0 + 3_600_000}`)).json<StitchedTrace>();
    assert.deepEqual([...early.traceIds].sort(), [first.beorn.traceId, first.mdso.traceId, first.arda.traceId].sort());
    // A range with no trace: an empty view of a known circuit, not a 404.
    const none = await app.inject(`${url}/trace?from=${T0 - 3_600_000}&to=${T0 - 1}`);
    assert.equal(none.statusCode, 200);
    assert.deepEqual([none.json<StitchedTrace>().spans.length, none.json<StitchedTrace>().bridges.length], [0, 0]);

    for (const path of [url, `${url}/trace`]) {
      const bad = await app.inject(`${path}?from=yesterday`);
      assert.equal(bad.statusCode, 400, path);
      assert.match(bad.json<{ message: string }>().message, /from "yesterday" is no time: give epoch seconds \(up to 10 digits\), milliseconds \(11 to 15\), nanoseconds \(19\) or RFC 3339/);
      const reversed = await app.inject(`${path}?from=${T0 + 1}&to=${T0}`);
      assert.equal(reversed.statusCode, 400, path);
      assert.match(reversed.json<{ message: string }>().message, /from \(\d+\) is after to/);
    }
  });

  it("lists a circuit's most recent traces up to ?limit= in its detail, and says it cut the list", async t => {
    const app = await buildTestApp(t);
    const first = await circuit(T0);
    const second = await circuit(T0 + 2 * 3_600_000, 2);
    for (const a of [first, second]) await postProto(app, tracesProtobuf([...a.beorn.spans, ...a.mdso.spans, ...a.arda.spans]));
    const url = `/api/circuits/${encodeURIComponent(CID)}`;
    // Oldest first, as without a limit: beorn's trace starts first, then mdso's, then arda's.
    const secondIds = [second.beorn.traceId, second.mdso.traceId, second.arda.traceId];

    const whole = (await app.inject(url)).json<CircuitDetail>();
    assert.deepEqual([whole.traces.length, whole.tracesTruncated], [6, false]);
    assert.deepEqual((await app.inject(`${url}?limit=6`)).json<CircuitDetail>().tracesTruncated, false);

    const cut = (await app.inject(`${url}?limit=3`)).json<CircuitDetail>();
    assert.deepEqual(cut.traces.map(x => x.traceId), secondIds);
    assert.equal(cut.tracesTruncated, true);
    assert.deepEqual(cut.bridges.map(b => b.traceId).sort(), [second.beorn.traceId, second.mdso.traceId].sort(), 'the bridges from the traces listed');
    assert.equal(cut.summary.traceCount, 6, 'the summary counts every trace');
    // With a range, the limit applies to the traces in it.
    const ranged = (await app.inject(`${url}?to=${T0 + 3_600_000}&limit=2`)).json<CircuitDetail>();
    assert.deepEqual(ranged.traces.map(x => x.traceId), [first.mdso.traceId, first.arda.traceId]);
    assert.equal(ranged.tracesTruncated, true);

    const bad = await app.inject(`${url}?limit=0`);
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json<{ message: string }>().message, /limit/);
  });

  it("lists, at any ?limit= and in any range, the most recent of the detail's whole list and the bridges from them", async t => {
    const app = await buildTestApp(t);
    // Three activations an hour apart, within the last day (older data gets retention warnings).
    const start = Math.floor((Date.now() - 6 * 3_600_000) / 60_000) * 60_000;
    const activations = [await circuit(start, 21), await circuit(start + 3_600_000, 22), await circuit(start + 2 * 3_600_000, 23)];
    for (const a of activations) await postProto(app, tracesProtobuf([...a.arda.spans, ...a.mdso.spans, ...a.beorn.spans]));
    const url = `/api/circuits/${encodeURIComponent(CID)}`;
    const detail = async (q: string) => {
      const res = await app.inject(`${url}?${q}`);
      assert.equal(res.statusCode, 200, res.body);
      return res.json<CircuitDetail>();
    };
    const ranges = ['', `to=${start + 1_800_000}`, `from=${start + 1_800_000}`, `from=${start + 1_800_000}&to=${start + 5_400_000}`];
    for (const range of ranges) {
      const whole = await detail(`${range}&limit=100000`);
      const ids = whole.traces.map(x => x.traceId);
      assert.equal(whole.tracesTruncated, false, range);
      for (let limit = 1; limit <= ids.length + 1; limit++) {
        const cut = await detail(`${range}&limit=${limit}`);
        const listed = ids.slice(Math.max(0, ids.length - limit));
        const q = `?${range}&limit=${limit}`;
        assert.deepEqual(cut.traces.map(x => x.traceId), listed, q);
        assert.equal(cut.tracesTruncated, ids.length > limit, q);
        assert.deepEqual(
          cut.bridges.map(b => b.spanId),
          whole.bridges.filter(b => listed.includes(b.traceId)).map(b => b.spanId),
          `${q}: the bridges from the traces listed`,
        );
      }
    }
  });

  it('covers in its stitched view the traces its detail lists at the same ?traces= and range, with their spans and bridges only', async t => {
    const app = await buildTestApp(t);
    const start = Math.floor((Date.now() - 6 * 3_600_000) / 60_000) * 60_000;
    await postHourlyActivations(app, start, 31);
    const url = `/api/circuits/${encodeURIComponent(CID)}`;
    const get = jsonGetter(app);
    const sorted = (xs: string[]) => [...xs].sort();
    for (const range of ['', `to=${start + 1_800_000}`, `from=${start + 1_800_000}&to=${start + 5_400_000}`]) {
      const whole = await get<StitchedTrace>(`${url}/trace?${range}&traces=100000`);
      assert.equal(whole.tracesTruncated, false, range);
      // The default covers up to 1,000 traces, as the detail lists.
      assert.deepEqual(await get<StitchedTrace>(`${url}/trace?${range}`), whole, `${range}: default`);
      for (let traces = 1; traces <= whole.traceIds.length + 1; traces++) {
        const q = `?${range}&traces=${traces}`;
        const view = await get<StitchedTrace>(`${url}/trace${q}`);
        const detail = await get<CircuitDetail>(`${url}?${range}&limit=${traces}`);
        assert.deepEqual(view.traceIds, detail.traces.map(x => x.traceId), `${q}: the traces the detail lists`);
        assert.equal(view.tracesTruncated, detail.tracesTruncated, q);
        const covered = new Set(view.traceIds);
        const spans = whole.spans.filter(s => covered.has(s.traceId));
        assert.deepEqual(sorted(view.spans.map(s => s.spanId)), sorted(spans.map(s => s.spanId)), `${q}: the spans of those traces`);
        assert.deepEqual([view.spanCount, view.bridgeSpanCount, view.truncated], [spans.length, spans.filter(s => s.synthetic).length, false], q);
        assert.deepEqual(sorted(view.bridges.map(b => b.spanId)), sorted(whole.bridges.filter(b => covered.has(b.traceId)).map(b => b.spanId)), `${q}: bridges`);
      }
    }
    const bad = await app.inject(`${url}/trace?traces=0`);
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json<{ message: string }>().message, /traces/);
  });

  it("says in its stitched view how many traces it would cover without ?traces=: the circuit's, or the range's", async t => {
    const app = await buildTestApp(t);
    const start = Math.floor((Date.now() - 6 * 3_600_000) / 60_000) * 60_000;
    await postHourlyActivations(app, start, 41);
    const url = `/api/circuits/${encodeURIComponent(CID)}`;
    const get = jsonGetter(app);
    const { summary } = await get<CircuitDetail>(url);
    assert.equal(summary.traceCount, 9);
    // Without a range, the detail's count of all its traces; in one, the range's traces only (3 or
    // 6 of the 9), which the view lists in full when ?traces= allows.
    const expected: [string, number][] = [
      ['', summary.traceCount],
      [`to=${start + 1_800_000}`, 3],
      [`from=${start + 1_800_000}`, 6],
      [`from=${start + 1_800_000}&to=${start + 5_400_000}`, 3],
      [`from=${start - 3_600_000}&to=${start - 1}`, 0],
    ];
    for (const [range, count] of expected) {
      assert.equal((await get<StitchedTrace>(`${url}/trace?${range}&traces=100000`)).traceIds.length, count, range);
      for (let traces = 1; traces <= count + 1; traces++) {
        const q = `?${range}&traces=${traces}`;
        const view = await get<StitchedTrace>(`${url}/trace${q}`);
        assert.deepEqual([view.traceCount, view.tracesTruncated, view.traceIds.length], [count, count > traces, Math.min(count, traces)], q);
      }
    }
  });

  it('answers bad query input with 400 or 404 naming the problem', async t => {
    const app = await buildTestApp(t);
    const cases: [string, number, RegExp][] = [
      ['/api/circuits?from=yesterday', 400, /from/],
      [`/api/circuits?from=${T0 + 10}&to=${T0}`, 400, /from .* is after to/],
      ['/api/circuits?limit=0', 400, /limit/],
      ['/api/circuits/nope', 404, /circuit "nope"/],
      ['/api/circuits/nope/trace', 404, /circuit "nope"/],
      ['/api/circuits/nope/logs', 404, /circuit "nope"/],
      ['/api/traces/xyz', 400, /traceId/],
      [`/api/traces/${'a'.repeat(32)}`, 404, /no trace/],
      ['/api/correlations?trace_id=123', 400, /trace_id/],
      ['/api/nothing-here', 404, /no route/],
    ];
    for (const [url, status, message] of cases) {
      const res = await app.inject(url);
      assert.equal(res.statusCode, status, url);
      assert.match(res.json<{ message: string }>().message, message, url);
    }
  });

  it("gives an edge's mean confidence whatever order its bridges arrived in", async t => {
    // Four arda → mdso hops a minute apart, three close and one late: confidences 0.896 × 3 and
    // 0.774, a mean of exactly 0.8655, where a float sum in arrival order rounds either way.
    const gaps = [100, 100, 100, 2800];
    const specs = gaps.flatMap((gap, k): TraceSpec[] => [
      { service: 'arda', spans: [{ name: 'serve', kind: SpanKind.SERVER, startMs: T0 + k * 60_000, endMs: T0 + k * 60_000 + 1000, attributes: { circuit_id: 'CIRCUIT-G' } }] },
      { service: 'mdso', spans: [{ name: 'plan', kind: SpanKind.SERVER, startMs: T0 + k * 60_000 + 1000 + gap, endMs: T0 + k * 60_000 + 1500 + gap, attributes: { circuit_id: 'CIRCUIT-G' } }] },
    ]);
    const traces = await buildTraces(specs, 61);
    const pairs = gaps.map((_, k) => [traces[2 * k]!, traces[2 * k + 1]!]);
    const graphAfter = async (order: BuiltTrace[][]) => {
      const app = await buildTestApp(t, { CORR_WINDOW_SECONDS: '10' });
      for (const pair of order) for (const tr of pair) assert.equal((await postProto(app, tracesProtobuf(tr.spans))).statusCode, 200);
      const detail = (await app.inject('/api/circuits/CIRCUIT-G')).json<CircuitDetail>();
      const graph = (await app.inject(`/api/service-graph?from=${T0 - 1000}&to=${T0 + 600_000}`)).json<{
        edges: { id: string; callCount: number; meanConfidence: number }[];
      }>();
      return { confidences: detail.bridges.map(b => b.confidence).sort(), edges: graph.edges };
    };
    const inOrder = await graphAfter(pairs);
    assert.deepEqual(inOrder.confidences, [0.774, 0.896, 0.896, 0.896]);
    assert.deepEqual(inOrder.edges.map(e => [e.id, e.callCount, e.meanConfidence]), [['arda->mdso:bridge', 4, 0.866]]);
    assert.deepEqual(await graphAfter([...pairs].reverse()), inOrder);
  });

  it('names every circuit a trace names, in name order, whichever span arrived first', async t => {
    const [report] = await buildTraces([
      {
        service: 'arda',
        spans: [
          { name: 'report', kind: SpanKind.SERVER, startMs: T0, endMs: T0 + 100, attributes: { circuit_id: 'CIRCUIT-B' } },
          { name: 'row', startMs: T0 + 5, endMs: T0 + 15, parent: 'report', attributes: { circuit_id: 'CIRCUIT-A' } },
        ],
      },
    ], 62);
    for (const spans of [report!.spans, [...report!.spans].reverse()]) {
      const app = await buildTestApp(t);
      for (const span of spans) assert.equal((await postProto(app, tracesProtobuf([span]))).statusCode, 200);
      const detail = (await app.inject(`/api/traces/${report!.traceId}`)).json<TraceDetail>();
      assert.deepEqual(detail.summary.circuitIds, ['CIRCUIT-A', 'CIRCUIT-B']);
      for (const cid of ['CIRCUIT-A', 'CIRCUIT-B']) {
        const listed = (await app.inject(`/api/circuits/${cid}`)).json<CircuitDetail>().traces;
        assert.deepEqual(listed.map(tr => tr.circuitIds), [['CIRCUIT-A', 'CIRCUIT-B']], cid);
      }
    }
  });
});
