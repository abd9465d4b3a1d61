// The stitched view writes its spans' JSON straight from the stored OTLP bytes (span-json.ts and
// span-json-writer.ts). These tests hold it to the reference: the same reply built the plain way
// (toApiSpans + orderForTimeline, serialized by fastify with the route's StitchedTrace schema) must
// come out byte for byte the same, and the reply must validate against the schema.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StitchedTrace, TraceDetail, type Bridge } from '@correlation-station/api-schema';
import Fastify, { type FastifyInstance } from 'fastify';
import { Value } from 'typebox/value';
import { JsonParts, JsonPartsBuilder } from '../../src/api/json-parts.js';
import { RenderedSpanCache, ViewLookup, emptyHeldJsonSink, type HeldJsonSink } from '../../src/api/rendered-span-cache.js';
import { sendWithSpans, timelineSpansJson, timelineSpansJsonShared } from '../../src/api/span-json.js';
import { MIN_SPANS_PER_SHARE, SpanRenderWorkers } from '../../src/api/span-render-workers.js';
import { apiResources, orderForTimeline, toApiSpans } from '../../src/api/span-view.js';
import { otlpTypes } from '../../src/otlp/schema.js';
import type { StoredResource, StoredSpan, ViewSpan } from '../../src/store/store.js';
import { SpanKind, buildTraces, tracesProtobuf } from '../fixtures/otel-sdk.js';
import { buildTestApp } from './app-fixture.js';
import { withClockChecks } from '../../src/stitching/clock-skew.js';

const T0 = Date.UTC(2026, 10, 21, 12, 0, 0);

/** A body's pieces as one string, as the socket receives them. */
const joined = (body: JsonParts): string => Buffer.concat(body.parts).toString('utf8');

/** Where the cache holds the JSON of each of `spans`, which it must hold. */
function heldJson(cache: RenderedSpanCache, spans: readonly ViewSpan[]): HeldJsonSink {
  const sink = emptyHeldJsonSink(spans.length);
  const lookup = new ViewLookup(cache);
  spans.forEach((span, i) => assert.ok(lookup.fill(span, sink, i), `span ${span.spanId} is held`));
  return sink;
}
const NS = 1_000_000n;

interface Reply {
  circuitId: string;
  traceIds: string[];
  tracesTruncated: boolean;
  traceCount: number;
  bridges: Bridge[];
  spanCount: number;
  bridgeSpanCount: number;
  truncated: boolean;
}

/** Two routes with the StitchedTrace schema: the plain object path and the span-json path. */
async function serializers(t: { after(fn: () => Promise<void>): void }) {
  const app: FastifyInstance = Fastify();
  let reply: Reply;
  let stored: StoredSpan[] = [];
  app.get('/reference', { schema: { response: { 200: StitchedTrace } } }, async () => ({
    ...reply,
    spans: orderForTimeline(toApiSpans(stored)),
    resources: apiResources(stored),
  }));
  app.get('/fast', { schema: { response: { 200: StitchedTrace } } }, async (_req, res) => {
    return sendWithSpans(res, { ...reply, spans: [] }, stored);
  });
  await app.ready();
  t.after(() => app.close());
  return async (r: Reply, spans: StoredSpan[]) => {
    reply = r;
    stored = spans;
    const [reference, fast] = await Promise.all([app.inject('/reference'), app.inject('/fast')]);
    assert.equal(reference.statusCode, 200, reference.body);
    assert.equal(fast.statusCode, 200, fast.body);
    return { reference: reference.body, fast: fast.body, contentType: fast.headers['content-type'] };
  };
}

type Attr = { key: string; value: Record<string, unknown> };
const s = (v: string) => ({ stringValue: v });

function spanBytes(span: Record<string, unknown>): Buffer {
  const { Span } = otlpTypes();
  return Buffer.from(Span.encode(Span.fromObject(span)).finish());
}

function resourceBytes(attributes: Attr[]): Buffer {
  const { Resource } = otlpTypes();
  return Buffer.from(Resource.encode(Resource.fromObject({ attributes })).finish());
}

const otlpResource: StoredResource = {
  id: 3,
  serviceName: 'beorn',
  scopeName: 'beorn-instrumentation',
  scopeVersion: '1.4.0',
  body: resourceBytes([
    { key: 'service.name', value: s('beorn') },
    { key: 'host.name', value: s('beorn-7d9f8b "x"') },
    { key: '1', value: { intValue: 1 } },
  ]),
};
const jsonResource: StoredResource = {
  id: 1,
  serviceName: 'batch',
  scopeName: '',
  scopeVersion: '',
  body: Buffer.from(JSON.stringify({ 'service.name': 'batch', nested: { a: [1, 'b'] }, '0': true })),
};

const hex = (n: number, bytes: number) => n.toString(16).padStart(bytes * 2, '0');
const idBytes = (h: string) => Buffer.from(h, 'hex');

function stored(
  n: number,
  opts: {
    startMs: number;
    parent?: number;
    attributes?: Attr[];
    extra?: Record<string, unknown>;
    resource?: StoredResource;
    service?: string;
    body?: Buffer;
  },
): StoredSpan {
  const traceId = hex(7, 16);
  const spanId = hex(n, 8);
  const body =
    opts.body ??
    spanBytes({
      traceId: idBytes(traceId),
      spanId: idBytes(spanId),
      ...(opts.parent !== undefined ? { parentSpanId: idBytes(hex(opts.parent, 8)) } : {}),
      name: `span ${n}`,
      kind: 2,
      startTimeUnixNano: (BigInt(opts.startMs) * NS + 123n).toString(),
      endTimeUnixNano: (BigInt(opts.startMs + 5) * NS + 456_789n).toString(),
      attributes: opts.attributes ?? [],
      ...opts.extra,
    });
  return {
    traceId,
    spanId,
    parentSpanId: opts.parent !== undefined ? hex(opts.parent, 8) : '',
    service: opts.service ?? 'beorn',
    startMs: opts.startMs,
    synthetic: false,
    body,
    resource: opts.resource ?? otlpResource,
    stamp: null,
    slot: -1,
  };
}

const envelope = (spans: StoredSpan[]): Reply => ({
  circuitId: '80.L1XX.005054..CHTR "quoted" "spans":[]',
  traceIds: [hex(7, 16)],
  tracesTruncated: false,
  traceCount: 1,
  bridges: [
    {
      spanId: hex(99, 8),
      traceId: hex(7, 16),
      parentSpanId: hex(1, 8),
      childTraceId: hex(8, 16),
      childSpanId: hex(2, 8),
      parentService: 'beorn',
      childService: 'mdso',
      key: 'circuit_id',
      value: '80.L1XX.005054..CHTR',
      method: 'key',
      confidence: 0.9,
      basis: 'named_call',
      gapMs: 12.5,
      createdAt: new Date(T0).toISOString(),
    },
  ],
  spanCount: spans.length + 3,
  bridgeSpanCount: 1,
  truncated: true,
});

