import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { TempoExporter, backoffMs, tracesUrl } from '../../src/export/tempo-exporter.js';
import { otlpTypes } from '../../src/otlp/schema.js';
import { SpanKind, buildTraces, tracesProtobuf } from '../fixtures/otel-sdk.js';
import { until } from '../helpers/until.js';
import { testCleanup } from '../helpers/cleanup.js';

const T0 = Date.UTC(2026, 10, 21, 12, 0, 0);

/**
 * A stand-in OTLP receiver that answers with the statuses it is given, then 200; with `answer`,
 * a 200 carries that body; with `hang`, it never answers; with `held`, it answers when released.
 */
async function fakeTempo(
  t: TestContext,
  statuses: number[] = [],
  retryAfter = '0',
  answer?: { body: Uint8Array; contentType: string } | 'hang' | 'held',
) {
  const closedUnanswered: IncomingMessage[] = [];
  const bodies: Buffer[] = [];
  const held: (() => void)[] = [];
  let requests = 0;
  const server: Server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', c => chunks.push(c as Buffer));
    req.on('end', () => {
      requests++;
      if (answer === 'hang') {
        res.on('close', () => closedUnanswered.push(req));
        return;
      }
      const reply = () => {
        const status = statuses.shift() ?? 200;
        if (status === 200) bodies.push(Buffer.concat(chunks));
        if (status === 503) res.setHeader('Retry-After', retryAfter);
        const body = typeof answer === 'object' ? answer : undefined;
        res.writeHead(status, { 'content-type': body?.contentType ?? 'application/x-protobuf' });
        res.end(status === 200 && body ? body.body : undefined);
      };
      if (answer === 'held') held.push(reply);
      else reply();
    });
  });
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>(r => (server.closeAllConnections(), server.close(() => r()))));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    bodies,
    closedUnanswered,
    get requests() {
      return requests;
    },
    /** Answers the requests held so far. */
    release() {
      for (const reply of held.splice(0)) reply();
    },
  };
}

/** One bridge (beorn → mdso) per circuit. */
async function circuitBody(circuitIds: readonly string[] = ['EXP']) {
  const traces = await buildTraces(
    circuitIds.flatMap(circuit_id => [
      { service: 'beorn', spans: [{ name: 'create', kind: SpanKind.SERVER, startMs: T0, endMs: T0 + 500, attributes: { circuit_id } }] },
      { service: 'mdso', spans: [{ name: 'plan', startMs: T0 + 100, endMs: T0 + 300, attributes: { circuit_id } }] },
    ]),
  );
  return tracesProtobuf(traces.flatMap(t => t.spans));
}

/**
 * Moves the clock the exporter reads `ms` ahead for the rest of the test: a refusal pauses the
 * exporter for its backoff, which a test passes this way instead of sleeping.
 */
function advanceClock(t: TestContext, ms: number) {
  const realNow = Date.now.bind(Date);
  t.mock.method(Date, 'now', () => realNow() + ms);
}

interface AttributeValue {
  stringValue?: string;
  arrayValue?: { values: { stringValue: string }[] };
}

/** An attribute's value as a string, or the strings of an array. */
function attributeValue(v: AttributeValue): string | string[] | undefined {
  return v.arrayValue ? v.arrayValue.values.map(e => e.stringValue) : v.stringValue;
}

function exportedSpans(bodies: Buffer[]) {
  const t = otlpTypes();
  return bodies.flatMap(b => {
    const req = t.ExportTraceServiceRequest.toObject(t.ExportTraceServiceRequest.decode(b), { longs: String, bytes: String }) as {
      resourceSpans: {
        resource: { attributes: { key: string; value: { stringValue: string } }[] };
        scopeSpans: { spans: { name: string; spanId: string; attributes: { key: string; value: AttributeValue }[]; links: unknown[] }[] }[];
      }[];
    };
    return req.resourceSpans.flatMap(rs =>
      rs.scopeSpans.flatMap(ss => ss.spans.map(s => ({ service: rs.resource.attributes.find(a => a.key === 'service.name')!.value.stringValue, ...s }))),
    );
  });
}

