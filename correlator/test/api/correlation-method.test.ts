// The method filter of GET /api/correlations takes the methods the correlator gives correlations
// and nothing else: an unknown one answered 200 with an empty list, as if none had matched.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CORRELATION_METHODS, type CorrelationListResponse, type CorrelationMethodName } from '@correlation-station/api-schema';
import type { FastifyInstance } from 'fastify';
import { buildLogs, buildTraces, logsProtobuf, tracesProtobuf } from '../fixtures/otel-sdk.js';
import { buildTestApp } from './app-fixture.js';

const T0 = Date.UTC(2026, 10, 21, 12, 0, 0);
const RANGE = `from=${T0 - 60_000}&to=${T0 + 60_000}`;

// How much a join by each key is worth: a shared trace is certain, a resource type is a weak hint.
// Written out here rather than read from the engine, so that a change to either is seen.
const CONFIDENCE: Record<CorrelationMethodName, number> = {
  trace_id: 1,
  request_id_match: 0.95,
  circuit_id_match: 0.9,
  resource_id_match: 0.85,
  product_id_match: 0.5,
  resource_type_id_match: 0.3,
};

/** Two traces sharing every business key, and a log of one of them: every method joins something. */
async function ingestEveryMethod(app: FastifyInstance): Promise<void> {
  const keys = { circuit_id: 'CKT-M', product_id: 'P-M', resource_id: 'R-M', resource_type_id: 'RT-M', request_id: 'Q-M' };
  const [tr, other] = await buildTraces([
    { service: 'beorn', spans: [{ name: 'op', startMs: T0, endMs: T0 + 50, attributes: keys }] },
    { service: 'arda', spans: [{ name: 'op', startMs: T0 + 100, endMs: T0 + 150, attributes: keys }] },
  ]);
  const post = (url: string, payload: Buffer) => app.inject({ method: 'POST', url, headers: { 'content-type': 'application/x-protobuf' }, payload });
  assert.equal((await post('/v1/traces', tracesProtobuf([...tr!.spans, ...other!.spans]))).statusCode, 200);
  const logs = await buildLogs('beorn', [{ body: 'creating service', atMs: T0 + 5, traceId: tr!.traceId, spanId: tr!.spanIds['op'] }]);
  assert.equal((await post('/v1/logs', logsProtobuf(logs))).statusCode, 200);
}

describe('correlation method filter', () => {
  it('refuses a method the correlator never gives, naming the ones it does', async t => {
    const app = await buildTestApp(t);
    const res = await app.inject(`/api/correlations?method=bogus`);
    assert.equal(res.statusCode, 400, res.body);
    assert.equal(
      res.json<{ message: string }>().message,
      `invalid request: querystring/method must be one of ${CORRELATION_METHODS.map(m => JSON.stringify(m)).join(', ')}`,
    );
  });

  it('lists exactly the methods the correlator gives, each filters to its own correlations, of its own confidence', async t => {
    // Every key correlates once it bridges, so every method is made.
    const app = await buildTestApp(t, { BRIDGE_KEYS: 'circuit_id,product_id,resource_id,resource_type_id,request_id' });
    await ingestEveryMethod(app);
    const all = (await app.inject(`/api/correlations?${RANGE}`)).json<CorrelationListResponse>().correlations;
    assert.deepEqual([...new Set(all.map(c => c.method))].sort(), [...CORRELATION_METHODS].sort());
    for (const method of CORRELATION_METHODS) {
      const res = await app.inject(`/api/correlations?method=${method}&${RANGE}`);
      assert.equal(res.statusCode, 200, `${method}: ${res.body}`);
      const listed = res.json<CorrelationListResponse>().correlations;
      const methods = listed.map(c => c.method);
      assert.ok(methods.length > 0 && methods.every(m => m === method), `${method} filters to its own: ${methods.join(' ')}`);
      assert.deepEqual(listed.map(c => c.confidence), listed.map(() => CONFIDENCE[method]), `${method}: its confidence`);
    }
  });
});