describe('stitched view JSON written from stored span bytes', () => {
  it('matches the schema serializer of the plain conversion, byte for byte, for every kind of attribute value and key', async t => {
    const check = await serializers(t);
    const spans = [
      stored(1, {
        startMs: T0,
        attributes: [
          { key: 'circuit_id', value: s('80.L1XX.005054..CHTR') },
          { key: 'escaped', value: s('quote " backslash \\ newline \n tab \t nul \u0000 del \u007f') },
          { key: 'unicode', value: s('clé ✓ 😀 \u2028') },
          { key: 'bool', value: { boolValue: true } },
          { key: 'int', value: { intValue: 8443 } },
          { key: 'negative', value: { intValue: -5 } },
          { key: 'big', value: { intValue: '9007199254740993' } },
          { key: 'minInt', value: { intValue: '-9223372036854775808' } },
          { key: 'double', value: { doubleValue: 0.1 } },
          { key: 'nan', value: { doubleValue: Number.NaN } },
          { key: 'inf', value: { doubleValue: Number.POSITIVE_INFINITY } },
          { key: 'bytes', value: { bytesValue: Buffer.from([0, 1, 2, 250]) } },
          { key: 'array', value: { arrayValue: { values: [s('a'), { intValue: 2 }, { kvlistValue: { values: [{ key: '9', value: s('x') }, { key: 'b', value: s('y') }] } }] } } },
          { key: 'map', value: { kvlistValue: { values: [{ key: 'z', value: s('1') }, { key: 'z', value: s('2') }] } } },
          { key: 'empty', value: {} },
          { key: 'key "with" quotes\\', value: s('v') },
          { key: '', value: s('empty key') },
        ],
        extra: {
          status: { code: 2, message: 'downstream "failed"' },
          events: [
            { timeUnixNano: (BigInt(T0 + 1) * NS).toString(), name: 'step.completed', attributes: [{ key: 'step.attempt', value: { intValue: 1 } }] },
            { name: 'no time, no attributes' },
          ],
          links: [{ traceId: idBytes(hex(8, 16)), spanId: idBytes(hex(2, 8)), attributes: [{ key: 'link.kind', value: s('bridge') }] }],
        },
      }),
      // Keys a JavaScript object reorders, merges or drops: these spans take the object path.
      stored(2, { startMs: T0 + 1, parent: 1, attributes: [{ key: 'b', value: s('1') }, { key: '10', value: s('2') }, { key: '2', value: s('3') }] }),
      stored(3, { startMs: T0 + 2, parent: 1, attributes: [{ key: 'dup', value: s('first') }, { key: 'x', value: s('x') }, { key: 'dup', value: s('last') }] }),
      stored(4, { startMs: T0 + 3, parent: 1, attributes: [{ key: '__proto__', value: s('p') }, { key: 'line\nbreak', value: s('kept') }, { key: 'sep\u2028', value: s('kept') }] }),
      stored(5, { startMs: T0 + 4, parent: 1, attributes: [{ key: 'ключ', value: s('значение') }, { key: '3d', value: s('not an index') }] }),
      stored(6, { startMs: T0 + 5, parent: 1, extra: { status: { code: 1, message: '' }, kind: 9, name: '' }, resource: jsonResource, service: 'batch "svc"' }),
      // An all-zero parent id is no parent.
      stored(7, { startMs: T0 + 6, extra: { parentSpanId: Buffer.alloc(8) } }),
    ];
    const { reference, fast, contentType } = await check(envelope(spans), spans);
    assert.equal(fast, reference);
    assert.equal(contentType, 'application/json; charset=utf-8');
    const parsed: unknown = JSON.parse(fast);
    assert.ok(Value.Check(StitchedTrace, parsed), JSON.stringify([...Value.Errors(StitchedTrace, parsed)].slice(0, 3)));
    const view = parsed as StitchedTrace;
    assert.equal(view.spans.length, spans.length);
    // The fixture really holds what the test claims to cover.
    const first = view.spans.find(x => x.spanId === hex(1, 8))!;
    assert.equal(first.attributes.big, '9007199254740993');
    // As OTLP/JSON writes them; null would read as an empty value.
    assert.equal(first.attributes.nan, 'NaN');
    assert.equal(first.attributes.inf, 'Infinity');
    assert.deepEqual(first.status, { code: 'error', message: 'downstream "failed"' });
    assert.deepEqual(Object.keys(view.spans.find(x => x.spanId === hex(2, 8))!.attributes), ['2', '10', 'b']);
    assert.deepEqual(view.spans.find(x => x.spanId === hex(3, 8))!.attributes, { dup: 'last', x: 'x' });
    // `__proto__` is an attribute like any other, and so are keys with line terminators.
    assert.deepEqual(view.spans.find(x => x.spanId === hex(4, 8))!.attributes, { ['__proto__']: 'p', 'line\nbreak': 'kept', 'sep\u2028': 'kept' });
    assert.equal(view.spans.find(x => x.spanId === hex(7, 8))!.parentSpanId, '');
  });

  it('matches the reference at the edges of the common attribute shape and of the key table', async t => {
    const check = await serializers(t);
    const ints = [0, 1, 127, 128, 2 ** 14 - 1, 2 ** 14, 2 ** 21 - 1, 2 ** 21, 2 ** 28 - 1, 2 ** 28, 2 ** 31];
    const spans = [
      stored(1, {
        startMs: T0,
        attributes: [
          ...ints.map(n => ({ key: `int.${n}`, value: { intValue: n } })),
          { key: 'false', value: { boolValue: false } },
          { key: 'empty.string', value: s('') },
          { key: 'len.127', value: s('x'.repeat(127)) },
          { key: 'len.128', value: s('y'.repeat(128)) },
          { key: 'k'.repeat(128), value: s('long key') },
          { key: '_private', value: s('underscore, not __proto__') },
          { key: '~tilde', value: s('printable edge') },
        ],
      }),
      // A repeated key where one occurrence has the common shape and the other does not.
      stored(2, { startMs: T0 + 1, parent: 1, attributes: [{ key: 'dup', value: s('common') }, { key: 'dup', value: { doubleValue: 1.5 } }] }),
      stored(3, { startMs: T0 + 2, parent: 1, attributes: [{ key: 'dup', value: { doubleValue: 1.5 } }, { key: 'dup', value: s('common') }] }),
      stored(4, { startMs: T0 + 3, parent: 1, attributes: [{ key: 'dup', value: { intValue: 7 } }, { key: 'other', value: s('o') }, { key: 'dup', value: { intValue: 8 } }] }),
      // More keys than the written-keys table holds, so the span takes the object path.
      stored(5, { startMs: T0 + 4, parent: 1, attributes: Array.from({ length: 300 }, (_, i) => ({ key: `attr.${i}`, value: s(`v${i}`) })) }),
      // Keys that collide in the table's slots must still be told apart.
      stored(6, { startMs: T0 + 5, parent: 1, attributes: Array.from({ length: 120 }, (_, i) => ({ key: `c${i}`, value: { intValue: i } })) }),
    ];
    const { reference, fast } = await check(envelope(spans), spans);
    assert.equal(fast, reference);
    const view = JSON.parse(fast) as StitchedTrace;
    const first = view.spans.find(x => x.spanId === hex(1, 8))!;
    assert.equal(first.attributes['int.268435456'], 268435456);
    assert.equal(first.attributes.false, false);
    assert.equal(first.attributes['empty.string'], '');
    assert.deepEqual(view.spans.find(x => x.spanId === hex(2, 8))!.attributes, { dup: 1.5 });
    assert.deepEqual(view.spans.find(x => x.spanId === hex(3, 8))!.attributes, { dup: 'common' });
    assert.deepEqual(view.spans.find(x => x.spanId === hex(4, 8))!.attributes, { dup: 8, other: 'o' });
    assert.equal(Object.keys(view.spans.find(x => x.spanId === hex(5, 8))!.attributes).length, 300);
    assert.equal(Object.keys(view.spans.find(x => x.spanId === hex(6, 8))!.attributes).length, 120);
  });

  it('writes times and durations as the reference does at the edges of 64-bit decimals', async t => {
    const check = await serializers(t);
    // [start, end] in nanoseconds: below and at 2^32, a last-four-digit group with leading zeros,
    // the largest uint64, fractional and whole milliseconds, and ends before the start (0, and a
    // nanosecond before it, where the hi words are equal).
    const times: Array<[string, string]> = [
      ['0', '0'],
      ['1', '999999'],
      ['4294967295', '4294967296'],
      ['4294967297', '42949672960000'],
      ['1000000000000000005', '1000000000000000050'],
      ['1795316688625000000', '1795316688666000000'],
      ['1795316688625123456', '1795316688625123999'],
      ['1795316688625000500', '1795316688624000000'],
      ['18446744073709551615', '18446744073709551615'],
      // Around 10^8 and its multiples, where the digits are written in groups of eight.
      ['99999999', '100000000'],
      ['100000001', '999999999999'],
      ['1000000000000', '1000000000001'],
      ['1000000001000000000', '1000000100000000000'],
      ['1795316688625000000', '0'],
      ['1795316688625000001', '1795316688625000000'],
    ];
    // And pseudo-random ones around now, with every digit of the low groups in play.
    let x = 0x2545f491;
    for (let i = 0; i < 40; i++) {
      x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
      const start = 1_795_316_688_625_000_000n + BigInt(x) * 7919n;
      x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
      times.push([start.toString(), (start + BigInt(x % 5_000_000_000)).toString()]);
    }
    const spans = times.map(([start, end], i) =>
      stored(i + 1, {
        startMs: T0 + i,
        body: spanBytes({
          traceId: idBytes(hex(7, 16)),
          spanId: idBytes(hex(i + 1, 8)),
          name: `times ${i}`,
          startTimeUnixNano: start,
          endTimeUnixNano: end,
          events: [{ timeUnixNano: end, name: 'at the end' }],
        }),
      }),
    );
    const { reference, fast } = await check(envelope(spans), spans);
    assert.equal(fast, reference);
    const view = JSON.parse(fast) as StitchedTrace;
    const written = new Map(view.spans.map(x => [x.name, x]));
    for (const [i, [start, end]] of times.entries()) {
      const span = written.get(`times ${i}`)!;
      assert.equal(span.startTimeUnixNano, start);
      // An end before the start is shown as the start, by both paths (item-times.ts).
      assert.equal(span.endTimeUnixNano, BigInt(end) < BigInt(start) ? start : end);
      assert.equal(span.events[0]!.timeUnixNano, end);
    }
    // Durations come from the exact nanosecond difference, not from two rounded epoch times.
    assert.equal(written.get('times 1')!.durationMs, 1);
    assert.equal(written.get('times 6')!.durationMs, 0.001);
    assert.equal(written.get('times 7')!.durationMs, 0);
    for (const name of ['times 7', 'times 13', 'times 14']) {
      const span = written.get(name)!;
      assert.deepEqual([span.endTimeUnixNano, span.durationMs], [span.startTimeUnixNano, 0], `${name} ends at its start`);
    }
    assert.equal(written.get('times 12')!.startTimeMs, 1_000_000_001_000);
    assert.equal(written.get('times 4')!.durationMs, 0);
  });

  it('orders the timeline as orderForTimeline does when roots tie with earlier-read spans', async t => {
    const check = await serializers(t);
    // Read order (start time, then id) puts children before the root they tie with.
    const spans = [
      stored(1, { startMs: T0, parent: 9 }),
      stored(2, { startMs: T0, parent: 9 }),
      stored(9, { startMs: T0 }),
      stored(3, { startMs: T0 - 1, parent: 9 }),
      stored(5, { startMs: T0 + 2 }),
      stored(4, { startMs: T0 + 2 }),
    ];
    const { reference, fast } = await check(envelope(spans), spans);
    assert.equal(fast, reference);
    const ids = (JSON.parse(fast) as StitchedTrace).spans.map(x => x.spanId);
    assert.deepEqual(ids, [hex(3, 8), hex(9, 8), hex(1, 8), hex(2, 8), hex(4, 8), hex(5, 8)]);
  });

  it('puts a span after its parent when they start together, whatever their ids', async t => {
    const check = await serializers(t);
    // 1 ← 2 ← 3 all at T0 + 1, read in id order: 3's parent 2 and 2's parent 1 are non-roots too.
    const spans = [
      stored(9, { startMs: T0 }),
      stored(3, { startMs: T0 + 1, parent: 2 }),
      stored(4, { startMs: T0 + 1, parent: 9 }),
      stored(5, { startMs: T0 + 1, parent: 8 }),
      stored(2, { startMs: T0 + 1, parent: 6 }),
      stored(6, { startMs: T0 + 1, parent: 9 }),
      stored(8, { startMs: T0 + 1, parent: 9 }),
    ];
    const { reference, fast } = await check(envelope(spans), spans);
    assert.equal(fast, reference);
    const view = (JSON.parse(fast) as StitchedTrace).spans;
    const at = new Map(view.map((x, i) => [x.spanId, i]));
    for (const x of view) if (at.has(x.parentSpanId)) assert.ok(at.get(x.parentSpanId)! < at.get(x.spanId)!, `${x.spanId} after its parent ${x.parentSpanId}`);
    // Otherwise in id order, passes of the spans whose parents are placed.
    assert.deepEqual(view.map(x => x.spanId), [9, 4, 6, 8, 2, 3, 5].map(n => hex(n, 8)));
  });

  it('reports a malformed stored span as the plain conversion does', () => {
    const good = stored(1, { startMs: T0 });
    const truncated = { ...good, body: good.body.subarray(0, good.body.length - 3) };
    const plain = (() => {
      try {
        toApiSpans([truncated]);
        return null;
      } catch (err) {
        return err as Error;
      }
    })();
    assert.ok(plain, 'the fixture must be malformed');
    assert.throws(() => timelineSpansJson([truncated]), { name: plain.name, message: plain.message });
  });

  it('serves the same bytes as the plain conversion for ingested SDK traces', async t => {
    const app = await buildTestApp(t);
    const cid = '80.L1XX.005054..CHTR';
    const built = await buildTraces([
      {
        service: 'beorn',
        spans: [
          { name: 'POST /beorn/api/v1/service/create', kind: SpanKind.SERVER, startMs: T0, endMs: T0 + 900, attributes: { circuit_id: cid, 'http.response.status_code': 201, retried: false, tags: ['a', 'b'] } },
          {
            name: 'POST mdso/resources',
            kind: SpanKind.CLIENT,
            startMs: T0 + 20,
            endMs: T0 + 80,
            parent: 'POST /beorn/api/v1/service/create',
            attributes: { circuit_id: cid, ratio: 0.25 },
            events: [{ name: 'retry', atMs: T0 + 30, attributes: { attempt: 2 } }],
          },
        ],
      },
      {
        service: 'mdso',
        spans: [
          { name: 'mdso.product.CircuitDetailsCollector', startMs: T0 + 100, endMs: T0 + 700, attributes: { 'mdso.circuit_id': cid, 'naïve': 'é' }, error: true },
          { name: 'GET arda topology', kind: SpanKind.CLIENT, startMs: T0 + 150, endMs: T0 + 400, parent: 'mdso.product.CircuitDetailsCollector', attributes: { 'mdso.circuit_id': cid } },
        ],
      },
    ]);
    for (const trace of built) {
      const res = await app.inject({ method: 'POST', url: '/v1/traces', headers: { 'content-type': 'application/x-protobuf' }, payload: tracesProtobuf(trace.spans) });
      assert.equal(res.statusCode, 200, res.body);
    }
    const served = await app.inject(`/api/circuits/${encodeURIComponent(cid)}/trace`);
    assert.equal(served.statusCode, 200);
    assert.equal(served.headers['content-type'], 'application/json; charset=utf-8');

    const store = app.correlator.store;
    const traceIds = await store.circuitTraceIds(cid);
    const { spans, total, bridgeTotal } = await store.spansOfTraces(traceIds, 20000);
    assert.ok(spans.some(x => x.synthetic), 'the circuit has a bridge span');
    const check = await serializers(t);
    const { reference } = await check(
      {
        circuitId: cid,
        traceIds,
        tracesTruncated: false,
        traceCount: traceIds.length,
        // As the route serves them: checked against the clocks of the circuit's calls.
        bridges: withClockChecks(await store.bridgesOf({ circuitId: cid }), await store.serviceCallsOf(traceIds)),
        spanCount: total,
        bridgeSpanCount: bridgeTotal,
        truncated: false,
      },
      spans,
    );
    assert.equal(served.body, reference);
    assert.ok(Value.Check(StitchedTrace, JSON.parse(served.body)), 'Value.Check(StitchedTrace, JSON.parse(served.body))');
    const again = await app.inject(`/api/circuits/${encodeURIComponent(cid)}/trace`);
    assert.equal(again.body, reference, 'the same bytes from held span JSON');
    const metrics = (await app.inject('/metrics')).body;
    assert.match(metrics, new RegExp(`span_json_cache_lookups_total\\{outcome="hit"\\} ${spans.length}\\n`));
    assert.match(metrics, /span_json_cache_bytes [1-9]/);

    // The trace detail route writes its spans the same way.
    const traceId = traceIds[0]!;
    const detail = await app.inject(`/api/traces/${traceId}`);
    assert.equal(detail.statusCode, 200);
    const [summary] = await store.traceSummaries([traceId]);
    const ofTrace = await store.spansOfTraces([traceId], 100000);
    const links = await store.links(traceId);
    const plain = Fastify();
    t.after(() => plain.close());
    plain.get('/detail', { schema: { response: { 200: TraceDetail } } }, async () => ({
      summary: summary!,
      spans: orderForTimeline(toApiSpans(ofTrace.spans)),
      spanCount: ofTrace.total,
      bridgeSpanCount: ofTrace.bridgeTotal,
      truncated: false,
      resources: apiResources(ofTrace.spans),
      correlations: await store.correlations({ trace_id: traceId, limit: 500 }),
      correlationsTruncated: false,
      bridges: await store.bridgesOf({ traceId }),
      linksOut: links.out,
      linksIn: links.in,
    }));
    const expected = await plain.inject('/detail');
    assert.equal(expected.statusCode, 200, expected.body);
    assert.ok(ofTrace.spans.length >= 2, 'ofTrace.spans.length >= 2');
    assert.equal(detail.body, expected.body);
    assert.ok(Value.Check(TraceDetail, JSON.parse(detail.body)), 'Value.Check(TraceDetail, JSON.parse(detail.body))');
  });
});

