// Episodes merged within one request must come out as they do when the same data comes split.
// Found by a property harness that permuted and re-batched circuits' data (seed 18 of its edge
// generator): a merge that made the merged episode the request's own dropped the episode it
// replaced, and a later merge round of the same request no longer found it.
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { SpanKind } from '@opentelemetry/api';
import { buildLogs, buildTraces, logsProtobuf, tracesProtobuf } from '../fixtures/otel-sdk.js';
import { build } from '../helpers/app.js';

const T0 = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000;

type Request = { path: '/v1/traces' | '/v1/logs'; body: Buffer };

/** The correlations of R-1, as "<traces> traces <first>..<last>" from T0, after the requests. */
async function correlationsAfter(t: TestContext, requests: Request[]): Promise<string[]> {
  const app = await build(t, { CORR_WINDOW_SECONDS: '1' });
  for (const r of requests) {
    const res = await app.inject({ method: 'POST', url: r.path, headers: { 'content-type': 'application/x-protobuf' }, payload: r.body });
    assert.equal(res.statusCode, 200, res.body);
  }
  const listed = await app.inject('/api/correlations?limit=100');
  assert.equal(listed.statusCode, 200, listed.body);
  const { correlations } = listed.json<{
    correlations: { value: string; traceIds: string[]; firstSeenMs: number; lastSeenMs: number }[];
  }>();
  return correlations.filter(c => c.value === 'R-1').map(c => `${c.traceIds.length} traces ${c.firstSeenMs - T0}..${c.lastSeenMs - T0}`).sort();
}

describe('episodes merged within one request', () => {
  for (const withCircuit of [false, true]) {
    it(`take every trace the same data takes split into requests${withCircuit ? ', the traces naming a circuit too' : ''}`, async t => {
      const keys: Record<string, string> = withCircuit ? { circuit_id: 'C-1', resource_id: 'R-1' } : { resource_id: 'R-1' };
      const trace = (service: string, name: string, fromMs: number, toMs: number, attributes: Record<string, string>) => ({
        service,
        spans: [{ name, kind: SpanKind.SERVER, startMs: T0 + fromMs, endMs: T0 + toMs, attributes }],
      });
      // With a 1 s window, each trace reaches the next only through the logs of A and X, which
      // come first: the request's merges then widen the episode round by round up to Y.
      const [A, B, C, X, Y] = await buildTraces([
        trace('mdso', 'a', 0, 100, keys),
        trace('arda', 'b', 1099, 1199, keys),
        trace('mdso', 'c', 1906, 1907, keys),
        trace('mdso', 'x', 2899, 2999, keys),
        trace('arda', 'y', 4000, 4999, { resource_id: 'R-1' }),
      ]);
      const note = withCircuit ? 'step done circuit_id=C-1' : 'step done';
      const logs = [
        ...(await buildLogs('mdso', [{ body: note, atMs: T0 + 118, traceId: A!.traceId, spanId: A!.spanIds['a'] }])),
        ...(await buildLogs('mdso', [{ body: `${note} `, atMs: T0 + 3327, traceId: X!.traceId, spanId: X!.spanIds['x'] }])),
      ];
      const spans = (...traces: (typeof A)[]) => ({ path: '/v1/traces' as const, body: tracesProtobuf(traces.flatMap(x => x!.spans)) });
      const logsOf = (records: typeof logs) => ({ path: '/v1/logs' as const, body: logsProtobuf(records) });

      const expected = ['5 traces 0..4999'];
      const orders: [string, Request[]][] = [
        ['in time order, one request each', [spans(A), logsOf([logs[0]!]), spans(B), spans(C), spans(X), logsOf([logs[1]!]), spans(Y)]],
        ['the logs, then one request per trace', [logsOf(logs), spans(A), spans(B), spans(C), spans(X), spans(Y)]],
        ['the logs, then every trace in one request', [logsOf(logs), spans(A, B, C, X, Y)]],
        // The order the SDK serializer writes them in: by resource, mdso's traces before arda's.
        ['the logs, then one request A, C, X, B, Y', [logsOf(logs), spans(A, C, X, B, Y)]],
        ['one request A, C, X, B, Y, then the logs', [spans(A, C, X, B, Y), logsOf(logs)]],
      ];
      for (const [order, requests] of orders) assert.deepEqual(await correlationsAfter(t, requests), expected, order);
    });
  }
});
