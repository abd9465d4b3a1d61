// A graph of a time range is drawn from its most recent traces only (MAX_GRAPH_TRACES); the answer
// must say when the range held more, since the services of older traces are then missing.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_GRAPH_TRACES, type ServiceGraph } from '@correlation-station/api-schema';
import type { FastifyInstance } from 'fastify';
import { buildTraces, tracesProtobuf } from '../fixtures/otel-sdk.js';
import { buildTestApp } from './app-fixture.js';

const T0 = Date.UTC(2026, 10, 21, 12, 0, 0);
const TRACES = 4;

/**
 * One trace per service, `svc0` the oldest, each a second after the one before; each of its own
 * circuit, so no bridge joins them (a bridge into a drawn trace draws its parent's service).
 */
async function ingestTraces(app: FastifyInstance): Promise<void> {
  const built = await buildTraces(
    Array.from({ length: TRACES }, (_, i) => ({
      service: `svc${i}`,
      spans: [{ name: 'op', startMs: T0 + i * 1000, endMs: T0 + i * 1000 + 5, attributes: { circuit_id: `CKT-${i}` } }],
    })),
  );
  const res = await app.inject({
    method: 'POST',
    url: '/v1/traces',
    headers: { 'content-type': 'application/x-protobuf' },
    payload: tracesProtobuf(built.flatMap(t => t.spans)),
  });
  assert.equal(res.statusCode, 200, res.body);
}

describe('service graph cap', () => {
  const cases = [
    { name: 'one trace fewer than the cap', cap: TRACES + 1, truncated: false, traceCount: TRACES, missing: [] },
    { name: 'as many traces as the cap', cap: TRACES, truncated: false, traceCount: TRACES, missing: [] },
    { name: 'one trace more than the cap', cap: TRACES - 1, truncated: true, traceCount: TRACES - 1, missing: ['svc0'] },
  ];
  for (const c of cases) {
    it(`${c.name}: truncated=${c.truncated}, drawn from the most recent traces`, async t => {
      const app = await buildTestApp(t);
      await ingestTraces(app);
      const graph = await app.correlator.store.serviceGraph({ maxTraces: c.cap });
      assert.equal(graph.truncated, c.truncated);
      assert.equal(graph.traceCount, c.traceCount);
      assert.equal(graph.traceLimit, c.cap);
      const all = Array.from({ length: TRACES }, (_, i) => `svc${i}`);
      assert.deepEqual(graph.nodes.map(n => n.id).sort(), all.filter(s => !c.missing.includes(s)));
      // A circuit's graph is not capped: the oldest circuit's is whole even when the range's is cut.
      const circuit = await app.correlator.store.serviceGraph({ circuitId: 'CKT-0', maxTraces: c.cap });
      assert.deepEqual([circuit.truncated, circuit.traceCount, circuit.nodes.map(n => n.id)], [false, 1, ['svc0']]);
    });
  }

  it('the route reports the cap it applies, and its OpenAPI description names it', async t => {
    const app = await buildTestApp(t);
    await ingestTraces(app);
    const res = await app.inject(`/api/service-graph?from=${T0 - 1000}&to=${T0 + 10_000}`);
    assert.equal(res.statusCode, 200, res.body);
    const graph = res.json<ServiceGraph>();
    assert.deepEqual([graph.traceCount, graph.traceLimit, graph.truncated], [TRACES, MAX_GRAPH_TRACES, false]);
    const doc = (await app.inject('/docs/json')).json<{ paths: Record<string, { get: { description?: string } }> }>();
    const description = doc.paths['/api/service-graph']?.get.description ?? '';
    assert.ok(description.includes(`${MAX_GRAPH_TRACES} most recent traces`), `description names the cap: ${description}`);
  });
});