describe('resources of a reply', () => {
  it('lists the resource and scope of each span once, by id, decoded from OTLP or JSON bytes', () => {
    const spans = [
      stored(1, { startMs: T0 }),
      stored(2, { startMs: T0 + 1, resource: jsonResource }),
      stored(3, { startMs: T0 + 2 }),
      // Another object for the same stored resource: still one entry.
      stored(4, { startMs: T0 + 3, resource: { ...otlpResource } }),
    ];
    assert.deepEqual(apiResources(spans), [
      { id: 1, attributes: { 'service.name': 'batch', nested: { a: [1, 'b'] }, '0': true }, scope: { name: '', version: '' } },
      {
        id: 3,
        attributes: { 'service.name': 'beorn', 'host.name': 'beorn-7d9f8b "x"', '1': 1 },
        scope: { name: 'beorn-instrumentation', version: '1.4.0' },
      },
    ]);
    assert.deepEqual(apiResources([]), []);
    assert.deepEqual(
      toApiSpans(spans).map(sp => sp.resourceId),
      [3, 1, 3, 3],
    );
  });
});

describe('span JSON cache', () => {
  const attrs = (n: number): Attr[] => [
    { key: 'circuit_id', value: s(`circuit-${n}`) },
    { key: 'step', value: { intValue: n } },
  ];
  const timeline = (count: number, first = 1) =>
    Array.from({ length: count }, (_, k) =>
      stored(first + k, { startMs: T0 + (first + k) * 3, parent: first + k > 1 ? 1 : undefined, attributes: attrs(first + k) }),
    );
  const uncached = (spans: StoredSpan[]) => joined(timelineSpansJson(spans, '{"head":', '}'));
  const cached = (spans: ViewSpan[], cache: RenderedSpanCache) =>
    joined(timelineSpansJson(spans, '{"head":', '}', new ViewLookup(cache)));

  it('gives the same bytes on a miss, on a hit and on a mix of both, in timeline order', () => {
    const cache = new RenderedSpanCache(1 << 20);
    const spans = timeline(12);
    // Read order puts a child before the root it ties with, so the writer reorders.
    spans.push(stored(40, { startMs: T0 + 36, parent: 41 }), stored(41, { startMs: T0 + 36 }));
    const expected = uncached(spans);
    assert.equal(cached(spans, cache), expected, 'all rendered');
    assert.equal(cache.misses, spans.length);
    assert.equal(cached(spans, cache), expected, 'all held');
    assert.equal(cache.hits, spans.length);
    const grown = [...spans, ...timeline(5, 20)].sort((a, b) => a.startMs - b.startMs || (a.spanId < b.spanId ? -1 : 1));
    assert.equal(cached(grown, cache), uncached(grown), 'held and new spans interleaved');
    assert.equal(cache.hits, spans.length * 2);
    assert.equal(cache.size, grown.length);
  });

  const oneByteChanged = (body: Buffer, text: string): Buffer => {
    const copy = Buffer.from(body);
    const at = copy.indexOf(text) + text.length - 1;
    assert.ok(at >= text.length - 1, `${text} is in the span`);
    copy[at] = 0x39;
    return copy;
  };

  it('never serves JSON made from other bytes, another resource or another kind of span', () => {
    const cache = new RenderedSpanCache(1 << 20);
    const spans = timeline(4);
    cached(spans, cache);
    const changedBytes = stored(3, { startMs: T0 + 9, parent: 1, attributes: [{ key: 'circuit_id', value: s('replayed') }] });
    const cases: Array<[string, StoredSpan]> = [
      ['same ids, other bytes', changedBytes],
      ['same length, one byte differs', { ...spans[2]!, body: oneByteChanged(spans[2]!.body, 'circuit-3') }],
      ['another resource', { ...spans[2]!, resource: { ...otlpResource } }],
      ['a bridge span', { ...spans[2]!, synthetic: true }],
    ];
    for (const [name, replacement] of cases) {
      const view = [spans[0]!, spans[1]!, replacement, spans[3]!];
      const before = cache.misses;
      assert.equal(cached(view, cache), uncached(view), name);
      assert.equal(cache.misses, before + 1, `${name}: rendered again`);
      // The replacement is what is held now; the original is rendered again in its turn.
      assert.equal(cached(spans, cache), uncached(spans), `${name}: original after`);
    }
  });

  it('matches a stamped span by its stamp alone, and a stamp only with that stamp', () => {
    const cache = new RenderedSpanCache(1 << 20);
    const spans: ViewSpan[] = timeline(3).map((sp, slot) => ({ ...sp, stamp: 7, slot }));
    const expected = uncached(timeline(3));
    assert.equal(cached(spans, cache), expected, 'rendered from the bytes');
    const unread = spans.map(sp => ({ ...sp, body: null }));
    const hitsBefore = cache.hits;
    assert.equal(cached(unread, cache), expected, 'the same stamp needs no bytes');
    assert.equal(cache.hits, hitsBefore + 3);
    const cases: Array<[string, ViewSpan]> = [
      ['same bytes, another stamp', { ...spans[1]!, stamp: 8 }],
      ['same bytes and stamp, a slot not held', { ...spans[1]!, slot: 5 }],
      ['same bytes, no stamp', { ...spans[1]!, stamp: null, slot: -1 }],
    ];
    for (const [name, replacement] of cases) {
      const missesBefore = cache.misses;
      assert.equal(cached([spans[0]!, replacement, spans[2]!], cache), expected, name);
      assert.equal(cache.misses, missesBefore + 1, `${name}: rendered again`);
    }
  });

  it('keeps what a view found for its render, even when the cache lets it go in between', () => {
    const one = new RenderedSpanCache(1 << 20);
    cached(timeline(1), one);
    const cache = new RenderedSpanCache(one.bytes * 3);
    const spans: ViewSpan[] = timeline(3).map((sp, slot) => ({ ...sp, stamp: 1, slot }));
    const expected = cached(spans, cache);
    // The store asks about each span while it reads and leaves out the bytes of what the cache holds ...
    const lookup = new ViewLookup(cache);
    const read: ViewSpan[] = spans.map(sp => ({ ...sp, body: null }));
    read.forEach((sp, i) => {
      if (lookup.bodyNeeded(sp)) sp.body = spans[i]!.body;
    });
    assert.ok(read.every(sp => sp.body === null), 'read.every(sp => sp.body === null)');
    // ... then a concurrent view of other spans fills the cache before this one renders.
    const other = timeline(3, 50).map((sp, slot) => ({ ...sp, stamp: 2, slot }));
    cached(other, cache);
    cached(other, cache);
    assert.equal(cache.holds(spans[0]!), false, 'the first view was let go');
    assert.equal(joined(timelineSpansJson(read, '{"head":', '}', lookup)), expected);
  });

  it('holds no more than its budget, letting the oldest go and giving a used span a second chance', () => {
    const one = new RenderedSpanCache(1 << 20);
    cached(timeline(1), one);
    const perSpan = one.bytes;
    const cache = new RenderedSpanCache(perSpan * 10 + perSpan / 2);
    const a = timeline(6, 1);
    const b = timeline(6, 100);
    cached(a, cache);
    cached([a[0]!], cache); // a[0] is used again: it survives the next eviction pass
    cached(b, cache);
    assert.ok(cache.bytes <= cache.maxBytes, `${cache.bytes} held, budget ${cache.maxBytes}`);
    assert.equal(cache.size, 10);
    const before = cache.hits;
    cached([a[0]!], cache);
    assert.equal(cache.hits, before + 1, 'the used span is still held');
    const hitsBefore = cache.hits;
    cached([a[1]!], cache);
    assert.equal(cache.hits, hitsBefore, 'an old unused span was let go');
    cached(b, cache);
    assert.ok(cache.hits >= hitsBefore + 5, 'the newest spans are held');
  });

  it('holds the spans of a stamp together: part of them, then the rest, and lets them go together', () => {
    const stamped = (stamp: number, first: number): StoredSpan[] =>
      timeline(4, first).map((sp, slot) => ({ ...sp, stamp, slot }));
    const a = stamped(1, 1);
    const b = stamped(2, 10);
    const c = stamped(3, 20);
    const bytesOf = (spans: StoredSpan[]) => {
      const sized = new RenderedSpanCache(1 << 20);
      cached(spans, sized);
      return sized.bytes;
    };
    const perStamp = bytesOf(a);
    const cache = new RenderedSpanCache(perStamp * 2 + perStamp / 2);

    assert.equal(cached(a.slice(0, 2), cache), uncached(a.slice(0, 2)), 'the first two spans of stamp 1');
    assert.equal(cache.size, 2);
    const partBytes = cache.bytes;
    assert.equal(cached(a, cache), uncached(a), 'then all four');
    assert.equal(cache.size, 4);
    assert.equal(cache.bytes, perStamp, 'the same count as all four at once');
    assert.ok(partBytes < perStamp, 'partBytes < perStamp');
    const hits = cache.hits;
    assert.equal(cached(a, cache), uncached(a));
    assert.equal(cache.hits, hits + 4, 'all four held');

    // Two views of stamp 2 that both found nothing held render it both; it is counted once.
    const first = new ViewLookup(cache);
    const second = new ViewLookup(cache);
    assert.ok(b.every(sp => first.bodyNeeded(sp) && second.bodyNeeded(sp)), 'b.every(sp => first.bodyNeeded(sp) && second.bodyNeeded(sp))');
    for (const lookup of [first, second]) assert.equal(joined(timelineSpansJson(b, '{"head":', '}', lookup)), uncached(b));
    assert.equal(cache.size, 8);
    assert.equal(cache.bytes, perStamp + bytesOf(b));

    cached(c, cache); // over budget: stamp 1 was used after it was added, so stamp 2 goes
    assert.ok(cache.bytes <= cache.maxBytes, `${cache.bytes} held, budget ${cache.maxBytes}`);
    assert.equal(cache.size, 8);
    assert.ok(a.every(sp => cache.holds(sp)), 'the used stamp had a second chance');
    assert.ok(b.every(sp => !cache.holds(sp)), 'the unused stamp went whole');
    assert.ok(c.every(sp => cache.holds(sp)), 'c.every(sp => cache.holds(sp))');
    // Its second chance moved stamp 1 behind stamp 3: stamp 3 is the oldest unused now.
    cached(b, cache);
    assert.ok(c.every(sp => !cache.holds(sp)), 'c.every(sp => !cache.holds(sp))');
    assert.ok([...a, ...b].every(sp => cache.holds(sp)), '[...a, ...b].every(sp => cache.holds(sp))');
  });

  it('keeps nothing larger than its whole budget', () => {
    const cache = new RenderedSpanCache(64);
    const spans = timeline(3);
    assert.equal(cached(spans, cache), uncached(spans));
    assert.equal(cache.size, 0);
    assert.equal(cache.bytes, 0);
  });
});

