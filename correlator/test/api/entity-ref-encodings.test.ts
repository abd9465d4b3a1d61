// A resource's entity refs are the same whether it came as protobuf or as OTLP/JSON: the same refs
// stored and listed, one resource for both, and the same words for a ref left out. The protobuf
// path stored every ref unchecked, the JSON path checked their shape only; neither checked what the
// spec asks of a ref (a type, an id, keys among the resource's attributes). The SDK cannot emit
// entity refs, so the protobuf body is the SDK's, decoded and encoded again by protobufjs over our
// .proto with the refs set.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SpanKind } from '@opentelemetry/api';
import type { TraceDetail } from '@correlation-station/api-schema';
import { buildTestApp } from './app-fixture.js';
import { serviceTelemetry } from '../helpers/sdk-bodies.js';
import { otlpTypes } from '../../src/otlp/schema.js';

type Json = Record<string, unknown>;
const BASE = Date.now() - 60_000;
const HOST = { type: 'host', idKeys: ['host.id'], descriptionKeys: ['host.name'] };
const AT = 'resourceSpans[0].resource (service "beorn"): ';

/** Each resource's spans kept only when named `name`, and its entity refs set to `refs`. */
function narrowed(body: Json, name: string, refs: unknown[]): Json {
  for (const rs of body.resourceSpans as Json[]) {
    (rs.resource as Json).entityRefs = refs;
    for (const ss of rs.scopeSpans as Json[]) ss.spans = (ss.spans as Json[]).filter(s => s.name === name);
  }
  return body;
}

/** The SDK's protobuf body with `narrowed` applied, encoded again by protobufjs. */
function asProtobuf(sdkBody: Uint8Array, name: string, refs: unknown[]): Buffer {
  const type = otlpTypes().ExportTraceServiceRequest;
  const body = narrowed(type.toObject(type.decode(sdkBody)) as Json, name, refs);
  return Buffer.from(type.encode(type.fromObject(body)).finish());
}

/** The SDK's OTLP/JSON body with `narrowed` applied. */
function asJson(sdkBody: Uint8Array, name: string, refs: unknown[]): Json {
  return narrowed(JSON.parse(Buffer.from(sdkBody).toString('utf8')) as Json, name, refs);
}

/**
 * The root span sent as protobuf and its child as OTLP/JSON, their resources alike and with the
 * refs given: what partial_success said of each, and the trace's resources.
 */
async function sentBothWays(t: Parameters<typeof buildTestApp>[0], refs: unknown[]) {
  const app = await buildTestApp(t);
  const specs = [
    { name: 'root', startMs: 0, endMs: 100, kind: SpanKind.SERVER },
    { name: 'child', startMs: 10, endMs: 20, kind: SpanKind.CLIENT, parent: 0 },
  ];
  const made = await serviceTelemetry('beorn', BASE, specs, 'entity-ref-encodings', { 'host.id': 'h-1', 'host.name': 'arda' });
  const sent = [
    await app.inject({ method: 'POST', url: '/v1/traces', headers: { 'content-type': 'application/x-protobuf' }, payload: asProtobuf(made.traces.protobuf, 'root', refs) }),
    await app.inject({ method: 'POST', url: '/v1/traces', payload: asJson(made.traces.json, 'child', refs) }),
  ];
  const said = sent.map(res => {
    assert.equal(res.statusCode, 200, res.body);
    const partial = String(res.headers['content-type']).includes('protobuf')
      ? (otlpTypes().ExportTraceServiceResponse.toObject(otlpTypes().ExportTraceServiceResponse.decode(res.rawPayload)).partialSuccess as Json | undefined)
      : res.json<{ partialSuccess?: Json }>().partialSuccess;
    assert.equal(Number(partial?.rejectedSpans ?? 0), 0, res.body);
    return String(partial?.errorMessage ?? '');
  });
  const trace = (await app.inject(`/api/traces/${made.traceId}`)).json<TraceDetail>();
  assert.equal(trace.spans.length, 2);
  return { protobuf: said[0]!, json: said[1]!, resources: trace.resources.map(r => r.entityRefs) };
}

describe('entity refs sent as protobuf and as OTLP/JSON', () => {
  it('are stored and listed alike, one resource for both, when the spec allows them', async t => {
    const service = { type: 'service', schemaUrl: 'https://opentelemetry.io/schemas/1.36.0', idKeys: ['service.name'], descriptionKeys: [] };
    const both = await sentBothWays(t, [HOST, service]);
    assert.deepEqual(both, { protobuf: '', json: '', resources: [[HOST, service]] });
  });

  const leftOut: [string, unknown, string][] = [
    [
      'naming a key that is no attribute of the resource',
      { type: 'os', idKeys: ['os.type'] },
      '{"type":"os","idKeys":["os.type"],"descriptionKeys":[]} left out: idKeys names "os.type", which is not an attribute of the resource',
    ],
    [
      'describing by a key that is no attribute of the resource',
      { type: 'host', idKeys: ['host.id'], descriptionKeys: ['host.arch'] },
      '{"type":"host","idKeys":["host.id"],"descriptionKeys":["host.arch"]} left out: descriptionKeys names "host.arch", which is not an attribute of the resource',
    ],
    ['without a type', { idKeys: ['host.id'] }, '{"type":"","idKeys":["host.id"],"descriptionKeys":[]} left out: its type is empty'],
    ['without an id', { type: 'host', descriptionKeys: ['host.name'] }, '{"type":"host","idKeys":[],"descriptionKeys":["host.name"]} left out: its idKeys are empty'],
  ];
  for (const [title, bad, words] of leftOut) {
    it(`leave out a ref ${title}, in the same words, the others kept`, async t => {
      const both = await sentBothWays(t, [HOST, bad]);
      const warning = `1 warning(s): ${AT}entityRefs[1] ${words}`;
      assert.deepEqual(both, { protobuf: warning, json: warning, resources: [[HOST]] });
    });
  }
});
