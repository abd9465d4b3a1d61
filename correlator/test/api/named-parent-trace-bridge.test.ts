// The bridge's parent trace is the one whose call named the child's service (a review): beorn's
// trace calls MDSO at 50 ms (peer.service or server.address), palantir's trace of the same circuit
// runs 100–110 ms, and MDSO's own trace (no trace context) starts at 120 ms. Taking the nearest
// earlier trace still active, the bridge into MDSO hung from palantir's root.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SpanKind } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { CircuitDetail } from '@correlation-station/api-schema';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { testCleanup, tempDir } from '../helpers/cleanup.js';
import { serviceTelemetry, type ServiceTelemetry } from '../helpers/sdk-bodies.js';
import { postAccepted } from './app-fixture.js';

const CIRCUIT = '80.L1XX.005055..CHTR';

const NAMINGS: { title: string; attributes: Record<string, string> }[] = [
  { title: 'peer.service', attributes: { 'peer.service': 'mdso' } },
  { title: 'server.address', attributes: { 'server.address': 'mdso.example.net', 'url.full': 'https://mdso.example.net/bpo/api/v1' } },
];

interface Flow {
  beorn: ServiceTelemetry;
  palantir: ServiceTelemetry;
  mdso: ServiceTelemetry;
}

/** beorn's trace (root, its call to MDSO at `callMs`), palantir's trace and MDSO's, made by the SDK. */
async function flow(baseMs: number, attributes: Record<string, string>, callMs = 50): Promise<Flow> {
  const beorn = await serviceTelemetry('beorn', baseMs, [
    { name: 'POST /beorn/api/v1/service/create', kind: SpanKind.SERVER, startMs: 0, endMs: 1000, attributes: { circuit_id: CIRCUIT } },
    { name: 'POST', kind: SpanKind.CLIENT, startMs: callMs, endMs: 600, parent: 0, attributes },
  ]);
  const palantir = await serviceTelemetry('palantir', baseMs, [
    { name: 'GET /api/v1/site', kind: SpanKind.SERVER, startMs: 100, endMs: 110, attributes: { circuit_id: CIRCUIT } },
  ]);
  const mdso = await serviceTelemetry('mdso', baseMs, [
    { name: 'mdso.product.CircuitDetailsCollector', kind: SpanKind.SERVER, startMs: 120, endMs: 700, attributes: { circuit_id: CIRCUIT } },
  ]);
  return { beorn, palantir, mdso };
}

async function open(t: Parameters<typeof testCleanup>[0], env: Record<string, string> = {}): Promise<FastifyInstance> {
  const cleanup = testCleanup(t);
  const dir = await tempDir(cleanup, 'corr-named-parent-');
  const app = await buildApp({ config: loadConfig({ LOG_LEVEL: 'silent', DATA_DIR: dir, CORR_WINDOW_SECONDS: '60', ...env }) });
  cleanup(() => app.close());
  await app.ready();
  return app;
}

const post = (app: FastifyInstance, body: ServiceTelemetry) => postAccepted(app, '/v1/traces', Buffer.from(body.traces.protobuf));

/** The bridge into MDSO's trace, as the circuit's API lists it. */
async function bridgeIntoMdso(app: FastifyInstance, f: Flow): Promise<{ traceId: string; parentSpanId: string } | undefined> {
  const detail = (await app.inject(`/api/circuits/${CIRCUIT}`)).json<CircuitDetail>();
  const b = detail.bridges.find(x => x.childTraceId === f.mdso.traceId);
  return b && { traceId: b.traceId, parentSpanId: b.parentSpanId };
}