describe('stitched view JSON in blocks', () => {
  // Views larger than a block (1 MiB), a span larger than a block, and spans whose JSON outgrows
  // the writer's estimate (control characters escape to six bytes each) inside a block.
  const padded = (n: number, pad: string) =>
    stored(n, { startMs: T0 + n, parent: n > 1 ? 1 : undefined, attributes: [{ key: 'pad', value: s(pad) }] });
  const views: Array<[string, () => StoredSpan[]]> = [
    ['1,500 spans of 2 KiB: several blocks', () => Array.from({ length: 1500 }, (_, k) => padded(k + 1, 'x'.repeat(2048)))],
    ['a span of 1.5 MiB between small ones', () => [padded(1, 'a'), padded(2, 'b'.repeat(1_500_000)), padded(3, 'c')]],
    ['spans whose JSON is 6 times their bytes', () => Array.from({ length: 40 }, (_, k) => padded(k + 1, '\u0001'.repeat(50_000)))],
  ];

  it('matches the schema serializer byte for byte, in blocks, cached and not', async t => {
    const check = await serializers(t);
    for (const [name, make] of views) {
      const spans = make();
      const { reference, fast } = await check(envelope(spans), spans);
      assert.equal(fast, reference, name);
      const cache = new RenderedSpanCache(1 << 30);
      const viewJson = (c?: RenderedSpanCache) => joined(timelineSpansJson(spans, '{"head":', '}', new ViewLookup(c)));
      const plain = viewJson();
      assert.equal(viewJson(cache), plain, `${name}: rendered into the cache`);
      assert.equal(viewJson(cache), plain, `${name}: from the cache`);
      assert.equal(cache.hits, spans.length, name);
    }
  });

  it('answers a repeat view from the blocks the first view wrote, without copying them', () => {
    const spans = Array.from({ length: 1500 }, (_, k) => padded(k + 1, 'x'.repeat(2048)));
    const cache = new RenderedSpanCache(1 << 30);
    const first = timelineSpansJson(spans, '{"head":', '}', new ViewLookup(cache));
    const again = timelineSpansJson(spans, '{"head":', '}', new ViewLookup(cache));
    assert.ok(first.length > 3 << 20, `${first.length} bytes: more than three blocks`);
    assert.equal(again.length, first.length);
    const blocks = (parts: readonly Buffer[]) => new Set(parts.map(p => p.buffer));
    // Head and tail are new; every span range lies in a block of the first view.
    const spanParts = again.parts.slice(1, -1);
    assert.ok(spanParts.length >= 3, `${spanParts.length} pieces`);
    for (const b of blocks(spanParts)) assert.ok(blocks(first.parts).has(b), 'a piece outside the first view');
    // Consecutive spans of a block go out as one piece with their commas.
    assert.ok(again.parts.length <= 2 + 8, `${again.parts.length} pieces for ${spans.length} spans`);
  });

  it('keeps no block with more than a quarter of it unused', () => {
    for (const [name, make] of views) {
      const spans = make();
      const cache = new RenderedSpanCache(1 << 30);
      timelineSpansJson(spans, '', '', new ViewLookup(cache));
      const slabs = new Map<Buffer, number>();
      const held = heldJson(cache, spans);
      spans.forEach((_, i) => {
        const slab = held.slabOf[i]!;
        slabs.set(slab, (slabs.get(slab) ?? 0) + held.to[i]! - held.from[i]! + 1);
      });
      for (const [slab, used] of slabs) assert.ok(used * 4 >= slab.length * 3, `${name}: ${used} of ${slab.length} bytes used`);
    }
  });
});

