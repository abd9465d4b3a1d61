// A bridge hangs from the call that says it went to the child's service. beorn's trace calls MDSO
// from 50 to 600 ms and palantir from 100 to 110 ms; MDSO's own trace (no trace context) starts at
// 120 ms. Taking the call that started last, the bridge hung from the palantir call.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SpanKind } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { CircuitDetail } from '@correlation-station/api-schema';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { testCleanup, tempDir, type Cleanup } from '../helpers/cleanup.js';
import { serviceTelemetry, type ServiceTelemetry } from '../helpers/sdk-bodies.js';
import { postAccepted } from './app-fixture.js';

const CIRCUIT = '80.L1XX.005054..CHTR';

/** How the beorn trace's calls say where they went: the attributes of its MDSO call and its palantir call. */
const NAMINGS: { title: string; mdso: Record<string, string>; palantir: Record<string, string> }[] = [
  { title: 'peer.service', mdso: { 'peer.service': 'mdso' }, palantir: { 'peer.service': 'palantir' } },
  {
    title: 'server.address, as requests-instrumented Python apps send it',
    mdso: { 'http.request.method': 'POST', 'server.address': 'mdso.example.net', 'url.full': 'https://mdso.example.net/bpo/api/v1/resources' },
    palantir: { 'http.request.method': 'GET', 'server.address': 'palantir', 'url.full': 'http://palantir:5002/api/v1/site' },
  },
];

/** beorn's trace (root, MDSO call, palantir call) and MDSO's own, made and serialized by the SDK. */
async function flow(baseMs: number, naming: (typeof NAMINGS)[number]): Promise<{ beorn: ServiceTelemetry; mdso: ServiceTelemetry }> {
  const beorn = await serviceTelemetry('beorn', baseMs, [
    { name: 'POST /beorn/api/v1/service/create', kind: SpanKind.SERVER, startMs: 0, endMs: 1000, attributes: { circuit_id: CIRCUIT } },
    { name: 'POST', kind: SpanKind.CLIENT, startMs: 50, endMs: 600, parent: 0, attributes: naming.mdso },
    { name: 'GET', kind: SpanKind.CLIENT, startMs: 100, endMs: 110, parent: 0, attributes: naming.palantir },
  ]);
  const mdso = await serviceTelemetry('mdso', baseMs, [
    { name: 'mdso.product.CircuitDetailsCollector', kind: SpanKind.SERVER, startMs: 120, endMs: 700, attributes: { circuit_id: CIRCUIT } },
  ]);
  return { beorn, mdso };
}

/** The app on `dir`; closed at clean-up unless `cleanup` is null (the caller closes it). */
async function open(cleanup: Cleanup | null, dir: string, env: Record<string, string> = {}): Promise<FastifyInstance> {
  const app = await buildApp({ config: loadConfig({ LOG_LEVEL: 'silent', DATA_DIR: dir, CORR_WINDOW_SECONDS: '60', ...env }) });
  cleanup?.(() => app.close());
  await app.ready();
  return app;
}

async function bridgeParents(app: FastifyInstance): Promise<{ traceId: string; parentSpanId: string; childTraceId: string }[]> {
  const detail = (await app.inject(`/api/circuits/${CIRCUIT}`)).json<CircuitDetail>();
  return detail.bridges.map(b => ({ traceId: b.traceId, parentSpanId: b.parentSpanId, childTraceId: b.childTraceId }));
}


/** 150 traces of no circuit, after those sent: with MAX_TRACKED_TRACES=100, the oldest are evicted. */
async function evictWithUnrelatedTraces(app: FastifyInstance, baseMs: number): Promise<void> {
  const others = await serviceTelemetry(
    'granite',
    baseMs,
    Array.from({ length: 150 }, (_, i) => ({ name: `lookup ${i}`, kind: SpanKind.SERVER, startMs: 200 + i, endMs: 210 + i })),
  );
  await postAccepted(app, '/v1/traces', Buffer.from(others.traces.protobuf));
  const stats = app.correlator.engine.stats();
  assert.ok(stats.traceEvictions >= 51 && stats.trackedTraces <= 100, JSON.stringify(stats));
}

