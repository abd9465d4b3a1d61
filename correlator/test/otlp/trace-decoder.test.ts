import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/config.js';
import { keyRulesFromConfig } from '../../src/ingest/key-rules.js';
import { normaliseTraceJson } from '../../src/otlp/json-normaliser.js';
import { readFullSpan } from '../../src/otlp/span-reader.js';
import { decodeTraceRequest } from '../../src/otlp/trace-decoder.js';
import { DecodeError } from '../../src/otlp/wire-reader.js';
import { SpanKind, buildTraces, tracesJson, tracesProtobuf } from '../fixtures/otel-sdk.js';

const rules = keyRulesFromConfig(loadConfig({ MAX_ATTRIBUTE_VALUE_BYTES: '1024' }));
const T0 = 1_790_000_000_000;

function decodeBoth(spans: Parameters<typeof tracesProtobuf>[0]) {
  const fromProto = decodeTraceRequest(tracesProtobuf(spans), rules);
  const n = normaliseTraceJson(tracesJson(spans));
  const fromJson = decodeTraceRequest(n.binary, rules);
  return { fromProto, fromJson, jsonRejected: n.rejected };
}

describe('trace decoder on SDK-serialized requests', () => {
  const cases: { title: string; attrs: Record<string, unknown>; resource?: Record<string, string>; keys: Record<string, string> }[] = [
    { title: 'plain circuit_id', attrs: { circuit_id: '80.L1XX.005054..CHTR' }, keys: { circuit_id: '80.L1XX.005054..CHTR' } },
    { title: 'mdso-prefixed aliases', attrs: { 'mdso.circuit_id': 'C1', 'mdso.resource_id': 'R1' }, keys: { circuit_id: 'C1', resource_id: 'R1' } },
    {
      title: 'captured X-Circuit-Id header (string array)',
      attrs: { 'http.request.header.x-circuit-id': ['C2'], 'http.request.header.x-request-id': ['req-9'] },
      keys: { circuit_id: 'C2', request_id: 'req-9' },
    },
    { title: 'keys from resource attributes', attrs: {}, resource: { product_id: 'P7' }, keys: { product_id: 'P7' } },
    { title: 'span value wins over resource value', attrs: { circuit_id: 'span' }, resource: { circuit_id: 'resource' }, keys: { circuit_id: 'span' } },
    { title: 'integer key values become strings', attrs: { request_id: 4711 }, keys: { request_id: '4711' } },
    { title: 'no keys at all', attrs: { 'http.method': 'GET' }, keys: {} },
    { title: 'a value of 512 characters', attrs: { circuit_id: 'c'.repeat(512) }, keys: { circuit_id: 'c'.repeat(512) } },
    { title: 'a value over 512 characters is no key', attrs: { circuit_id: 'c'.repeat(513), product_id: 'P1' }, keys: { product_id: 'P1' } },
  ];
  for (const c of cases) {
    it(`extracts keys: ${c.title}`, async () => {
      const [t] = await buildTraces([
        {
          service: 'beorn',
          ...(c.resource ? { resource: c.resource } : {}),
          spans: [{ name: 'op', startMs: T0, endMs: T0 + 5, attributes: c.attrs as never }],
        },
      ]);
      const { fromProto, fromJson } = decodeBoth(t!.spans);
      for (const batch of [fromProto, fromJson]) {
        assert.equal(batch.spans.length, 1);
        assert.deepEqual(batch.spans[0]!.keys ?? {}, c.keys);
      }
    });
  }

  it('reads ids, names, kinds, times, status and links identically from protobuf and JSON', async () => {
    const [a, b] = await buildTraces([
      {
        service: 'beorn',
        spans: [
          { name: 'POST /service/create', kind: SpanKind.SERVER, startMs: T0, endMs: T0 + 100 },
          { name: 'POST mdso', kind: SpanKind.CLIENT, startMs: T0 + 10, endMs: T0 + 40, parent: 'POST /service/create', error: true },
        ],
      },
      { service: 'arda', spans: [{ name: 'get_topology', kind: SpanKind.SERVER, startMs: T0 + 50, endMs: T0 + 60 }] },
    ]);
    const withLink = await buildTraces(
      [
        {
          service: 'palantir',
          spans: [{ name: 'linked', startMs: T0 + 70, endMs: T0 + 80, links: [{ traceId: a!.traceId, spanId: a!.spanIds['POST mdso']! }] }],
        },
      ],
      7,
    );
    const spans = [...a!.spans, ...b!.spans, ...withLink[0]!.spans];
    const { fromProto, fromJson } = decodeBoth(spans);
    assert.equal(fromProto.rejected, 0);
    const view = (x: typeof fromProto) =>
      x.spans
        .map(s => ({
          traceId: s.traceId,
          spanId: s.spanId,
          parentSpanId: s.parentSpanId,
          name: s.name,
          kind: s.kind,
          startMs: s.startMs,
          endMs: s.endMs,
          statusCode: s.statusCode,
          service: s.resource.serviceName,
          links: s.links,
        }))
        .sort((p, q) => (p.spanId < q.spanId ? -1 : 1));
    assert.deepEqual(view(fromJson), view(fromProto));
    const client = fromProto.spans.find(s => s.name === 'POST mdso')!;
    assert.equal(client.traceId, a!.traceId);
    assert.equal(client.parentSpanId, a!.spanIds['POST /service/create']);
    assert.equal(client.kind, 3);
    assert.equal(client.statusCode, 2);
    assert.equal(client.startMs, T0 + 10);
    assert.equal(client.endMs, T0 + 40);
    assert.equal(client.resource.serviceName, 'beorn');
    const linked = fromProto.spans.find(s => s.name === 'linked')!;
    assert.deepEqual(linked.links, [{ traceId: a!.traceId, spanId: a!.spanIds['POST mdso'] }]);
  });

  it('drops a link without a context (a zero or missing trace or span id), over protobuf and JSON', async () => {
    const [a] = await buildTraces([{ service: 'beorn', spans: [{ name: 'target', startMs: T0, endMs: T0 + 10 }] }]);
    const good = { traceId: a!.traceId, spanId: a!.spanIds['target']! };
    const contextless = [
      { traceId: '0'.repeat(32), spanId: good.spanId },
      { traceId: good.traceId, spanId: '0'.repeat(16) },
      { traceId: good.traceId, spanId: '' },
      { traceId: '', spanId: good.spanId },
    ];
    const [l] = await buildTraces(
      [{ service: 'palantir', spans: [{ name: 'linked', startMs: T0 + 20, endMs: T0 + 30, links: [contextless[0]!, contextless[1]!, good, ...contextless.slice(2)] }] }],
      8,
    );
    const { fromProto, fromJson, jsonRejected } = decodeBoth(l!.spans);
    for (const [form, batch] of [['protobuf', fromProto], ['JSON', fromJson]] as const) {
      assert.equal(batch.rejected + (form === 'JSON' ? jsonRejected : 0), 0, `${form}: the span is kept`);
      assert.deepEqual(batch.spans.map(s => s.links), [[good]], `${form}: only the link with a context`);
    }
  });

  it('keeps each span as the exact OTLP bytes, which decode fully with every attribute type', async () => {
    const [t] = await buildTraces([
      {
        service: 'mdso',
        spans: [
          {
            name: 'mdso.product.CircuitDetailsCollector',
            startMs: T0 + 0.123456,
            endMs: T0 + 250,
            attributes: { s: 'x', i: 42, d: 1.5, b: true, arr: ['a', 'b'], big: 2 ** 40 },
            events: [{ name: 'token_acquired', atMs: T0 + 1, attributes: { ok: true } }],
          },
        ],
      },
    ]);
    const [span] = decodeTraceRequest(tracesProtobuf(t!.spans), rules).spans;
    const full = readFullSpan(span!.bytes);
    assert.equal(full.name, 'mdso.product.CircuitDetailsCollector');
    assert.deepEqual(full.attributes, { s: 'x', i: 42, d: 1.5, b: true, arr: ['a', 'b'], big: 2 ** 40 });
    assert.equal(full.events.length, 1);
    assert.equal(full.events[0]!.name, 'token_acquired');
    assert.deepEqual(full.events[0]!.attributes, { ok: true });
    assert.equal(full.durationMs > 249 && full.durationMs < 251, true);
    assert.match(full.startTimeUnixNano, /^\d{19}$/);
    const [sec, ns] = t!.spans[0]!.startTime;
    assert.equal(full.startTimeUnixNano, String(BigInt(sec) * 1_000_000_000n + BigInt(ns)));
  });
});