describe('reply pieces', () => {
  const b = (text: string) => Buffer.from(text);

  it('merges ranges that continue each other and takes in a following separator', () => {
    const block = b('{"a":1},{"b":2},{"c":3},');
    const cases: Array<[string, (x: JsonPartsBuilder) => void, string[]]> = [
      ['one block in order', x => { x.add(block, 0, 7); x.extendOver(0x2c); x.add(block, 8, 15); }, ['{"a":1},{"b":2}']],
      ['out of order', x => { x.add(block, 8, 15); x.extendOver(0x2c); x.add(block, 0, 7); }, ['{"b":2},', '{"a":1}']],
      ['no separator after the range', x => { x.add(block, 0, 6); assert.equal(x.extendOver(0x2c), false); }, ['{"a":1']],
      ['separator at the end of the buffer', x => { x.add(block, 16, 23); assert.equal(x.extendOver(0x2c), true); assert.equal(x.extendOver(0x2c), false); }, ['{"c":3},']],
      ['two buffers', x => { x.add(block, 0, 7); x.add(b('{"c":3}'), 0, 7); }, ['{"a":1}', '{"c":3}']],
      ['empty ranges are left out', x => { x.add(block, 3, 3); x.add(block, 0, 7); }, ['{"a":1}']],
    ];
    for (const [name, build, expected] of cases) {
      const x = new JsonPartsBuilder();
      build(x);
      const parts = x.finish();
      assert.deepEqual(parts.parts.map(p => p.toString()), expected, name);
      assert.equal(parts.length, expected.join('').length, name);
    }
  });

  it('joins a body of very many pieces into one', () => {
    const x = new JsonPartsBuilder();
    for (let i = 0; i < 1000; i++) x.add(b(String(i % 10)), 0, 1);
    const parts = x.finish();
    assert.equal(parts.parts.length, 1);
    assert.equal(parts.length, 1000);
  });

  it('streams exactly its bytes', async () => {
    const parts = JsonParts.of([b('["a",'), b('"b"'), b(']')], 9);
    const chunks: Buffer[] = [];
    for await (const c of parts.stream()) chunks.push(c as Buffer);
    assert.equal(Buffer.concat(chunks).toString(), '["a","b"]');
    assert.equal(joined(parts), '["a","b"]');
  });
});