describe('the bridge into MDSO hangs from the call to MDSO', () => {
  for (const naming of NAMINGS)
    for (const mdsoFirst of [false, true])
      it(`named by ${naming.title} (${mdsoFirst ? 'MDSO' : 'beorn'} first)`, async t => {
        const cleanup = testCleanup(t);
        const app = await open(cleanup, await tempDir(cleanup, 'corr-named-call-'));
        const { beorn, mdso } = await flow(Date.now() - 60_000, naming);
        for (const body of mdsoFirst ? [mdso, beorn] : [beorn, mdso]) await postAccepted(app, '/v1/traces', Buffer.from(body.traces.protobuf));
        assert.deepEqual(await bridgeParents(app), [{ traceId: beorn.traceId, parentSpanId: beorn.spanIds[1]!, childTraceId: mdso.traceId }]);
      });

  it('named in OTLP/JSON as in protobuf', async t => {
    const cleanup = testCleanup(t);
    const app = await open(cleanup, await tempDir(cleanup, 'corr-named-call-'));
    const { beorn, mdso } = await flow(Date.now() - 60_000, NAMINGS[1]!);
    for (const body of [beorn, mdso]) await postAccepted(app, '/v1/traces', JSON.parse(Buffer.from(body.traces.json).toString()) as object);
    assert.deepEqual(await bridgeParents(app), [{ traceId: beorn.traceId, parentSpanId: beorn.spanIds[1]!, childTraceId: mdso.traceId }]);
  });

  for (const naming of NAMINGS)
    it(`when hot state has evicted the beorn trace, read back from the store (${naming.title})`, async t => {
      const cleanup = testCleanup(t);
      const app = await open(cleanup, await tempDir(cleanup, 'corr-named-call-'), { MAX_TRACKED_TRACES: '100', MAX_TRACKED_KEYS: '100' });
      const baseMs = Date.now() - 60_000;
      const { beorn, mdso } = await flow(baseMs, naming);
      await postAccepted(app, '/v1/traces', Buffer.from(beorn.traces.protobuf));
      // 150 traces of no circuit after it: beorn's, the oldest, is evicted.
      await evictWithUnrelatedTraces(app, baseMs);
      await postAccepted(app, '/v1/traces', Buffer.from(mdso.traces.protobuf));
      assert.deepEqual(await bridgeParents(app), [{ traceId: beorn.traceId, parentSpanId: beorn.spanIds[1]!, childTraceId: mdso.traceId }]);
    });

  it('when the beorn trace is read back after a restart', async t => {
    const cleanup = testCleanup(t);
    const dir = await tempDir(cleanup, 'corr-named-call-');
    const { beorn, mdso } = await flow(Date.now() - 60_000, NAMINGS[1]!);
    const first = await open(null, dir);
    try {
      await postAccepted(first, '/v1/traces', Buffer.from(beorn.traces.protobuf));
    } finally {
      await first.close();
    }
    const app = await open(cleanup, dir);
    await postAccepted(app, '/v1/traces', Buffer.from(mdso.traces.protobuf));
    assert.deepEqual(await bridgeParents(app), [{ traceId: beorn.traceId, parentSpanId: beorn.spanIds[1]!, childTraceId: mdso.traceId }]);
  });
});

describe('a long plan script: the call after its 150 steps is a candidate', () => {
  // A review's case: MDSO's plan-script trace runs 150 short steps, then calls granite and arda;
  // arda's trace starts during the arda call. Keeping only the 128 earliest-starting spans, the
  // calls were never candidates and the bridge hung from the script's root, hot and reloaded alike.
  async function script(baseMs: number): Promise<{ mdso: ServiceTelemetry; arda: ServiceTelemetry }> {
    const mdso = await serviceTelemetry('mdso', baseMs, [
      { name: 'mdso.product.ServiceMapper', kind: SpanKind.SERVER, startMs: 0, endMs: 1000, attributes: { circuit_id: CIRCUIT } },
      ...Array.from({ length: 150 }, (_, i) => ({ name: `step ${i}`, startMs: 1 + i, endMs: 2 + i, parent: 0 })),
      { name: 'GET', kind: SpanKind.CLIENT, startMs: 300, endMs: 310, parent: 0, attributes: { 'peer.service': 'granite' } },
      { name: 'POST', kind: SpanKind.CLIENT, startMs: 400, endMs: 900, parent: 0, attributes: { 'peer.service': 'arda' } },
    ]);
    const arda = await serviceTelemetry('arda', baseMs, [
      { name: 'POST /arda/api/v1/circuit', kind: SpanKind.SERVER, startMs: 420, endMs: 800, attributes: { circuit_id: CIRCUIT } },
    ]);
    return { mdso, arda };
  }

  for (const restart of [false, true])
    it(`hangs the bridge into arda from the call to arda (${restart ? 'the script read back after a restart' : 'in hot state'})`, async t => {
      const cleanup = testCleanup(t);
      const dir = await tempDir(cleanup, 'corr-long-script-');
      const { mdso, arda } = await script(Date.now() - 60_000);
      let app = await open(restart ? null : cleanup, dir);
      await postAccepted(app, '/v1/traces', Buffer.from(mdso.traces.protobuf));
      if (restart) {
        await app.close();
        app = await open(cleanup, dir);
      }
      await postAccepted(app, '/v1/traces', Buffer.from(arda.traces.protobuf));
      assert.deepEqual(await bridgeParents(app), [{ traceId: mdso.traceId, parentSpanId: mdso.spanIds[152]!, childTraceId: arda.traceId }]);
    });

  it('keeps the calls when they arrive after the trace holds 128 spans already', async t => {
    const cleanup = testCleanup(t);
    const app = await open(cleanup, await tempDir(cleanup, 'corr-long-script-'));
    const { mdso, arda } = await script(Date.now() - 60_000);
    const calls = new Set(mdso.spanIds.slice(151));
    const part = (wanted: boolean) =>
      Buffer.from(ProtobufTraceSerializer.serializeRequest(mdso.spans.filter(s => calls.has(s.spanContext().spanId) === wanted))!);
    await postAccepted(app, '/v1/traces', part(false));
    await postAccepted(app, '/v1/traces', part(true));
    await postAccepted(app, '/v1/traces', Buffer.from(arda.traces.protobuf));
    assert.deepEqual(await bridgeParents(app), [{ traceId: mdso.traceId, parentSpanId: mdso.spanIds[152]!, childTraceId: arda.traceId }]);
  });
});