describe('trace ids of consecutive spans', () => {
  // Consecutive spans of one trace share one id string (request-walker.ts IdMemo); ids differing
  // only in their last bytes must still come out apart, in any order.
  const orders: { title: string; roots: string[]; children: [name: string, parent: string][] }[] = [
    { title: 'A B A', roots: ['a', 'b'], children: [['a2', 'a']] },
    { title: 'A B B A', roots: ['a', 'b'], children: [['b2', 'b'], ['a2', 'a']] },
    { title: 'A C B A', roots: ['a', 'b', 'c'], children: [['a2', 'a']] },
  ];
  for (const o of orders) {
    it(`gives each span its own trace's id: ${o.title}`, async () => {
      // Roots and children of one service and scope: one request, spans in the order they ended.
      const [t] = await buildTraces([
        {
          service: 'beorn',
          spans: [
            ...o.roots.map(name => ({ name, startMs: T0, endMs: T0 + 10 })),
            ...o.children.map(([name, parent]) => ({ name, parent, startMs: T0 + 1, endMs: T0 + 5 })),
          ],
        },
      ]);
      const expected = t!.spans.map(s => s.spanContext().traceId);
      assert.ok(new Set(expected.map(id => id.slice(0, 24))).size === 1, `ids share all but their last bytes: ${expected.join(' ')}`);
      const { fromProto, fromJson } = decodeBoth(t!.spans);
      assert.deepEqual(fromProto.spans.map(s => s.traceId), expected, 'protobuf');
      assert.deepEqual(fromJson.spans.map(s => s.traceId), expected, 'JSON');
    });
  }
});