describe('span JSON cache through the API', () => {
  it('is off with SPAN_JSON_CACHE_BYTES=0: the same replies, nothing held, no hits; the length is announced either way', async t => {
    const replies: string[] = [];
    for (const bytes of ['0', '1048576']) {
      const app = await buildTestApp(t, { SPAN_JSON_CACHE_BYTES: bytes });
      const [trace] = await buildTraces([
        { service: 'arda', spans: [{ name: 'GET topology', kind: SpanKind.SERVER, startMs: T0, endMs: T0 + 50, attributes: { circuit_id: 'c-1' } }] },
      ]);
      const res = await app.inject({ method: 'POST', url: '/v1/traces', headers: { 'content-type': 'application/x-protobuf' }, payload: tracesProtobuf(trace!.spans) });
      assert.equal(res.statusCode, 200, res.body);
      const first = await app.inject('/api/circuits/c-1/trace');
      const second = await app.inject('/api/circuits/c-1/trace');
      assert.equal(first.statusCode, 200, first.body);
      assert.equal(second.body, first.body);
      // Sent as pieces, with the whole length announced; HEAD announces the same and sends nothing.
      for (const r of [first, second]) assert.equal(r.headers['content-length'], String(r.rawPayload.length));
      assert.equal(first.headers['transfer-encoding'], undefined);
      const head = await app.inject({ method: 'HEAD', url: '/api/circuits/c-1/trace' });
      assert.equal(head.statusCode, 200);
      assert.equal(head.headers['content-length'], first.headers['content-length']);
      assert.equal(head.rawPayload.length, 0);
      replies.push(first.body);
      const metrics = (await app.inject('/metrics')).body;
      const heldBytes = Number(/^span_json_cache_bytes (\d+)$/m.exec(metrics)?.[1]);
      assert.ok(Number.isFinite(heldBytes), 'the gauge is exported');
      assert.equal(heldBytes > 0, bytes !== '0', `${heldBytes} bytes held with a budget of ${bytes}`);
      assert.equal(/span_json_cache_lookups_total\{outcome="hit"\} [1-9]/.test(metrics), bytes !== '0', `hits with ${bytes} bytes`);
    }
    assert.equal(replies[0], replies[1]);
  });

  it('reads no span bytes for a view whose JSON it holds, and sends the same bytes', async t => {
    const app = await buildTestApp(t);
    const built = await buildTraces([
      { service: 'beorn', spans: [{ name: 'POST create', kind: SpanKind.SERVER, startMs: T0, endMs: T0 + 90, attributes: { circuit_id: 'c-2' } }] },
      { service: 'mdso', spans: [{ name: 'mdso.product.Activate', startMs: T0 + 100, endMs: T0 + 300, attributes: { 'mdso.circuit_id': 'c-2' } }] },
    ]);
    for (const trace of built) {
      const res = await app.inject({ method: 'POST', url: '/v1/traces', headers: { 'content-type': 'application/x-protobuf' }, payload: tracesProtobuf(trace.spans) });
      assert.equal(res.statusCode, 200, res.body);
    }
    const store = app.correlator.store;
    const read = store.spansOfTraces.bind(store);
    const served: ViewSpan[][] = [];
    store.spansOfTraces = (async (ids: readonly string[], limit: number, bodyNeeded?: (s: ViewSpan) => boolean) => {
      const result = await read(ids, limit, bodyNeeded ?? (() => true));
      served.push(result.spans);
      return result;
    }) as typeof store.spansOfTraces;
    const first = await app.inject('/api/circuits/c-2/trace');
    const again = await app.inject('/api/circuits/c-2/trace');
    assert.equal(first.statusCode, 200, first.body);
    assert.equal(again.body, first.body);
    const [firstRead, againRead] = served;
    assert.ok(firstRead!.length === 3 && firstRead!.every(sp => sp.body !== null), 'the first view reads every span');
    const received = againRead!.filter(sp => !sp.synthetic);
    assert.equal(received.length, 2);
    assert.ok(received.every(sp => sp.body === null), 'the repeat view reads no received span bytes');
  });
});