describe('a call to a destination after 128 calls to another is still a candidate', () => {
  // A review's cases: a trace polls one destination 128 times, then calls the child's service,
  // whose trace starts during that call; an unrelated trace is running then too. Keeping the
  // earliest 128 calls dropped the last one, and the bridge hung from the unrelated trace.
  const CASES: { title: string; caller: string; poll: Record<string, string>; call: Record<string, string>; other: string; child: string }[] = [
    {
      title: 'beorn polls palantir, then calls MDSO (peer.service)',
      caller: 'beorn',
      poll: { 'peer.service': 'palantir' },
      call: { 'peer.service': 'mdso' },
      other: 'arda',
      child: 'mdso',
    },
    {
      title: 'an MDSO plan script polls bpocore.mdso.lab, then calls arda (url.full)',
      caller: 'mdso',
      poll: { 'server.address': 'bpocore.mdso.lab' },
      call: { 'url.full': 'http://arda:5000/api/topology' },
      other: 'palantir',
      child: 'arda',
    },
  ];

  async function polling(baseMs: number, c: (typeof CASES)[number]): Promise<Record<'caller' | 'other' | 'child', ServiceTelemetry>> {
    const caller = await serviceTelemetry(c.caller, baseMs, [
      { name: 'run', kind: SpanKind.SERVER, startMs: 0, endMs: 1000, attributes: { circuit_id: CIRCUIT } },
      ...Array.from({ length: 128 }, (_, i) => ({ name: `poll ${i}`, kind: SpanKind.CLIENT, startMs: 1 + i, endMs: 2 + i, parent: 0, attributes: c.poll })),
      { name: 'POST', kind: SpanKind.CLIENT, startMs: 400, endMs: 410, parent: 0, attributes: c.call },
    ]);
    const other = await serviceTelemetry(c.other, baseMs, [
      { name: 'sync', kind: SpanKind.SERVER, startMs: 300, endMs: 900, attributes: { circuit_id: CIRCUIT } },
    ]);
    const child = await serviceTelemetry(c.child, baseMs, [
      { name: 'handle', kind: SpanKind.SERVER, startMs: 405, endMs: 900, attributes: { circuit_id: CIRCUIT } },
    ]);
    return { caller, other, child };
  }

  for (const c of CASES)
    for (const where of ['hot state', 'evicted from hot state', 'read back after a restart'] as const)
      it(`${c.title}: the bridge hangs from that call (${where})`, async t => {
        const cleanup = testCleanup(t);
        const dir = await tempDir(cleanup, 'corr-many-calls-');
        const env: Record<string, string> = where === 'evicted from hot state' ? { MAX_TRACKED_TRACES: '100', MAX_TRACKED_KEYS: '100' } : {};
        const baseMs = Date.now() - 60_000;
        const { caller, other, child } = await polling(baseMs, c);
        let app = await open(where === 'read back after a restart' ? null : cleanup, dir, env);
        await postAccepted(app, '/v1/traces', Buffer.from(caller.traces.protobuf));
        if (where === 'evicted from hot state') await evictWithUnrelatedTraces(app, baseMs);
        if (where === 'read back after a restart') {
          await app.close();
          app = await open(cleanup, dir);
        }
        await postAccepted(app, '/v1/traces', Buffer.from(other.traces.protobuf));
        await postAccepted(app, '/v1/traces', Buffer.from(child.traces.protobuf));
        const intoChild = (await bridgeParents(app)).filter(b => b.childTraceId === child.traceId);
        assert.deepEqual(intoChild, [{ traceId: caller.traceId, parentSpanId: caller.spanIds[129]!, childTraceId: child.traceId }]);
      });
});
