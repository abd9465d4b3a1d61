// How a view reads its spans: bytes only where the reader asks for them, and a stamp per stored
// chunk that names those bytes, so a reader holding their JSON can skip reading them again.
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { readFullSpan } from '../../src/otlp/span-reader.js';
import type { ViewSpan } from '../../src/store/store.js';
import { buildTestApp } from '../api/app-fixture.js';
import { SpanKind, buildTraces, tracesProtobuf } from '../fixtures/otel-sdk.js';

const T0 = Date.UTC(2026, 10, 22, 9, 0, 0);
const CID = '80.L1XX.005054..CHTR';

/** beorn's trace sent as two requests (two chunks), mdso's as one; the store bridges them. */
async function circuitApp(t: TestContext) {
  const app = await buildTestApp(t);
  const [beorn, mdso] = await buildTraces([
    {
      service: 'beorn',
      spans: [
        {
          name: 'POST /beorn/api/v1/service/create',
          kind: SpanKind.SERVER,
          startMs: T0,
          endMs: T0 + 900,
          attributes: { circuit_id: CID },
        },
        {
          name: 'POST mdso/resources',
          kind: SpanKind.CLIENT,
          startMs: T0 + 20,
          endMs: T0 + 80,
          parent: 'POST /beorn/api/v1/service/create',
          attributes: { circuit_id: CID },
        },
      ],
    },
    {
      service: 'mdso',
      spans: [
        {
          name: 'mdso.product.CircuitDetailsCollector',
          startMs: T0 + 100,
          endMs: T0 + 700,
          attributes: { 'mdso.circuit_id': CID },
        },
        {
          name: 'GET arda topology',
          kind: SpanKind.CLIENT,
          startMs: T0 + 150,
          endMs: T0 + 400,
          parent: 'mdso.product.CircuitDetailsCollector',
          attributes: { 'mdso.circuit_id': CID },
        },
      ],
    },
  ]);
  const requests = [[beorn!.spans[1]!], [beorn!.spans[0]!], mdso!.spans].map(spans =>
    tracesProtobuf(spans),
  );
  const post = async (body: Buffer) => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/traces',
      headers: { 'content-type': 'application/x-protobuf' },
      payload: body,
    });
    assert.equal(res.statusCode, 200, res.body);
  };
  for (const body of requests) await post(body);
  const store = app.correlator.store;
  const traceIds = await store.circuitTraceIds(CID);
  assert.equal(traceIds.length, 2);
  // What the SDK sent, to check the bytes a read hands out against: the span each one decodes to.
  const sentNames = new Map(
    [...beorn!.spans, ...mdso!.spans].map(sp => [sp.spanContext().spanId, sp.name]),
  );
  const decodesAsSent = (span: ViewSpan) => {
    assert.ok(span.body, `${span.spanId}: bytes read`);
    const decoded = readFullSpan(span.body);
    assert.deepEqual(
      [decoded.spanId, decoded.name],
      [span.spanId, sentNames.get(span.spanId)],
      `${span.spanId}: its own bytes, whole`,
    );
  };
  return { store, traceIds, post, requests, decodesAsSent };
}

describe('reading a view', () => {
  it('reads the bytes of only the spans the reader asks for, asking once per span returned, in order', async t => {
    const { store, traceIds, decodesAsSent } = await circuitApp(t);
    const full = await store.spansOfTraces(traceIds, 100);
    assert.equal(full.total, 5, 'four received spans and one bridge');
    assert.equal(full.spans.filter(s => s.synthetic).length, 1);
    for (const span of full.spans) if (!span.synthetic) decodesAsSent(span);
    const wantedId = full.spans.find(s => s.service === 'mdso')!.spanId;

    const asked: ViewSpan[] = [];
    const view = await store.spansOfTraces(traceIds, 100, span => {
      asked.push(span);
      return span.spanId === wantedId;
    });
    assert.equal(asked.length, view.spans.length);
    asked.forEach((span, i) =>
      assert.equal(span, view.spans[i], `span ${i} asked in the order returned`),
    );
    assert.deepEqual(
      view.spans.map(s => s.spanId),
      full.spans.map(s => s.spanId),
    );
    view.spans.forEach((span, i) => {
      const expected = full.spans[i]!;
      assert.equal(span.stamp, expected.stamp, `${span.spanId}: same stamp on every read`);
      assert.equal(span.slot, expected.slot, `${span.spanId}: same slot on every read`);
      if (span.synthetic) {
        assert.equal(span.stamp, null, 'a bridge span is replaced in place: no stamp');
        assert.equal(span.slot, -1, 'and no slot');
        assert.ok(
          span.body?.equals(expected.body),
          'a bridge span comes with its bytes whatever the answer',
        );
      } else if (span.spanId === wantedId)
        assert.ok(span.body?.equals(expected.body), 'the asked-for bytes');
      else assert.equal(span.body, null, `${span.spanId}: bytes not read`);
    });

    let questions = 0;
    const cut = await store.spansOfTraces(traceIds, 2, () => (questions++, true));
    assert.equal(questions, 2, 'only the spans within the limit are asked about');
    assert.equal(cut.total, 5);
    assert.deepEqual(
      cut.spans.map(s => [s.spanId, s.body?.length]),
      full.spans.slice(0, 2).map(s => [s.spanId, s.body.length]),
    );
  });

  it('stamps each stored chunk apart, and gives no stamp again after retention took the newest chunks', async t => {
    const { store, traceIds, post, requests } = await circuitApp(t);
    const stampsOf = async () => {
      const { spans } = await store.spansOfTraces(traceIds, 100);
      return new Map(
        spans.filter(s => !s.synthetic).map(s => [`${s.traceId}/${s.spanId}`, s.stamp]),
      );
    };
    const before = await stampsOf();
    const stamps = [...before.values()];
    assert.ok(stamps.every(s => typeof s === 'number'), 'stamps.every(s => typeof s === \'number\')');
    // beorn's two requests are two chunks; mdso's two spans came in one request, one chunk.
    assert.equal(new Set(stamps).size, 3, `stamps ${stamps.join(', ')}`);
    const { spans } = await store.spansOfTraces(traceIds, 100);
    const named = spans.filter(s => !s.synthetic).map(s => `${s.stamp}/${s.slot}`);
    assert.equal(new Set(named).size, named.length, `each stamp and slot names one span: ${named.join(', ')}`);
    assert.ok(spans.every(s => s.synthetic || s.slot >= 0), 'spans.every(s => s.synthetic || s.slot >= 0)');

    const pruned = store.prune(Date.now() + 60_000);
    assert.equal(pruned.spans, 5, 'every span deleted, the bridge too');
    for (const body of requests) await post(body);
    const after = await stampsOf();
    assert.deepEqual(
      [...after.keys()].sort(),
      [...before.keys()].sort(),
      'the same spans stored again',
    );
    for (const stamp of after.values())
      assert.ok(typeof stamp === 'number' && !stamps.includes(stamp), `stamp ${stamp} given again`);
  });
});