describe('trace decoder rejections', () => {
  it('rejects only the span with an oversized attribute and names the attribute', async () => {
    const [t] = await buildTraces([
      {
        service: 'beorn',
        spans: [
          { name: 'ok', startMs: T0, endMs: T0 + 1, attributes: { circuit_id: 'C' } },
          { name: 'huge', startMs: T0, endMs: T0 + 1, attributes: { payload: 'x'.repeat(5000) } },
        ],
      },
    ]);
    const batch = decodeTraceRequest(tracesProtobuf(t!.spans), rules);
    assert.equal(batch.spans.length, 1);
    assert.equal(batch.spans[0]!.name, 'ok');
    assert.equal(batch.rejected, 1);
    assert.match(batch.rejectionMessages[0]!, /attribute "payload" value is \d+ bytes, over the limit of 1024/);
  });

  const jsonCases: { title: string; mutate: (span: Record<string, unknown>) => void; message: RegExp }[] = [
    { title: 'non-hex trace id', mutate: s => (s.traceId = 'zz'.repeat(16)), message: /traceId "z+" is not 32 hex characters/ },
    { title: 'short span id', mutate: s => (s.spanId = 'abcd'), message: /spanId "abcd" is not 16 hex characters/ },
    { title: 'missing trace id', mutate: s => delete s.traceId, message: /traceId is missing/ },
    { title: 'all-zero trace id', mutate: s => (s.traceId = '0'.repeat(32)), message: /traceId is all zeroes/ },
    { title: 'non-hex parent span id', mutate: s => (s.parentSpanId = 'not-hex-at-all!!'), message: /parentSpanId/ },
    { title: 'attributes not an array', mutate: s => (s.attributes = 'nope'), message: /attributes/ },
    { title: 'a start time that is not a number', mutate: s => (s.startTimeUnixNano = 'soon'), message: /startTimeUnixNano "soon" is not an unsigned 64-bit integer/ },
    { title: 'a negative end time', mutate: s => (s.endTimeUnixNano = -5), message: /endTimeUnixNano -5/ },
    {
      title: 'an intValue that is not an integer',
      mutate: s => (s.attributes = [{ key: 'n', value: { intValue: 'abc' } }]),
      message: /attributes\[0\]\.value: attribute "n" intValue "abc" is not a 64-bit integer/,
    },
    {
      // Well-formed JSON, refused by the decoder rather than the JSON checks. The SDK takes a start
      // of 0 as "now", so only the JSON form can carry it.
      title: 'no start time',
      mutate: s => Object.assign(s, { startTimeUnixNano: '0', endTimeUnixNano: '0' }),
      message: /^resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[\d\]: span "[^"]+" in trace [0-9a-f]{32} has no start time \(start_time_unix_nano is 0\)$/,
    },
  ];
  for (const c of jsonCases) {
    it(`rejects a JSON span with ${c.title}, keeping the others`, async () => {
      const [t] = await buildTraces([
        {
          service: 'beorn',
          spans: [
            { name: 'good', startMs: T0, endMs: T0 + 1 },
            { name: 'bad', startMs: T0, endMs: T0 + 1 },
          ],
        },
      ]);
      const body = tracesJson(t!.spans) as { resourceSpans: { scopeSpans: { spans: Record<string, unknown>[] }[] }[] };
      const spans = body.resourceSpans[0]!.scopeSpans[0]!.spans;
      c.mutate(spans.find(s => s.name === 'bad')!);
      const n = normaliseTraceJson(body);
      const batch = decodeTraceRequest(n.binary, rules, Date.now(), n.places);
      assert.equal(n.rejected + batch.rejected, 1);
      assert.match([...n.rejectionMessages, ...batch.rejectionMessages][0]!, c.message);
      assert.deepEqual(
        batch.spans.map(s => s.name),
        ['good'],
      );
    });
  }

  it('accepts OTLP/JSON quirks: upper-case hex, int64 as numbers, unknown fields', async () => {
    const body = {
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'beorn' } }], futureField: 1 },
          scopeSpans: [
            {
              scope: { name: 's' },
              spans: [
                {
                  traceId: '5B8EFFF798038103D269B633813FC60C',
                  spanId: 'EEE19B7EC3C1B174',
                  name: 'x',
                  kind: 2,
                  startTimeUnixNano: 1544712660000000000,
                  endTimeUnixNano: '1544712661000000000',
                  somethingNew: { a: 1 },
                  attributes: [{ key: 'circuit_id', value: { stringValue: 'C9' } }],
                },
              ],
            },
          ],
        },
      ],
    };
    const n = normaliseTraceJson(body);
    const [span] = decodeTraceRequest(n.binary, rules).spans;
    assert.equal(span!.traceId, '5b8efff798038103d269b633813fc60c');
    assert.equal(span!.spanId, 'eee19b7ec3c1b174');
    assert.equal(span!.kind, 2);
    assert.equal(span!.endMs - span!.startMs, 1000);
    assert.deepEqual(span!.keys, { circuit_id: 'C9' });
  });

  const malformed: { title: string; body: () => Promise<Buffer> | Buffer; message: RegExp }[] = [
    {
      title: 'a truncated body',
      body: async () => {
        const [t] = await buildTraces([{ service: 'beorn', spans: [{ name: 'x', startMs: T0, endMs: T0 + 1 }] }]);
        const full = tracesProtobuf(t!.spans);
        return full.subarray(0, full.length - 7);
      },
      message: /truncated|runs past the end/,
    },
    { title: 'a field with wire type 7', body: () => Buffer.from([0x0f, 0x01]), message: /wire type/ },
    { title: 'field number 0', body: () => Buffer.from([0x02, 0x00]), message: /field number 0/ },
    { title: 'a text body', body: () => Buffer.from('{"resourceSpans": []}'), message: /./ },
  ];
  for (const c of malformed) {
    it(`throws DecodeError on ${c.title}`, async () => {
      const body = await c.body();
      assert.throws(
        () => decodeTraceRequest(body, rules),
        (e: unknown) => e instanceof DecodeError && c.message.test(e.message),
      );
    });
  }

  it('decodes an empty request to an empty batch', () => {
    assert.deepEqual(decodeTraceRequest(Buffer.alloc(0), rules), { spans: [], rejected: 0, rejectionMessages: [], warnings: [], warned: 0, exportedBridges: 0 });
  });
});