function tempDir(t: TestContext) {
  const dir = mkdtempSync(join(tmpdir(), 'corr-export-'));
  testCleanup(t)(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The app exporting to `endpoint` without delay, closed when the test ends. */
async function exportingApp(t: TestContext, endpoint: string, env: Record<string, string> = {}) {
  const app = await buildApp({
    config: loadConfig({ LOG_LEVEL: 'silent', DATA_DIR: tempDir(t), TEMPO_OTLP_ENDPOINT: endpoint, BRIDGE_EXPORT_DELAY_SECONDS: '0', ...env }),
  });
  testCleanup(t)(() => app.close());
  return app;
}

/**
 * A hop two circuits plan: A names P (root) and Q (its call); B names P (root), and Q in a child
 * span sent in a later request, so Q plans the hop P already planned and queued.
 */
async function sharedHop() {
  const [a, b] = await buildTraces([
    {
      service: 'beorn',
      spans: [
        { name: 'create', kind: SpanKind.SERVER, startMs: T0, endMs: T0 + 1000, attributes: { circuit_id: 'CIRC-P' } },
        { name: 'call', kind: SpanKind.CLIENT, startMs: T0 + 100, endMs: T0 + 900, parent: 'create', attributes: { circuit_id: 'CIRC-Q' } },
      ],
    },
    {
      service: 'mdso',
      spans: [
        { name: 'plan', kind: SpanKind.SERVER, startMs: T0 + 2000, endMs: T0 + 3000, attributes: { circuit_id: 'CIRC-P' } },
        { name: 'step', kind: SpanKind.CLIENT, startMs: T0 + 2100, endMs: T0 + 2900, parent: 'plan', attributes: { circuit_id: 'CIRC-Q' } },
      ],
    },
  ]);
  const bRoot = b!.spans.filter(s => s.name === 'plan');
  const bStep = b!.spans.filter(s => s.name === 'step');
  return { first: tracesProtobuf([...a!.spans, ...bRoot]), second: tracesProtobuf(bStep) };
}

/**
 * beorn → mdso per circuit, and mdso's later spans by name: `poll` (no key), `product` (a
 * product_id) and `again` (another product_id).
 */
async function keyedLater(circuitIds: readonly string[]) {
  const traces = await buildTraces(
    circuitIds.flatMap(circuit_id => [
      { service: 'beorn', spans: [{ name: 'create', kind: SpanKind.SERVER, startMs: T0, endMs: T0 + 500, attributes: { circuit_id } }] },
      {
        service: 'mdso',
        spans: [
          { name: 'plan', kind: SpanKind.SERVER, startMs: T0 + 100, endMs: T0 + 300, attributes: { circuit_id } },
          { name: 'poll', startMs: T0 + 150, endMs: T0 + 200, parent: 'plan' },
          { name: 'product', startMs: T0 + 200, endMs: T0 + 250, parent: 'plan', attributes: { product_id: `PROD-${circuit_id}` } },
          { name: 'again', startMs: T0 + 250, endMs: T0 + 280, parent: 'plan', attributes: { product_id: `AGAIN-${circuit_id}` } },
        ],
      },
    ]),
  );
  return (...names: string[]): ReadableSpan[] => traces.flatMap(tr => tr.spans.filter(sp => names.includes(sp.name)));
}

async function postSpans(app: FastifyInstance, spans: ReadableSpan[]): Promise<void> {
  const r = await app.inject({ method: 'POST', url: '/v1/traces', headers: { 'content-type': 'application/x-protobuf' }, payload: tracesProtobuf(spans) });
  assert.equal(r.statusCode, 200, r.body);
}

describe('bridge export to Tempo', () => {
  it('sends a hop again without the circuit that stops planning it, when another still plans it', async t => {
    const tempo = await fakeTempo(t);
    const app = await exportingApp(t, `${tempo.url}/v1/traces`);
    const { first, second } = await sharedHop();
    for (const payload of [first, second])
      assert.equal((await app.inject({ method: 'POST', url: '/v1/traces', headers: { 'content-type': 'application/x-protobuf' }, payload })).statusCode, 200);
    await app.correlator.exporter!.tick();
    const hopCopies = () =>
      exportedSpans(tempo.bodies)
        .filter(s => s.name === 'beorn_to_mdso_bridge')
        .map(s => attributeValue(s.attributes.find(a => a.key === 'circuit_id')!.value));
    assert.deepEqual(hopCopies(), [['CIRC-P', 'CIRC-Q']]);
    // An arda trace of CIRC-P alone, between the two: CIRC-P now bridges beorn → arda → mdso, and
    // only CIRC-Q plans the beorn → mdso hop.
    const [arda] = await buildTraces(
      [{ service: 'arda', spans: [{ name: 'serve', kind: SpanKind.SERVER, startMs: T0 + 1100, endMs: T0 + 1500, attributes: { circuit_id: 'CIRC-P' } }] }],
      2,
    );
    await postSpans(app, arda!.spans);
    const hops = async (circuit: string) =>
      (await app.inject(`/api/circuits/${circuit}`)).json<{ bridges: { parentService: string; childService: string }[] }>().bridges
        .map(b => `${b.parentService}->${b.childService}`).sort();
    assert.deepEqual(await hops('CIRC-P'), ['arda->mdso', 'beorn->arda']);
    assert.deepEqual(await hops('CIRC-Q'), ['beorn->mdso']);
    await until(async () => {
      await app.correlator.exporter!.tick();
      return app.correlator.store.exportQueueDepth() === 0 ? true : null;
    }, 'the export queue empties');
    // Tempo's last copy of the hop is the one it keeps: CIRC-P's value would find a hop CIRC-P no longer has.
    assert.deepEqual(hopCopies(), [['CIRC-P', 'CIRC-Q'], 'CIRC-Q']);
  });

  it('sends a hop two circuits plan as one span with both circuit ids, again when the second takes it on later', async t => {
    const tempo = await fakeTempo(t);
    const app = await exportingApp(t, `${tempo.url}/v1/traces`);
    const { first, second } = await sharedHop();
    const post = async (target: FastifyInstance, payload: Buffer) =>
      assert.equal((await target.inject({ method: 'POST', url: '/v1/traces', headers: { 'content-type': 'application/x-protobuf' }, payload })).statusCode, 200);
    const circuitIds = () =>
      exportedSpans(tempo.bodies).map(s => attributeValue(s.attributes.find(a => a.key === 'circuit_id')!.value));
    await post(app, first);
    await app.correlator.exporter!.tick();
    assert.deepEqual(circuitIds(), ['CIRC-P']);
    await post(app, second);
    for (const circuit of ['CIRC-P', 'CIRC-Q'])
      assert.equal((await app.inject(`/api/circuits/${circuit}`)).json<{ bridges: unknown[] }>().bridges.length, 1, circuit);
    await app.correlator.exporter!.tick();
    // The same span id again: Tempo keeps one copy in the trace and searches both, so a search by
    // CIRC-Q finds the hop. A search by either value of the array matches it (vParquet4 blocks).
    assert.deepEqual(circuitIds(), ['CIRC-P', ['CIRC-P', 'CIRC-Q']]);
    assert.equal(new Set(exportedSpans(tempo.bodies).map(s => s.spanId)).size, 1);
    assert.match((await app.inject('/metrics')).body, /\nexport_queue_depth 0\n/);
    // Planned by both in one request: one span, with both values.
    tempo.bodies.length = 0;
    const both = await exportingApp(t, `${tempo.url}/v1/traces`);
    const { first: firstBoth, second: secondBoth } = await sharedHop();
    const traces = otlpTypes().ExportTraceServiceRequest;
    const merged = traces.encode({
      resourceSpans: [...traces.decode(firstBoth).resourceSpans, ...traces.decode(secondBoth).resourceSpans],
    }).finish();
    await post(both, Buffer.from(merged));
    await both.correlator.exporter!.tick();
    assert.deepEqual(circuitIds(), [['CIRC-P', 'CIRC-Q']]);

    // Not sent yet: one queue entry, and the gauge says one.
    const waiting = await exportingApp(t, `${tempo.url}/v1/traces`, { BRIDGE_EXPORT_DELAY_SECONDS: '3600' });
    for (const payload of [first, second]) await post(waiting, payload);
    assert.equal(waiting.correlator.store.db.prepare('SELECT count(*) FROM export_queue').pluck().get(), 1);
    assert.match((await waiting.inject('/metrics')).body, /\nexport_queue_depth 1\n/);
  });

  it('sends a bridge again when one of its traces gains a key, so a search by that key finds it', async t => {
    const tempo = await fakeTempo(t);
    const app = await exportingApp(t, `${tempo.url}/v1/traces`);
    const spans = await keyedLater(['EXP-KEY']);
    const sent = async () => {
      await app.correlator.exporter!.tick();
      return exportedSpans(tempo.bodies).map(s => [s.name, s.attributes.filter(a => a.key === 'product_id').map(a => attributeValue(a.value))]);
    };
    await postSpans(app, spans('create', 'plan'));
    assert.deepEqual(await sent(), [['beorn_to_mdso_bridge', []]]);
    // A late span with no key changes nothing the bridge span carries: nothing is sent.
    await postSpans(app, spans('poll'));
    assert.deepEqual(await sent(), [['beorn_to_mdso_bridge', []]]);
    await postSpans(app, spans('product'));
    assert.deepEqual(await sent(), [
      ['beorn_to_mdso_bridge', []],
      ['beorn_to_mdso_bridge', ['PROD-EXP-KEY']],
    ]);
    // Another value of a key the trace has: the span carries every value, so it is sent again.
    await postSpans(app, spans('again'));
    assert.deepEqual((await sent())[2], ['beorn_to_mdso_bridge', [['AGAIN-EXP-KEY', 'PROD-EXP-KEY']]]);
    // The same span again (a client retry) changes nothing.
    await postSpans(app, spans('product'));
    assert.equal((await sent()).length, 3);
    assert.match((await app.inject('/metrics')).body, /\nexport_queue_depth 0\n/);
  });

  it('does not send a bridge again for a key its span already carries from the other trace', async t => {
    const tempo = await fakeTempo(t);
    const app = await exportingApp(t, `${tempo.url}/v1/traces`);
    const traces = await buildTraces([
      {
        service: 'beorn',
        spans: [
          { name: 'create', kind: SpanKind.SERVER, startMs: T0, endMs: T0 + 500, attributes: { circuit_id: 'EXP-HIDE', product_id: 'PROD-1' } },
          { name: 'late', startMs: T0 + 400, endMs: T0 + 450, parent: 'create', attributes: { request_id: 'REQ-1' } },
        ],
      },
      {
        service: 'mdso',
        spans: [
          { name: 'plan', kind: SpanKind.SERVER, startMs: T0 + 100, endMs: T0 + 300, attributes: { circuit_id: 'EXP-HIDE' } },
          { name: 'same', startMs: T0 + 150, endMs: T0 + 200, parent: 'plan', attributes: { product_id: 'PROD-1' } },
          { name: 'other', startMs: T0 + 200, endMs: T0 + 250, parent: 'plan', attributes: { request_id: 'REQ-2' } },
        ],
      },
    ]);
    const spans = (...names: string[]) => traces.flatMap(tr => tr.spans.filter(sp => names.includes(sp.name)));
    const sent = async () => {
      await app.correlator.exporter!.tick();
      return exportedSpans(tempo.bodies).map(s =>
        Object.fromEntries(s.attributes.filter(a => ['product_id', 'request_id'].includes(a.key)).map(a => [a.key, attributeValue(a.value)])),
      );
    };
    await postSpans(app, spans('create', 'plan'));
    assert.deepEqual(await sent(), [{ product_id: 'PROD-1' }]);
    // The child gains the product_id its parent already gives the span: the same bytes, not sent.
    await postSpans(app, spans('same'));
    assert.equal((await sent()).length, 1);
    // The child gains a request_id: sent with it.
    await postSpans(app, spans('other'));
    assert.deepEqual((await sent())[1], { product_id: 'PROD-1', request_id: 'REQ-2' });
    // The parent gains another request_id: the span carries both, sent again.
    await postSpans(app, spans('late'));
    assert.deepEqual((await sent())[2], { product_id: 'PROD-1', request_id: ['REQ-1', 'REQ-2'] });
    assert.equal(exportedSpans(tempo.bodies).length, 3);
  });

  it('does not send a hop again when another group takes it on with a value its span already carries', async t => {
    const tempo = await fakeTempo(t);
    const app = await exportingApp(t, `${tempo.url}/v1/traces`, { BRIDGE_KEYS: 'circuit_id,product_id' });
    const traces = await buildTraces([
      { service: 'beorn', spans: [{ name: 'create', kind: SpanKind.SERVER, startMs: T0, endMs: T0 + 500, attributes: { circuit_id: 'C-1', product_id: 'P-1' } }] },
      {
        service: 'mdso',
        spans: [
          { name: 'plan', kind: SpanKind.SERVER, startMs: T0 + 100, endMs: T0 + 300, attributes: { circuit_id: 'C-1' } },
          { name: 'product', startMs: T0 + 150, endMs: T0 + 200, parent: 'plan', attributes: { product_id: 'P-1' } },
        ],
      },
    ]);
    const spans = (...names: string[]) => traces.flatMap(tr => tr.spans.filter(sp => names.includes(sp.name)));
    const productIds = async () => {
      await app.correlator.exporter!.tick();
      return exportedSpans(tempo.bodies).map(s => attributeValue(s.attributes.find(a => a.key === 'product_id')!.value));
    };
    await postSpans(app, spans('create', 'plan'));
    assert.deepEqual(await productIds(), ['P-1']);
    // The product group now plans the hop too: queued again, but its bytes are those sent.
    await postSpans(app, spans('product'));
    assert.equal(app.correlator.store.exportQueueDepth(), 1);
    assert.deepEqual(await productIds(), ['P-1']);
    assert.match((await app.inject('/metrics')).body, /\nexport_spans_unchanged_total 1\n/);
    assert.match((await app.inject('/metrics')).body, /\nexport_queue_depth 0\n/);
  });

  it('sends a bridge again when one of its traces gains a key while its copy without it is being sent', async t => {
    const tempo = await fakeTempo(t, [], '0', 'held');
    const app = await exportingApp(t, `${tempo.url}/v1/traces`);
    const spans = await keyedLater(['EXP-RACE']);
    await postSpans(app, spans('create', 'plan'));
    const sending = app.correlator.exporter!.tick();
    await until(async () => (tempo.requests === 1 ? true : null), 'the copy without the key to be in flight');
    // The child trace gains product_id while that copy is being sent.
    await postSpans(app, spans('product'));
    tempo.release();
    await sending;
    const again = app.correlator.exporter!.tick();
    await until(async () => (tempo.requests === 2 ? true : null), 'the copy with the key to be sent');
    tempo.release();
    await again;
    assert.deepEqual(
      exportedSpans(tempo.bodies).map(s => s.attributes.filter(a => a.key === 'product_id').length),
      [0, 1],
    );
    assert.equal(app.correlator.store.exportQueueDepth(), 0);
    assert.equal(app.correlator.store.db.prepare('SELECT count(*) FROM export_queue').pluck().get(), 0);
  });

  it('keeps EXPORT_QUEUE_MAX when bridges are sent again for keys their traces gained', async t => {
    const tempo = await fakeTempo(t);
    const app = await exportingApp(t, `${tempo.url}/v1/traces`, { EXPORT_QUEUE_MAX: '10' });
    const spans = await keyedLater(Array.from({ length: 30 }, (_, i) => `EXP-BOUND-${i}`));
    await postSpans(app, spans('create', 'plan'));
    // The bound dropped the oldest 20 bridges; the 10 left are sent.
    await app.correlator.exporter!.tick();
    assert.equal(exportedSpans(tempo.bodies).length, 10);
    // All 30 children gain a key in one request: 30 bridges to send again, 10 of them kept.
    await postSpans(app, spans('product'));
    const queued = app.correlator.store.db.prepare('SELECT count(*) FROM export_queue').pluck().get();
    assert.equal(queued, 10);
    assert.equal(app.correlator.store.exportQueueDepth(), 10);
    assert.match((await app.inject('/metrics')).body, /\nexport_dropped_total\{reason="queue_full"\} 40\n/);
  });

  it('keeps EXPORT_QUEUE_MAX entries, not fewer, when a request supersedes a queued bridge and adds others', async t => {
    const app = await exportingApp(t, 'http://127.0.0.1:9/v1/traces', { EXPORT_QUEUE_MAX: '10', BRIDGE_EXPORT_DELAY_SECONDS: '3600' });
    const traces = await buildTraces([
      ...Array.from({ length: 10 }, (_, i) => `EXP-FULL-${i}`).flatMap(circuit_id => [
        { service: 'beorn', spans: [{ name: 'create', kind: SpanKind.SERVER, startMs: T0, endMs: T0 + 500, attributes: { circuit_id } }] },
        { service: 'mdso', spans: [{ name: 'plan', kind: SpanKind.SERVER, startMs: T0 + 100, endMs: T0 + 300, attributes: { circuit_id } }] },
      ]),
      { service: 'arda', spans: [{ name: 'step', kind: SpanKind.SERVER, startMs: T0 + 50, endMs: T0 + 60, attributes: { circuit_id: 'EXP-FULL-9' } }] },
    ]);
    // Ten beorn → mdso bridges: the queue is at its bound.
    await postSpans(app, traces.slice(0, 20).flatMap(tr => tr.spans));
    // An arda trace between beorn and mdso of the last circuit: beorn → arda → mdso replaces
    // beorn → mdso. One entry leaves the queue with the superseded bridge and two come: one drop.
    await postSpans(app, traces[20]!.spans);
    assert.equal((await app.inject('/api/circuits/EXP-FULL-9')).json<{ bridges: unknown[] }>().bridges.length, 2);
    assert.equal(app.correlator.store.db.prepare('SELECT count(*) FROM export_queue').pluck().get(), 10);
    assert.equal(app.correlator.store.exportQueueDepth(), 10);
    assert.match((await app.inject('/metrics')).body, /\nexport_dropped_total\{reason="queue_full"\} 1\n/);
  });

  it('delivers bridge spans as OTLP protobuf, retrying a 503 and honouring Retry-After', async t => {
    const tempo = await fakeTempo(t, [503]);
    const dir = tempDir(t);
    const app = await buildApp({
      config: loadConfig({ LOG_LEVEL: 'silent', DATA_DIR: dir, TEMPO_OTLP_ENDPOINT: tempo.url, BRIDGE_EXPORT_DELAY_SECONDS: '0' }),
    });
    testCleanup(t)(() => app.close());
    await app.inject({ method: 'POST', url: '/v1/traces', headers: { 'content-type': 'application/x-protobuf' }, payload: await circuitBody() });
    const exporter = app.correlator.exporter!;
    await exporter.tick();
    assert.equal(tempo.bodies.length, 0, 'first attempt refused with 503');
    assert.equal(app.correlator.store.exportQueueDepth(), 1);
    // Retry-After: 0 still leaves the jittered backoff (at most 1 s here), for the batch and for
    // the exporter; move the clock past it instead of sleeping.
    advanceClock(t, 60_000);
    await exporter.tick();
    const spans = exportedSpans(tempo.bodies);
    assert.deepEqual(spans.map(s => [s.service, s.name]), [['correlation-station', 'beorn_to_mdso_bridge']]);
    assert.equal(spans[0]!.links.length, 1);
    assert.equal(app.correlator.store.exportQueueDepth(), 0);
    const metrics = (await app.inject('/metrics')).body;
    assert.match(metrics, /export_spans_sent_total 1/);
    assert.match(metrics, /export_failures_total\{reason="retryable"\} 1/);
  });

  it('takes a bridge it exported, handed back by a collector that also feeds it, as a copy of what it holds', async t => {
    const tempo = await fakeTempo(t);
    const app = await exportingApp(t, tempo.url);
    await app.inject({ method: 'POST', url: '/v1/traces', headers: { 'content-type': 'application/x-protobuf' }, payload: await circuitBody() });
    await app.correlator.exporter!.tick();
    assert.equal(tempo.bodies.length, 1, 'the bridge was exported');
    const view = async () => {
      const summary = (await app.inject('/api/circuits/EXP')).json<{ summary: { services: string[]; spanCount: number; bridgeCount: number; bridged: boolean } }>().summary;
      const trace = (await app.inject('/api/circuits/EXP/trace')).json<{ spans: { serviceName: string; synthetic: boolean }[]; bridgeSpanCount: number }>();
      return { summary, spans: trace.spans.map(s => [s.serviceName, s.synthetic]), bridgeSpanCount: trace.bridgeSpanCount };
    };
    const before = await view();
    assert.deepEqual([before.summary.bridgeCount, before.summary.bridged], [1, true]);
    // As a collector in front of Tempo passes it on, with a resource attribute its processors added.
    const type = otlpTypes().ExportTraceServiceRequest;
    const request = type.toObject(type.decode(tempo.bodies[0]!)) as { resourceSpans: { resource: { attributes: unknown[] } }[] };
    request.resourceSpans[0]!.resource.attributes.push({ key: 'k8s.cluster.name', value: { stringValue: 'prod' } });
    const handedBack = type.encode(type.fromObject(request)).finish();
    const res = await app.inject({ method: 'POST', url: '/v1/traces', headers: { 'content-type': 'application/x-protobuf' }, payload: Buffer.from(handedBack) });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(await view(), before, 'the circuit is as it was: no new service, span or link, its bridge kept');
    assert.match((await app.inject('/metrics')).body, /otlp_ingest_items_total\{signal="traces",outcome="duplicate"\} 1/);
  });

  it('logs a round that fails on the store and delivers on the next one, without ending the process', async t => {
    const tempo = await fakeTempo(t);
    const app = await exportingApp(t, tempo.url);
    await app.inject({ method: 'POST', url: '/v1/traces', headers: { 'content-type': 'application/x-protobuf' }, payload: await circuitBody() });
    const store = app.correlator.store;
    const due = store.dueExports.bind(store);
    let failures = 1;
    store.dueExports = (...args) => {
      if (failures-- > 0) throw Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
      return due(...args);
    };
    await app.correlator.exporter!.tick();
    assert.equal(tempo.bodies.length, 0);
    assert.match((await app.inject('/metrics')).body, /export_failures_total\{reason="store"\} 1/);
    await app.correlator.exporter!.tick();
    assert.equal(exportedSpans(tempo.bodies).length, 1);
    assert.equal(store.exportQueueDepth(), 0);
  });

  it('keeps undelivered bridges across a restart and delivers them when the endpoint is back', async t => {
    const dir = tempDir(t);
    const down = loadConfig({ LOG_LEVEL: 'silent', DATA_DIR: dir, TEMPO_OTLP_ENDPOINT: 'http://127.0.0.1:9', BRIDGE_EXPORT_DELAY_SECONDS: '0' });
    const first = await buildApp({ config: down });
    await first.inject({ method: 'POST', url: '/v1/traces', headers: { 'content-type': 'application/x-protobuf' }, payload: await circuitBody() });
    await first.correlator.exporter!.tick();
    assert.equal(first.correlator.store.exportQueueDepth(), 1);
    await first.close();

    const tempo = await fakeTempo(t);
    const second = await buildApp({
      config: loadConfig({ LOG_LEVEL: 'silent', DATA_DIR: dir, TEMPO_OTLP_ENDPOINT: tempo.url, BRIDGE_EXPORT_DELAY_SECONDS: '0' }),
    });
    testCleanup(t)(() => second.close());
    assert.equal(second.correlator.store.exportQueueDepth(), 1);
    second.correlator.store.db.prepare('UPDATE export_queue SET due_ms = 0').run();
    await second.correlator.exporter!.tick();
    assert.deepEqual(exportedSpans(tempo.bodies).map(s => s.name), ['beorn_to_mdso_bridge']);
  });

  it('drops a batch the endpoint refuses permanently (400) instead of retrying it forever', async t => {
    const tempo = await fakeTempo(t, [400]);
    const app = await exportingApp(t, tempo.url);
    await app.inject({ method: 'POST', url: '/v1/traces', headers: { 'content-type': 'application/x-protobuf' }, payload: await circuitBody() });
    await app.correlator.exporter!.tick();
    assert.equal(app.correlator.store.exportQueueDepth(), 0);
    assert.match((await app.inject('/metrics')).body, /export_dropped_total\{reason="refused"\} 1/);
  });

  it('sends nothing at all while the endpoint asked to wait (503 with Retry-After), then resumes', async t => {
    const tempo = await fakeTempo(t, [503], '30');
    const app = await exportingApp(t, tempo.url, { EXPORT_BATCH_SIZE: '1' });
    await app.inject({ method: 'POST', url: '/v1/traces', headers: { 'content-type': 'application/x-protobuf' }, payload: await circuitBody(['EXP1', 'EXP2', 'EXP3']) });
    const { store } = app.correlator;
    const exporter = app.correlator.exporter!;
    assert.equal(store.exportQueueDepth(), 3);
    await exporter.tick();
    assert.equal(tempo.requests, 1, 'the first batch is refused with 503, Retry-After: 30');
    // The other two bridges are due, and so is the refused one as far as the queue is concerned:
    // only the pause the endpoint asked for holds them back.
    store.db.prepare('UPDATE export_queue SET due_ms = 0').run();
    await exporter.tick();
    assert.equal(tempo.requests, 1, 'no request before Retry-After has passed');
    advanceClock(t, 25_000);
    await exporter.tick();
    assert.equal(tempo.requests, 1, 'Retry-After is 30 s, beyond the jittered backoff');
    advanceClock(t, 31_000);
    await exporter.tick();
    assert.equal(exportedSpans(tempo.bodies).length, 3);
    assert.equal(store.exportQueueDepth(), 0);
    const metrics = (await app.inject('/metrics')).body;
    assert.match(metrics, /export_spans_sent_total 3/);
    assert.match(metrics, /export_failures_total\{reason="retryable"\} 1/);
    assert.match(metrics, /export_queue_depth 0/);
  });

  it('delivers every due batch in one tick, one request at a time', async t => {
    const tempo = await fakeTempo(t);
    const app = await exportingApp(t, tempo.url, { EXPORT_BATCH_SIZE: '1' });
    await app.inject({ method: 'POST', url: '/v1/traces', headers: { 'content-type': 'application/x-protobuf' }, payload: await circuitBody(['EXP1', 'EXP2', 'EXP3']) });
    await app.correlator.exporter!.tick();
    assert.equal(tempo.requests, 3);
    assert.deepEqual(tempo.bodies.map(b => exportedSpans([b]).length), [1, 1, 1]);
    assert.equal(app.correlator.store.exportQueueDepth(), 0);
    const metrics = (await app.inject('/metrics')).body;
    assert.match(metrics, /export_spans_sent_total 3/);
    assert.match(metrics, /export_queue_depth 0/);
  });

  it('ends a tick at the first refusal and keeps the rest queued', async t => {
    const tempo = await fakeTempo(t, [200, 503]);
    const app = await exportingApp(t, tempo.url, { EXPORT_BATCH_SIZE: '1' });
    await app.inject({ method: 'POST', url: '/v1/traces', headers: { 'content-type': 'application/x-protobuf' }, payload: await circuitBody(['EXP1', 'EXP2', 'EXP3']) });
    await app.correlator.exporter!.tick();
    assert.equal(tempo.requests, 2, 'delivered one batch, then stopped at the 503');
    assert.equal(exportedSpans(tempo.bodies).length, 1);
    assert.equal(app.correlator.store.exportQueueDepth(), 2);
    const metrics = (await app.inject('/metrics')).body;
    assert.match(metrics, /export_spans_sent_total 1/);
    assert.match(metrics, /export_failures_total\{reason="retryable"\} 1/);
    assert.match(metrics, /export_queue_depth 2/);
  });
  it('waits at most the longest backoff however long Retry-After asks, in memory and in the queue', async t => {
    const tempo = await fakeTempo(t, [503], '31536000');
    const app = await exportingApp(t, tempo.url);
    await app.inject({ method: 'POST', url: '/v1/traces', headers: { 'content-type': 'application/x-protobuf' }, payload: await circuitBody() });
    const before = Date.now();
    await app.correlator.exporter!.tick();
    assert.equal(tempo.requests, 1);
    const due = app.correlator.store.db.prepare('SELECT due_ms FROM export_queue').pluck().get() as number;
    assert.ok(due <= Date.now() + 5 * 60_000 && due > before, `queued again within 5 minutes, not a year (due in ${due - before} ms)`);
    advanceClock(t, 5 * 60_000 + 1000);
    await app.correlator.exporter!.tick();
    assert.equal(exportedSpans(tempo.bodies).length, 1, 'sent once the longest backoff has passed');
  });

  it('waits twice as long after each refusal in a row, doubling from a second, jittered down to half', async t => {
    const refusals = 6;
    const tempo = await fakeTempo(t, Array.from({ length: refusals }, () => 502));
    const app = await exportingApp(t, tempo.url);
    await app.inject({ method: 'POST', url: '/v1/traces', headers: { 'content-type': 'application/x-protobuf' }, payload: await circuitBody() });
    const realNow = Date.now.bind(Date);
    let ahead = 0;
    t.mock.method(Date, 'now', () => realNow() + ahead);
    const dueMs = () => app.correlator.store.db.prepare('SELECT due_ms FROM export_queue').pluck().get() as number;
    const waits: [number, number][] = [];
    for (let n = 0; n < refusals; n++) {
      const before = Date.now();
      await app.correlator.exporter!.tick();
      const after = Date.now();
      assert.equal(tempo.requests, n + 1, `refusal ${n + 1}`);
      // The wait began at some moment of the tick: between these two bounds.
      waits.push([dueMs() - after, dueMs() - before]);
      ahead += dueMs() - after + 1;
    }
    waits.forEach(([least, most], n) => {
      const exp = 1000 * 2 ** n;
      assert.ok(most >= exp / 2 && least <= exp, `after refusal ${n + 1}: ${least}–${most} ms, not within ${exp / 2}–${exp} ms`);
    });
    await app.correlator.exporter!.tick();
    assert.equal(exportedSpans(tempo.bodies).length, 1, 'delivered once the endpoint takes it');
  });

  it('computes each backoff within 5 minutes, whatever the endpoint asks', () => {
    const now = Date.UTC(2026, 11, 5);
    for (const [attempts, retryAfter, min] of [
      [0, null, 500],
      [3, null, 4000],
      [30, null, 150_000],
      [0, '30', 30_000],
      [0, '31536000', 300_000],
      [0, new Date(now + 86_400_000).toUTCString(), 300_000],
      [0, new Date(now - 1000).toUTCString(), 500],
    ] as const) {
      const ms = backoffMs(attempts, retryAfter, now);
      assert.ok(ms >= min && ms <= 300_000, `attempts ${attempts}, Retry-After ${retryAfter}: ${ms} ms`);
    }
  });

  const refusedInTwoHundred = (form: 'JSON' | 'protobuf', rejectedSpans: number, errorMessage: string) =>
    form === 'JSON'
      ? { body: new TextEncoder().encode(JSON.stringify({ partialSuccess: { rejectedSpans: String(rejectedSpans), errorMessage } })), contentType: 'application/json' }
      : {
          body: otlpTypes().ExportTraceServiceResponse.encode({ partialSuccess: { rejectedSpans, errorMessage } }).finish(),
          contentType: 'application/x-protobuf',
        };
  // Of the 2 spans sent. A 2xx claiming more than it was sent counts them all, and none sent.
  for (const [title, form, rejected, sent, counted] of [
    ['(JSON) as rejected, not sent', 'JSON', 1, 1, 1],
    ['(protobuf) as rejected, not sent', 'protobuf', 1, 1, 1],
    ['as no more than it was sent when it claims more, and none sent', 'protobuf', 5, 0, 2],
  ] as const) {
    it(`counts the spans a 2xx refused in partial_success ${title}`, async t => {
      const tempo = await fakeTempo(t, [], '0', refusedInTwoHundred(form, rejected, 'span too old'));
      const app = await exportingApp(t, tempo.url);
      await app.inject({ method: 'POST', url: '/v1/traces', headers: { 'content-type': 'application/x-protobuf' }, payload: await circuitBody(['EXP1', 'EXP2']) });
      await app.correlator.exporter!.tick();
      assert.equal(exportedSpans(tempo.bodies).length, 2);
      const metrics = (await app.inject('/metrics')).body;
      assert.match(metrics, new RegExp(`\\nexport_spans_sent_total ${sent}\\n`));
      assert.match(metrics, new RegExp(`\\nexport_spans_rejected_total ${counted}\\n`));
      assert.equal(app.correlator.store.exportQueueDepth(), 0, 'not retried: the same spans would be refused again');
    });
  }

  it('stops without waiting for an endpoint that does not answer, and keeps the batch queued for the next start', { timeout: 30_000 }, async t => {
    const tempo = await fakeTempo(t, [], '0', 'hang');
    const app = await exportingApp(t, tempo.url);
    await app.inject({ method: 'POST', url: '/v1/traces', headers: { 'content-type': 'application/x-protobuf' }, payload: await circuitBody() });
    const { store, metrics } = app.correlator;
    // Its own exporter, with a request timeout longer than the test's: only stop() can end the request.
    const exporter = new TempoExporter({ endpoint: tempo.url, headers: {}, batchSize: 512, store, metrics, logger: app.log, requestTimeoutMs: 600_000 });
    exporter.start();
    const round = exporter.tick();
    await until(async () => (tempo.requests > 0 ? true : null), 'the request to reach the endpoint');
    await exporter.stop();
    await round;
    // The server sees the connection go a moment after the client drops it.
    await until(async () => (tempo.closedUnanswered.length > 0 ? true : null), 'the endpoint to see the request abandoned');
    assert.equal(tempo.closedUnanswered.length, 1, 'the request in flight was abandoned');
    assert.equal(store.exportQueueDepth(), 1, 'the batch is still queued');
    const due = store.db.prepare('SELECT due_ms FROM export_queue').pluck().get() as number;
    assert.ok(due <= Date.now(), 'and due at once');
    assert.doesNotMatch((await app.inject('/metrics')).body, /export_failures_total\{reason="network"\} [1-9]/, 'a stop is no endpoint failure');
  });

  it('logs why a request failed, not only that it did', async t => {
    // A port nothing listens on: the connection is refused.
    const closed = createServer();
    await new Promise<void>(r => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>(r => closed.close(() => r()));
    const app = await exportingApp(t, `http://127.0.0.1:${port}`);
    await app.inject({ method: 'POST', url: '/v1/traces', headers: { 'content-type': 'application/x-protobuf' }, payload: await circuitBody() });
    const warnings: unknown[] = [];
    const logger = Object.assign(Object.create(app.log) as typeof app.log, { warn: (obj: unknown) => warnings.push(obj) });
    const { store, metrics } = app.correlator;
    const exporter = new TempoExporter({ endpoint: `http://127.0.0.1:${port}`, headers: {}, batchSize: 512, store, metrics, logger });
    await exporter.tick();
    assert.equal(warnings.length, 1);
    assert.match((warnings[0] as { err: string }).err, /ECONNREFUSED/);
    assert.equal(store.exportQueueDepth(), 1, 'kept for the next attempt');
  });

  it('warns of retryable HTTP refusals once per outage and every 5 minutes after, and says when delivery resumes', async t => {
    const tempo = await fakeTempo(t, [503, 503, 503], '30');
    const app = await exportingApp(t, tempo.url);
    await app.inject({ method: 'POST', url: '/v1/traces', headers: { 'content-type': 'application/x-protobuf' }, payload: await circuitBody() });
    const logged: Array<{ level: string; msg: string; obj: Record<string, unknown> }> = [];
    const capture = (level: string) => (obj: Record<string, unknown>, msg: string) => logged.push({ level, msg, obj });
    const logger = Object.assign(Object.create(app.log) as typeof app.log, { warn: capture('warn'), info: capture('info'), error: capture('error') });
    const { store, metrics } = app.correlator;
    const exporter = new TempoExporter({ endpoint: tempo.url, headers: {}, batchSize: 512, store, metrics, logger });
    let offsetMs = 0;
    const realNow = Date.now.bind(Date);
    t.mock.method(Date, 'now', () => realNow() + offsetMs);
    // [clock moved before the tick, messages the tick logs]: past each Retry-After, so every tick sends.
    const steps: Array<[number, string[]]> = [
      [0, ['warn bridge export refused by the endpoint for now; will retry']],
      [60_000, []],
      [6 * 60_000, ['warn bridge export refused by the endpoint for now; will retry']],
      [60_000, ['info bridge export delivering again']],
    ];
    for (const [i, [advanceMs, messages]] of steps.entries()) {
      offsetMs += advanceMs;
      const before = logged.length;
      await exporter.tick();
      assert.deepEqual(logged.slice(before).map(l => `${l.level} ${l.msg}`), messages, `tick ${i + 1}`);
    }
    assert.equal(tempo.requests, 4, 'every tick sent its request');
    const warnings = logged.filter(l => l.level === 'warn').map(l => l.obj);
    assert.deepEqual(
      warnings.map(w => [w.status, w.retryAfter, w.refusalsNotLogged]),
      [
        [503, '30', 0],
        [503, '30', 1],
      ],
    );
    assert.equal(warnings[0]!.failingSince, warnings[1]!.failingSince, 'one outage, one start');
    assert.equal(logged.at(-1)!.obj.failedAttempts, 3);
    assert.equal(store.exportQueueDepth(), 0);
  });

  it('logs an excerpt of the answer to a permanent refusal and counts the drop as refused', async t => {
    const reason = 'unknown tenant "ops": no such org id';
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(400, { 'content-type': 'text/plain' }).end(`${reason}\n${'x'.repeat(2000)}`));
    });
    await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
    t.after(() => new Promise<void>(r => (server.closeAllConnections(), server.close(() => r()))));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const app = await exportingApp(t, endpoint);
    await app.inject({ method: 'POST', url: '/v1/traces', headers: { 'content-type': 'application/x-protobuf' }, payload: await circuitBody() });
    const errors: Array<Record<string, unknown>> = [];
    const logger = Object.assign(Object.create(app.log) as typeof app.log, { error: (obj: Record<string, unknown>) => errors.push(obj) });
    const { store, metrics } = app.correlator;
    await new TempoExporter({ endpoint, headers: {}, batchSize: 512, store, metrics, logger }).tick();
    assert.equal(errors.length, 1);
    const response = errors[0]!.response as string;
    assert.ok(response.startsWith(reason), `the endpoint's reason is logged: ${response.slice(0, 80)}`);
    assert.equal(response.length, 512, 'bounded to 512 bytes');
    assert.equal(errors[0]!.responseBytes, reason.length + 1 + 2000);
    const text = (await app.inject('/metrics')).body;
    assert.match(text, /\nexport_dropped_total\{reason="refused"\} 1\n/);
    assert.match(text, /\nexport_dropped_total\{reason="queue_full"\} 0\n/);
  });

  it('appends /v1/traces to the endpoint path and keeps its query', () => {
    for (const [endpoint, url] of [
      ['http://tempo:4318', 'http://tempo:4318/v1/traces'],
      ['http://tempo:4318/', 'http://tempo:4318/v1/traces'],
      ['http://tempo:4318/v1/traces', 'http://tempo:4318/v1/traces'],
      ['https://gw.example/otlp/', 'https://gw.example/otlp/v1/traces'],
      ['http://tempo:4318/?tenant=ops', 'http://tempo:4318/v1/traces?tenant=ops'],
      ['http://tempo:4318/otlp?tenant=ops&x=1', 'http://tempo:4318/otlp/v1/traces?tenant=ops&x=1'],
    ] as const)
      assert.equal(tracesUrl(endpoint), url, endpoint);
  });
});
