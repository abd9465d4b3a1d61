// A service's resource is one resource however its spans were sent: the JS SDK's protobuf writes
// fields its OTLP/JSON leaves out, and senders may list the same attributes in another order
// (canonical-resource.ts). Before, a trace sent partly each way listed its resource twice.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SpanKind } from '@opentelemetry/api';
import type { StitchedTrace, TraceDetail } from '@correlation-station/api-schema';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import type { Attributes } from '@opentelemetry/api';
import { buildTestApp } from './app-fixture.js';
import { serviceTelemetry } from '../helpers/sdk-bodies.js';

const BASE = Date.now() - 60_000;

/** Resource attributes of every type the SDK sends, as a service's detectors give them. */
const ATTRIBUTES: Attributes = {
  'deployment.environment.name': 'prod',
  'process.pid': 4242,
  'host.load': 0.75,
  'service.instance.ready': true,
  'process.command_args': ['node', 'server.js'],
  'service.empty': '',
};

type Encoding = 'protobuf' | 'json';

function body(spans: ReadableSpan[], encoding: Encoding): { payload: Buffer; headers: Record<string, string> } {
  const serializer = encoding === 'protobuf' ? ProtobufTraceSerializer : JsonTraceSerializer;
  const payload = Buffer.from(serializer.serializeRequest(spans)!);
  return { payload, headers: { 'content-type': encoding === 'protobuf' ? 'application/x-protobuf' : 'application/json' } };
}

/**
 * A trace of two spans of one beorn resource, the root and the child made by SDK providers whose
 * resources hold `attributes` in the orders given, sent in two requests of the encodings given.
 * Answers the resources /api/traces/{id} and the circuit's stitched view list.
 */
async function resourcesOf(
  t: Parameters<typeof buildTestApp>[0],
  encodings: [Encoding, Encoding],
  orders: [Attributes, Attributes] = [ATTRIBUTES, ATTRIBUTES],
): Promise<{ trace: TraceDetail['resources']; view: StitchedTrace['resources'] }> {
  const app = await buildTestApp(t);
  const circuit = `RES-${encodings.join('-')}`;
  const specs = [
    { name: 'root', startMs: 0, endMs: 100, kind: SpanKind.SERVER, attributes: { circuit_id: circuit } },
    { name: 'child', startMs: 10, endMs: 20, kind: SpanKind.CLIENT, parent: 0 },
  ];
  // The same ids (seed) from two providers: each one's resource holds the attributes in its order.
  const made = await Promise.all(orders.map(order => serviceTelemetry('beorn', BASE, specs, 'resource-identity', order)));
  const [root, child] = [made[0]!.spans.find(s => s.name === 'root')!, made[1]!.spans.find(s => s.name === 'child')!];
  for (const [span, encoding] of [[root, encodings[0]], [child, encodings[1]]] as const) {
    const res = await app.inject({ method: 'POST', url: '/v1/traces', ...body([span], encoding) });
    assert.equal(res.statusCode, 200, res.body);
  }
  const trace = (await app.inject(`/api/traces/${made[0]!.traceId}`)).json<TraceDetail>();
  assert.equal(trace.spans.length, 2);
  const view = (await app.inject(`/api/circuits/${circuit}/trace`)).json<StitchedTrace>();
  return { trace: trace.resources, view: view.resources };
}

describe("a span's resource", () => {
  for (const encodings of [['protobuf', 'json'], ['json', 'protobuf'], ['protobuf', 'protobuf'], ['json', 'json']] as [Encoding, Encoding][])
    it(`is one resource when a trace's spans come as ${encodings.join(' then ')}`, async t => {
      const { trace, view } = await resourcesOf(t, encodings);
      assert.equal(trace.length, 1, JSON.stringify(trace));
      assert.equal(view.length, 1, JSON.stringify(view));
      assert.deepEqual(trace[0]!.attributes, { 'service.name': 'beorn', ...ATTRIBUTES });
    });

  it('is one resource whatever order its attributes were listed in', async t => {
    const reversed = Object.fromEntries(Object.entries(ATTRIBUTES).reverse());
    const { trace, view } = await resourcesOf(t, ['protobuf', 'json'], [ATTRIBUTES, reversed]);
    assert.equal(trace.length, 1, JSON.stringify(trace));
    assert.equal(view.length, 1, JSON.stringify(view));
  });
});
