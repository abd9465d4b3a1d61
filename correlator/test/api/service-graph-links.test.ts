// OTLP span links in the service graph: a consumer's span linking the producer's span in another
// trace drew no edge, although the trace view shows the link and the planner treats the two traces
// as connected. A link is an edge from the linked span's service to the linking span's, marked
// linked, counted once, and drawn only when the graph reads both of its traces.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ServiceEdge, ServiceGraph } from '@correlation-station/api-schema';
import type { FastifyInstance } from 'fastify';
import { buildTraces, SpanKind, tracesProtobuf, type BuiltTrace, type TraceSpec } from '../fixtures/otel-sdk.js';
import { buildTestApp } from './app-fixture.js';

const T0 = Date.now() - 10 * 60_000;
const UNKNOWN_TRACE = 'feedfacefeedfacefeedfacefeedface';

async function ingest(app: FastifyInstance, traces: BuiltTrace[]): Promise<void> {
  const res = await app.inject({
    method: 'POST',
    url: '/v1/traces',
    headers: { 'content-type': 'application/x-protobuf' },
    payload: tracesProtobuf(traces.flatMap(t => t.spans)),
  });
  assert.equal(res.statusCode, 200, res.body);
}

/** One span of its own circuit, so no bridge joins it to another trace. */
function oneSpan(service: string, circuit: string, atMs: number, more: Partial<TraceSpec['spans'][number]> = {}): TraceSpec {
  return { service, spans: [{ name: `${service}-op`, startMs: atMs, endMs: atMs + 20, attributes: { circuit_id: circuit }, ...more }] };
}

const linkTo = (t: BuiltTrace) => ({ traceId: t.traceId, spanId: Object.values(t.spanIds)[0]! });

async function graphOf(app: FastifyInstance, query: string): Promise<ServiceGraph> {
  const res = await app.inject(`/api/service-graph?${query}`);
  assert.equal(res.statusCode, 200, res.body);
  return res.json<ServiceGraph>();
}

const RANGE = `from=${T0 - 60_000}&to=${T0 + 60_000}`;
const described = (e: ServiceEdge) => [e.id, e.source, e.target, e.callCount, e.errorCount, e.bridged, e.linked, e.meanConfidence, e.clockOffset];

describe('span links in the service graph', () => {
  for (const order of ['producer first', 'consumers first']) {
    it(`draw an edge from the linked span's service to the linking span's, marked linked (${order})`, async t => {
      const app = await buildTestApp(t);
      const [producer] = await buildTraces([oneSpan('orders', 'CKT-P', T0, { kind: SpanKind.PRODUCER })], 1);
      const consumers = await buildTraces(
        [
          oneSpan('billing', 'CKT-C1', T0 + 1000, { kind: SpanKind.CONSUMER, links: [linkTo(producer!)] }),
          oneSpan('billing', 'CKT-C2', T0 + 2000, { kind: SpanKind.CONSUMER, links: [linkTo(producer!)], error: true }),
        ],
        2,
      );
      if (order === 'producer first') {
        await ingest(app, [producer!]);
        await ingest(app, consumers);
      } else {
        await ingest(app, consumers);
        await ingest(app, [producer!]);
      }
      const graph = await graphOf(app, RANGE);
      // Each stored link once, although both of its traces are drawn; the failed consumer counts.
      assert.deepEqual(graph.edges.map(described), [['orders->billing:link', 'orders', 'billing', 2, 1, false, true, 1, undefined]]);
      assert.deepEqual(graph.nodes.map(n => n.id), ['billing', 'orders']);
    });
  }

  it('count a link once, and links both ways as two edges', async t => {
    const app = await buildTestApp(t);
    const [a] = await buildTraces([oneSpan('alpha', 'CKT-A', T0)], 1);
    const [b] = await buildTraces([oneSpan('beta', 'CKT-B', T0 + 1000, { links: [linkTo(a!)] })], 2);
    const [c] = await buildTraces([oneSpan('alpha', 'CKT-C', T0 + 2000, { links: [linkTo(b!)] })], 3);
    await ingest(app, [a!, b!, c!]);
    const graph = await graphOf(app, RANGE);
    assert.deepEqual(
      graph.edges.map(e => [e.id, e.callCount, e.linked]),
      [
        ['alpha->beta:link', 1, true],
        ['beta->alpha:link', 1, true],
      ],
    );
  });

  it('draw nothing for a link to a trace not stored, not in the range or of another circuit', async t => {
    const app = await buildTestApp(t);
    const [old] = await buildTraces([oneSpan('orders', 'CKT-OLD', T0 - 3_600_000)], 1);
    const linking = await buildTraces(
      [
        oneSpan('billing', 'CKT-1', T0, { links: [{ traceId: UNKNOWN_TRACE, spanId: '0123456789abcdef' }] }),
        oneSpan('shipping', 'CKT-2', T0 + 1000, { links: [linkTo(old!)] }),
      ],
      2,
    );
    await ingest(app, [old!, ...linking]);
    assert.deepEqual((await graphOf(app, RANGE)).edges, [], 'neither the unknown nor the older trace is drawn');
    // The whole store holds the older trace: its link is drawn, and only there.
    assert.deepEqual((await graphOf(app, '')).edges.map(e => e.id), ['orders->shipping:link']);
    assert.deepEqual((await graphOf(app, 'circuit_id=CKT-2')).edges, [], "a circuit's graph does not read other circuits' traces");
  });

  it('draw no edge for a link within one service, as a parent within it draws none', async t => {
    const app = await buildTestApp(t);
    const [first] = await buildTraces([oneSpan('orders', 'CKT-1', T0)], 1);
    const [second] = await buildTraces([oneSpan('orders', 'CKT-2', T0 + 1000, { links: [linkTo(first!)] })], 2);
    await ingest(app, [first!, second!]);
    const graph = await graphOf(app, RANGE);
    assert.deepEqual([graph.nodes.map(n => n.id), graph.edges], [['orders'], []]);
  });

  it('keep a link apart from the calls between the same services, which keep their counts', async t => {
    const app = await buildTestApp(t);
    const [call] = await buildTraces(
      [
        {
          service: 'orders',
          spans: [{ name: 'get', kind: SpanKind.CLIENT, startMs: T0, endMs: T0 + 50, attributes: { circuit_id: 'CKT-1' } }],
        },
      ],
      1,
    );
    const callee = await buildTraces(
      [
        {
          service: 'billing',
          spans: [
            { name: 'serve', kind: SpanKind.SERVER, startMs: T0 + 10, endMs: T0 + 40, remoteParent: linkTo(call!), attributes: { circuit_id: 'CKT-1' } },
          ],
        },
        oneSpan('billing', 'CKT-2', T0 + 2000, { links: [linkTo(call!)] }),
      ],
      2,
    );
    await ingest(app, [call!, ...callee]);
    const graph = await graphOf(app, RANGE);
    assert.deepEqual(
      graph.edges.map(e => [e.id, e.callCount, e.bridged, e.linked, e.clockOffset !== undefined]),
      [
        ['orders->billing', 1, false, false, true],
        ['orders->billing:link', 1, false, true, false],
      ],
    );
  });
});
