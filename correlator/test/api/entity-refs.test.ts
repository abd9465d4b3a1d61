// A resource's entity refs (OTLP 1.x) over OTLP/JSON, through the app. A malformed ref is left
// out, and the sender is now told so in partial_success, its spans and records still taken. Refs
// are stored and forwarded as they came, so two resources alike but for their refs are two; they
// were listed as two resources with the same attributes and nothing to tell them apart, and the
// listing now shows each one's refs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SpanKind } from '@opentelemetry/api';
import type { StitchedTrace, TraceDetail } from '@correlation-station/api-schema';
import { buildTestApp } from './app-fixture.js';
import { serviceTelemetry } from '../helpers/sdk-bodies.js';

type Json = Record<string, unknown>;
const BASE = Date.now() - 60_000;
const HOST = { type: 'host', idKeys: ['host.id'], descriptionKeys: ['host.name'] };
/** The attributes HOST names, which the spec has a ref name (entity-refs.ts). */
const HOST_ATTRIBUTES = { 'host.id': 'h-1', 'host.name': 'arda' };

/** An SDK-made OTLP/JSON body with each resource's entityRefs set to `refs` (left as it is when undefined). */
function withRefs(json: Uint8Array, container: 'resourceSpans' | 'resourceLogs', refs: unknown): Json {
  const body = JSON.parse(Buffer.from(json).toString('utf8')) as Json;
  if (refs !== undefined) for (const rs of body[container] as Json[]) (rs.resource as Json).entityRefs = refs;
  return body;
}

/** What partial_success says of an accepted request; fails unless it is 200 with nothing rejected. */
function partialSuccess(res: { statusCode: number; body: string; json: <T>() => T }, rejectedField: string): string {
  assert.equal(res.statusCode, 200, res.body);
  const partial = res.json<{ partialSuccess?: Json }>().partialSuccess ?? {};
  assert.equal(Number(partial[rejectedField] ?? 0), 0, res.body);
  return String(partial.errorMessage ?? '');
}

describe('entity refs of a resource over OTLP/JSON', () => {
  it('a malformed one is left out and named in partial_success; the spans are taken', async t => {
    const app = await buildTestApp(t);
    const made = await serviceTelemetry('beorn', BASE, [{ name: 'root', startMs: 0, endMs: 10 }], 'entity-refs', HOST_ATTRIBUTES);
    const payload = withRefs(made.traces.json, 'resourceSpans', [HOST, { type: 'os', idKeys: 'os.type' }]);
    const res = await app.inject({ method: 'POST', url: '/v1/traces', payload });
    assert.equal(
      partialSuccess(res, 'rejectedSpans'),
      '1 warning(s): resourceSpans[0].resource (service "beorn"): entityRefs[1] {"type":"os","idKeys":"os.type"} left out: ' +
        'idKeys is not a list of strings',
    );
    const trace = (await app.inject(`/api/traces/${made.traceId}`)).json<TraceDetail>();
    assert.equal(trace.spans.length, 1);
    assert.deepEqual(trace.resources.map(r => r.entityRefs), [[HOST]], 'the well-formed ref is kept');
  });

  it('a list that is no list is named in partial_success; the log records are taken', async t => {
    const app = await buildTestApp(t);
    const made = await serviceTelemetry('beorn', BASE, [{ name: 'root', startMs: 0, endMs: 10, logs: [{ atMs: 1, body: 'hello' }] }], 'entity-refs', HOST_ATTRIBUTES);
    const payload = withRefs(made.logs.json, 'resourceLogs', HOST);
    const res = await app.inject({ method: 'POST', url: '/v1/logs', payload });
    assert.equal(partialSuccess(res, 'rejectedLogRecords'), '1 warning(s): resourceLogs[0].resource (service "beorn"): entityRefs is not a list: left out');
    const logs = (await app.inject('/api/logs?service=beorn')).json<{ logs: unknown[] }>();
    assert.equal(logs.logs.length, 1, JSON.stringify(logs));
  });

  it('well-formed ones say nothing', async t => {
    const app = await buildTestApp(t);
    const made = await serviceTelemetry('beorn', BASE, [{ name: 'root', startMs: 0, endMs: 10 }], 'entity-refs', HOST_ATTRIBUTES);
    const res = await app.inject({ method: 'POST', url: '/v1/traces', payload: withRefs(made.traces.json, 'resourceSpans', [HOST]) });
    assert.equal(partialSuccess(res, 'rejectedSpans'), '');
  });
});

describe('resources listed with their entity refs', () => {
  /** A trace of two beorn spans, alike resources, the root's and the child's with the refs given; the resources listed. */
  async function listed(t: Parameters<typeof buildTestApp>[0], refs: [unknown, unknown]) {
    const app = await buildTestApp(t);
    const circuit = 'C-ENTITY-REFS';
    const specs = [
      { name: 'root', startMs: 0, endMs: 100, kind: SpanKind.SERVER, attributes: { circuit_id: circuit } },
      { name: 'child', startMs: 10, endMs: 20, kind: SpanKind.CLIENT, parent: 0 },
    ];
    const made = await serviceTelemetry('beorn', BASE, specs, 'entity-refs', HOST_ATTRIBUTES);
    for (const [name, ref] of [['root', refs[0]], ['child', refs[1]]] as const) {
      const one = withRefs(made.traces.json, 'resourceSpans', ref);
      for (const rs of one.resourceSpans as Json[]) for (const ss of rs.scopeSpans as Json[]) ss.spans = (ss.spans as Json[]).filter(s => s.name === name);
      const res = await app.inject({ method: 'POST', url: '/v1/traces', payload: one });
      assert.equal(partialSuccess(res, 'rejectedSpans'), '');
    }
    const trace = (await app.inject(`/api/traces/${made.traceId}`)).json<TraceDetail>();
    assert.equal(trace.spans.length, 2);
    const view = (await app.inject(`/api/circuits/${circuit}/trace`)).json<StitchedTrace>();
    return { trace: trace.resources, view: view.resources };
  }

  it('tells apart two resources whose attributes are alike and whose refs differ', async t => {
    const { trace, view } = await listed(t, [[HOST], undefined]);
    for (const resources of [trace, view]) {
      assert.equal(resources.length, 2, JSON.stringify(resources));
      assert.deepEqual(resources[0]!.attributes, resources[1]!.attributes);
      assert.deepEqual(resources.map(r => r.entityRefs), [[HOST], undefined], 'each with its refs, none where it has none');
    }
  });

  it('lists one resource with its refs when they are the same', async t => {
    const service = { type: 'service', schemaUrl: 'https://opentelemetry.io/schemas/1.36.0', idKeys: ['service.name'], descriptionKeys: [] };
    const { trace, view } = await listed(t, [[HOST, service], [HOST, service]]);
    for (const resources of [trace, view]) assert.deepEqual(resources.map(r => r.entityRefs), [[HOST, service]]);
  });
});