describe("the bridge into MDSO hangs from beorn's trace, whose call named MDSO, not palantir's nearer one", () => {
  for (const naming of NAMINGS)
    for (const order of ['beorn, palantir, MDSO', 'MDSO, palantir, beorn'])
      it(`named by ${naming.title} (${order})`, async t => {
        const app = await open(t);
        const f = await flow(Date.now() - 60_000, naming.attributes);
        for (const body of order.startsWith('beorn') ? [f.beorn, f.palantir, f.mdso] : [f.mdso, f.palantir, f.beorn]) await post(app, body);
        assert.deepEqual(await bridgeIntoMdso(app, f), { traceId: f.beorn.traceId, parentSpanId: f.beorn.spanIds[1]! });
      });

  it('moves to beorn when its naming call arrives in a later batch than palantir and MDSO', async t => {
    const app = await open(t);
    const f = await flow(Date.now() - 60_000, NAMINGS[0]!.attributes);
    const beornPart = (call: boolean) =>
      Buffer.from(ProtobufTraceSerializer.serializeRequest(f.beorn.spans.filter(s => (s.spanContext().spanId === f.beorn.spanIds[1]) === call))!);
    await postAccepted(app, '/v1/traces', beornPart(false));
    await post(app, f.palantir);
    await post(app, f.mdso);
    assert.deepEqual(await bridgeIntoMdso(app, f), { traceId: f.palantir.traceId, parentSpanId: f.palantir.spanIds[0]! }, 'before the call: the nearest');
    await postAccepted(app, '/v1/traces', beornPart(true));
    assert.deepEqual(await bridgeIntoMdso(app, f), { traceId: f.beorn.traceId, parentSpanId: f.beorn.spanIds[1]! });
    const detail = (await app.inject(`/api/circuits/${CIRCUIT}`)).json<CircuitDetail>();
    assert.equal(detail.bridges.filter(b => b.childTraceId === f.mdso.traceId).length, 1, 'the bridge from palantir is gone');
  });

  for (const naming of NAMINGS)
    it(`when hot state has evicted beorn's trace, read back from the store (${naming.title})`, async t => {
      const app = await open(t, { MAX_TRACKED_TRACES: '100', MAX_TRACKED_KEYS: '100' });
      const baseMs = Date.now() - 60_000;
      const f = await flow(baseMs, naming.attributes);
      await post(app, f.beorn);
      // 150 traces of no circuit after it: beorn's, the oldest, is evicted.
      const others = await serviceTelemetry(
        'granite',
        baseMs,
        Array.from({ length: 150 }, (_, i) => ({ name: `lookup ${i}`, kind: SpanKind.SERVER, startMs: 200 + i, endMs: 210 + i })),
      );
      await post(app, others);
      const stats = app.correlator.engine.stats();
      assert.ok(stats.traceEvictions >= 51 && stats.trackedTraces <= 100, JSON.stringify(stats));
      await post(app, f.palantir);
      await post(app, f.mdso);
      assert.deepEqual(await bridgeIntoMdso(app, f), { traceId: f.beorn.traceId, parentSpanId: f.beorn.spanIds[1]! });
    });

  it("still wins when beorn's clock runs a little ahead: its call seems to start just after MDSO's entry", async t => {
    const app = await open(t);
    const f = await flow(Date.now() - 60_000, NAMINGS[0]!.attributes, 130);
    for (const body of [f.beorn, f.palantir, f.mdso]) await post(app, body);
    assert.deepEqual(await bridgeIntoMdso(app, f), { traceId: f.beorn.traceId, parentSpanId: f.beorn.spanIds[1]! });
  });
});

describe('the bridge into MDSO hangs from the trace whose naming call came last (RV6)', () => {
  const root = (name: string, startMs: number, endMs: number) =>
    ({ name, kind: SpanKind.SERVER, startMs, endMs, attributes: { circuit_id: CIRCUIT } });
  const call = (startMs: number, endMs: number, attributes: Record<string, string>) =>
    ({ name: 'call', kind: SpanKind.CLIENT, startMs, endMs, parent: 0, attributes });
  const bridgeInto = async (app: FastifyInstance, child: ServiceTelemetry) => {
    const detail = (await app.inject(`/api/circuits/${CIRCUIT}`)).json<CircuitDetail>();
    const b = detail.bridges.find(x => x.childTraceId === child.traceId);
    return b && { traceId: b.traceId, parentSpanId: b.parentSpanId };
  };

  for (const backwards of [false, true])
    it(`'mixed': beorn's POST to MDSO's URL at 50 ms, not palantir's GET by peer.service at 10 ms${backwards ? ' (backwards)' : ''}`, async t => {
      const app = await open(t);
      const baseMs = Date.now() - 60_000;
      const palantir = await serviceTelemetry('palantir', baseMs, [root('GET /site', 0, 30), call(10, 20, { 'peer.service': 'mdso' })]);
      const beorn = await serviceTelemetry('beorn', baseMs, [
        root('POST /create', 40, 600),
        call(50, 60, { 'url.full': 'https://mdso.example.net/bpocore/market/api/v1/resources' }),
      ]);
      const mdso = await serviceTelemetry('mdso', baseMs, [root('POST resources', 55, 900)]);
      const bodies = [palantir, beorn, mdso];
      for (const body of backwards ? bodies.reverse() : bodies) await post(app, body);
      assert.deepEqual(await bridgeInto(app, mdso), { traceId: beorn.traceId, parentSpanId: beorn.spanIds[1]! });
    });

  it("'sim': a call to mdso-sim.lab, once a trace of mdso-sim took it, no longer parents MDSO's trace", async t => {
    const app = await open(t);
    const baseMs = Date.now() - 60_000;
    const beorn = await serviceTelemetry('beorn', baseMs, [root('b', 0, 60), call(10, 20, { 'server.address': 'mdso-sim.lab' })]);
    const sim = await serviceTelemetry('mdso-sim', baseMs, [root('sim', 12, 18)]);
    const palantir = await serviceTelemetry('palantir', baseMs, [root('p', 100, 400)]);
    const mdso = await serviceTelemetry('mdso', baseMs, [root('m', 120, 300)]);
    for (const body of [beorn, palantir, mdso]) await post(app, body);
    const byPrefix = { traceId: beorn.traceId, parentSpanId: beorn.spanIds[1]! };
    assert.deepEqual(await bridgeInto(app, mdso), byPrefix, 'by host prefix, before mdso-sim');
    // mdso-sim's trace comes in a batch of its own: MDSO's, 100 ms later, is planned again.
    await post(app, sim);
    assert.deepEqual(await bridgeInto(app, mdso), { traceId: palantir.traceId, parentSpanId: palantir.spanIds[0]! });
  });
});