describe('stitched view rendering shared with worker threads', () => {
  // Spans of every kind the writer distinguishes: common attributes, escapes and non-ASCII, every
  // value type, events, links and status, keys that force the object path, a JSON-ingested
  // resource and a bridge span; repeated to a view large enough to be shared.
  const kinds = (n: number, startMs: number): StoredSpan[] => [
    stored(n, {
      startMs,
      attributes: [
        { key: 'circuit_id', value: s(`80.L1XX.${n}..CHTR`) },
        { key: 'escaped', value: s('quote " backslash \\ newline \n') },
        { key: 'unicode', value: s('clé ✓ 😀') },
        { key: 'int', value: { intValue: n } },
        { key: 'big', value: { intValue: '9007199254740993' } },
        { key: 'double', value: { doubleValue: 0.1 } },
        { key: 'array', value: { arrayValue: { values: [s('a'), { intValue: 2 }] } } },
      ],
      extra: {
        status: { code: 2, message: 'failed' },
        events: [{ timeUnixNano: (BigInt(startMs + 1) * NS).toString(), name: 'step', attributes: [{ key: 'attempt', value: { intValue: 1 } }] }],
        links: [{ traceId: idBytes(hex(8, 16)), spanId: idBytes(hex(2, 8)), attributes: [] }],
      },
    }),
    stored(n + 1, { startMs, parent: n, attributes: [{ key: 'b', value: s('1') }, { key: '10', value: s('2') }] }),
    stored(n + 2, { startMs: startMs + 1, parent: n, attributes: [{ key: 'dup', value: s('a') }, { key: 'dup', value: s('b') }] }),
    stored(n + 3, { startMs: startMs + 1, parent: n, resource: jsonResource, service: 'batch "svc"' }),
    { ...stored(n + 4, { startMs: startMs + 2, parent: n }), synthetic: true },
  ];
  const view = (count: number): StoredSpan[] => {
    const spans: StoredSpan[] = [];
    for (let n = 1; spans.length < count; n += 5) spans.push(...kinds(n, T0 + n));
    return spans;
  };

  async function readyWorkers(t: { after(fn: () => Promise<void>): void }): Promise<SpanRenderWorkers> {
    const workers = new SpanRenderWorkers(1, e => assert.fail(e));
    t.after(() => workers.close());
    const deadline = Date.now() + 30_000;
    while (workers.available(2 * MIN_SPANS_PER_SHARE) === 0) {
      assert.ok(Date.now() < deadline, 'the render worker never became ready');
      await new Promise(r => setTimeout(r, 20));
    }
    return workers;
  }

  it('gives the bytes of the single-thread writer, with a worker rendering its share', async t => {
    const workers = await readyWorkers(t);
    for (const count of [2 * MIN_SPANS_PER_SHARE, 3001]) {
      const spans = view(count);
      const single = joined(timelineSpansJson(spans, '{"head":', '}'));
      const before = workers.spansRendered;
      const shared = joined(await timelineSpansJsonShared(spans, '{"head":', '}', undefined, workers));
      assert.equal(shared, single, `${spans.length} spans`);
      // The worker took about half; those needing the object path came back for this thread.
      const taken = workers.spansRendered - before;
      assert.ok(taken >= spans.length * 0.3 && taken < spans.length * 0.5, `${taken} of ${spans.length} spans rendered by the worker`);
    }
  });

  it('holds what the worker rendered in the span JSON cache, and serves it again', async t => {
    const workers = await readyWorkers(t);
    const spans = view(1500);
    const single = joined(timelineSpansJson(spans, '', ''));
    const cache = new RenderedSpanCache(1 << 30);
    assert.equal(joined(await timelineSpansJsonShared(spans, '', '', new ViewLookup(cache), workers)), single);
    assert.equal(cache.size, spans.length);
    const rendered = workers.spansRendered;
    assert.equal(joined(await timelineSpansJsonShared(spans, '', '', new ViewLookup(cache), workers)), single);
    assert.equal(workers.spansRendered, rendered, 'a held view renders nothing');
    assert.equal(cache.hits, spans.length);
  });

  it('renders small views and views with workers gone on this thread, with the same bytes', async t => {
    const workers = await readyWorkers(t);
    const small = view(2 * MIN_SPANS_PER_SHARE - 5);
    const before = workers.spansRendered;
    assert.equal(joined(await timelineSpansJsonShared(small, '', '', undefined, workers)), joined(timelineSpansJson(small)));
    assert.equal(workers.spansRendered, before, 'too small to share');
    // The worker is stopped while it holds a share: the share is rendered here instead.
    const spans = view(2000);
    const pending = timelineSpansJsonShared(spans, '', '', undefined, workers);
    await workers.close();
    assert.equal(joined(await pending), joined(timelineSpansJson(spans)));
    assert.equal(workers.available(spans.length), 0, 'a closed pool lends no worker');
  });

  it("reports a malformed span in a worker's share as the single-thread writer does", async t => {
    const workers = await readyWorkers(t);
    const spans = view(1200);
    const last = spans.length - 3;
    spans[last] = { ...spans[last]!, body: spans[last]!.body.subarray(0, spans[last]!.body.length - 3) };
    const single = (() => {
      try {
        timelineSpansJson(spans);
        return null;
      } catch (err) {
        return err as Error;
      }
    })();
    assert.ok(single, 'the fixture must be malformed');
    await assert.rejects(timelineSpansJsonShared(spans, '', '', undefined, workers), { name: single.name, message: single.message });
  });

  it('serves the same stitched view through the API with VIEW_RENDER_WORKERS 1 and 0', async t => {
    const bodies: string[] = [];
    for (const workers of ['1', '0']) {
      const app = await buildTestApp(t, { VIEW_RENDER_WORKERS: workers, SPAN_JSON_CACHE_BYTES: '0' });
      const built = await buildTraces(
        Array.from({ length: 12 }, (_, k) => ({
          service: ['beorn', 'mdso', 'arda'][k % 3]!,
          spans: Array.from({ length: 100 }, (_, j) => ({
            name: `step ${j}`,
            kind: j === 0 ? SpanKind.SERVER : SpanKind.INTERNAL,
            ...(j > 0 ? { parent: 'step 0' } : {}),
            startMs: T0 + k * 1000 + j,
            endMs: T0 + k * 1000 + j + 5,
            attributes: { circuit_id: 'c-shared', step: j },
          })),
        })),
      );
      for (const trace of built) {
        const res = await app.inject({ method: 'POST', url: '/v1/traces', headers: { 'content-type': 'application/x-protobuf' }, payload: tracesProtobuf(trace.spans) });
        assert.equal(res.statusCode, 200, res.body);
      }
      // Views before the worker is ready are rendered here alone; later ones are shared.
      const workerSpans = async () => Number(/^view_render_worker_spans_total (\d+)$/m.exec((await app.inject('/metrics')).body)?.[1]);
      let body = '';
      for (let i = 0; i < 500 && (i < 2 || (workers === '1' && (await workerSpans()) === 0)); i++) {
        const res = await app.inject('/api/circuits/c-shared/trace');
        assert.equal(res.statusCode, 200, res.body);
        assert.ok(!body || res.body === body, 'every view the same');
        body = res.body;
        await new Promise(r => setTimeout(r, 10));
      }
      const shared = await workerSpans();
      assert.ok(workers === '1' ? shared > 400 : shared === 0, `${shared} spans rendered by a worker with VIEW_RENDER_WORKERS ${workers}`);
      assert.equal((JSON.parse(body) as StitchedTrace).spans.length, 1200 + 11);
      // The spans as sent; the bridges around them carry each app's creation times.
      bodies.push(body.slice(body.indexOf('"spans":'), body.indexOf(',"bridges":')));
    }
    assert.ok(bodies[0]!.length > 1e5 && bodies[0] === bodies[1], 'the same span bytes either way');
  });
});