describe('the span kinds of OTLP', () => {
  it('are all six read as sent, without a warning, over protobuf and JSON', async () => {
    // The SDK's kinds are OTLP's less one: -1 is sent as UNSPECIFIED (0), CONSUMER (4) as 5.
    const names = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];
    const [t] = await buildTraces([
      {
        service: 'beorn',
        spans: names.map((name, otlp) => ({ name, kind: (otlp - 1) as SpanKind, startMs: Date.now() - 1000, endMs: Date.now() - 900 })),
      },
    ]);
    const { fromProto, fromJson } = decodeBoth(t!.spans);
    for (const [form, batch] of [['protobuf', fromProto], ['JSON', fromJson]] as const) {
      assert.deepEqual(batch.warnings, [], form);
      const byName = (kindOf: (s: (typeof batch.spans)[number]) => unknown) =>
        Object.fromEntries(batch.spans.map(s => [s.name, kindOf(s)]));
      const engineKinds = Object.fromEntries(names.map((name, otlp) => [name, otlp]));
      assert.deepEqual(byName(s => s.kind), engineKinds, `${form}: the engine's kinds`);
      assert.deepEqual(byName(s => readFullSpan(s.bytes).kind), Object.fromEntries(names.map(n => [n, n])), `${form}: the views' kinds`);
    }
  });
});

describe('a span kind outside OTLP', () => {
  it('is taken as unspecified, as the views show it, and the sender is warned, over protobuf and JSON', async () => {
    const [t] = await buildTraces([
      {
        service: 'beorn',
        spans: [
          {
            name: 'odd',
            kind: 8 as SpanKind, // the SDK's kinds are OTLP's less one
            startMs: Date.now() - 1000,
            endMs: Date.now() - 900,
          },
          {
            name: 'call',
            kind: SpanKind.CLIENT,
            startMs: Date.now() - 1000,
            endMs: Date.now() - 900,
          },
        ],
      },
    ]);
    const { fromProto, fromJson } = decodeBoth(t!.spans);
    for (const batch of [fromProto, fromJson]) {
      const kinds = Object.fromEntries(batch.spans.map(s => [s.name, s.kind]));
      assert.deepEqual(kinds, { odd: 0, call: SpanKind.CLIENT + 1 });
      assert.equal(batch.rejected, 0);
      assert.equal(batch.warnings.length, 1);
      assert.match(
        batch.warnings[0]!,
        /: span "odd" in trace [0-9a-f]{32}: kind 9 is not an OTLP span kind \(0–5\): taken as unspecified$/,
      );
      assert.equal(
        readFullSpan(batch.spans.find(s => s.name === 'odd')!.bytes).kind,
        'unspecified',
      );
    }
  });
});

describe('a status code outside OTLP\'s', () => {
  it('is taken as unset, as the views read it, and the sender is told', async () => {
    const [t] = await buildTraces([
      {
        service: 'beorn',
        spans: [
          { name: 'odd', startMs: Date.now() - 1000, endMs: Date.now() - 900 },
          { name: 'failed', startMs: Date.now() - 1000, endMs: Date.now() - 900, error: true },
        ],
      },
    ]);
    const odd = t!.spans.find(s => s.name === 'odd')!;
    (odd.status as { code: number }).code = 7;
    const { fromProto, fromJson } = decodeBoth(t!.spans);
    for (const batch of [fromProto, fromJson]) {
      assert.deepEqual(Object.fromEntries(batch.spans.map(s => [s.name, s.statusCode])), { odd: 0, failed: 2 });
      assert.equal(batch.rejected, 0);
      assert.deepEqual(batch.warnings.length, 1);
      assert.match(batch.warnings[0]!, /: span "odd" in trace [0-9a-f]{32}: status code 7 is not an OTLP status code \(0–2\): taken as unset$/);
    }
  });
});

describe('a negative span kind', () => {
  it('is named as the sender wrote it', async () => {
    const [t] = await buildTraces([{ service: 'beorn', spans: [{ name: 'neg', kind: -2 as SpanKind, startMs: Date.now() - 1000, endMs: Date.now() - 900 }] }]);
    const { fromProto, fromJson } = decodeBoth(t!.spans);
    for (const batch of [fromProto, fromJson]) assert.match(batch.warnings[0] ?? '', /: kind -1 is not an OTLP span kind/);
  });
});
