// Durability: whatever the correlator acknowledged (2xx) must survive kill -9. The process is
// killed without warning after real SDK exports, restarted on the same DATA_DIR, and everything
// is compared with what was served before the crash. Then the rest of the circuit arrives and
// must be bridged to the traces that arrived before the crash.
import type { CircuitDetail, CorrelationListResponse, LogListResponse, StitchedTrace, TraceDetail } from '@correlation-station/api-schema';
import assert from 'node:assert/strict';
import http from 'node:http';
import { test } from 'node:test';
import { startServer } from '../helpers/child-server.js';
import { cleanupStack, tempDir } from '../helpers/cleanup.js';
import { exportCircuit, type FixtureInput } from '../helpers/fixture-runner.js';
import { getJson } from '../helpers/http.js';
import { serviceTelemetry } from '../helpers/sdk-bodies.js';

interface State {
  stitched: StitchedTrace;
  detail: CircuitDetail;
  correlations: CorrelationListResponse;
  logs: LogListResponse;
  mdsoTrace: TraceDetail;
}

async function state(base: string, circuitId: string, mdsoTraceId: string): Promise<State> {
  const id = encodeURIComponent(circuitId);
  return {
    stitched: await getJson<StitchedTrace>(base, `/api/circuits/${id}/trace`),
    detail: await getJson<CircuitDetail>(base, `/api/circuits/${id}`),
    correlations: await getJson<CorrelationListResponse>(base, `/api/correlations?circuit_id=${id}&limit=1000`),
    logs: await getJson<LogListResponse>(base, `/api/circuits/${id}/logs?limit=10000`),
    mdsoTrace: await getJson<TraceDetail>(base, `/api/traces/${mdsoTraceId}`),
  };
}

/** What must not change across a crash: ids and contents, not timestamps of the query. */
function durable(s: State) {
  const byId = <T extends { spanId: string }>(xs: T[]) => [...xs].sort((a, b) => (a.spanId < b.spanId ? -1 : 1));
  return {
    traceIds: [...s.stitched.traceIds].sort(),
    spans: byId(s.stitched.spans),
    bridges: byId(s.stitched.bridges),
    correlations: [...s.correlations.correlations].sort((a, b) => (a.id < b.id ? -1 : 1)),
    logs: [...s.logs.logs].sort((a, b) => (a.id < b.id ? -1 : 1)),
    summary: s.detail.summary,
    linksOut: s.mdsoTrace.linksOut,
  };
}

test('kill -9 loses nothing acknowledged, and bridges form across the restart', { timeout: 180_000 }, async t => {
  const cleanup = cleanupStack(fn => t.after(fn));
  const dataDir = await tempDir(cleanup, 'corr-crash-');
  const circuitId = '80.L1XX.009999..CHTR';
  const input: FixtureInput = {
    baseUrl: '',
    pathPrefix: '',
    encoding: 'protobuf',
    compression: 'gzip',
    circuitId,
    baseMs: Date.now() - 120_000,
    seed: 'crash',
  };

  const first = await startServer(cleanup, { DATA_DIR: dataDir });
  const before = await exportCircuit({ ...input, baseUrl: first.url, services: ['beorn', 'mdso'] });
  assert.deepEqual(before.exports.failed, []);
  const beornClient = before.spans['beorn:POST mdso /bpocore/market/api/v1/resources']!;
  const mdsoPlan = before.spans['mdso:mdso.product.CircuitDetailsCollector']!;

  // The user's JSON batch format too, tied to the beorn trace.
  const batch = await fetch(`${first.url}/api/logs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      resource: { service: 'api-gateway', env: 'dev' },
      records: [
        {
          timestamp: new Date(input.baseMs + 50).toISOString(),
          severity: 'INFO',
          message: `forwarded create for ${circuitId}`,
          trace_id: beornClient.traceId,
          circuit_id: circuitId,
        },
      ],
    }),
  });
  assert.equal(batch.status, 200, await batch.text());

  const acknowledged = await state(first.url, circuitId, mdsoPlan.traceId);
  assert.equal(acknowledged.stitched.bridges.length, 1, 'beorn → mdso bridged before the crash');
  assert.equal(acknowledged.logs.logs.length, before.logCount.beorn + before.logCount.mdso + 1);
  assert.ok(acknowledged.correlations.correlations.length > 0, 'acknowledged.correlations.correlations.length > 0');

  await first.kill9();
  assert.equal(first.child.signalCode, 'SIGKILL');

  const second = await startServer(cleanup, { DATA_DIR: dataDir });
  const recovered = await state(second.url, circuitId, mdsoPlan.traceId);
  assert.deepEqual(durable(recovered), durable(acknowledged), 'everything acknowledged before kill -9 is served after restart');
  const circuits = await getJson<{ circuits: Array<{ circuitId: string }> }>(second.url, '/api/circuits?limit=1000');
  assert.ok(circuits.circuits.some(c => c.circuitId === circuitId), 'the circuit is listed after restart');

  // The rest of the circuit arrives after the restart.
  const afterRestart = await exportCircuit({ ...input, baseUrl: second.url, services: ['arda'] });
  assert.deepEqual(afterRestart.exports.failed, []);
  const arda = afterRestart.spans['arda:get_topology']!;
  const now = await state(second.url, circuitId, mdsoPlan.traceId);

  assert.deepEqual(now.stitched.traceIds.sort(), [beornClient.traceId, mdsoPlan.traceId, arda.traceId].sort());
  const bridges = now.stitched.spans.filter(s => s.synthetic);
  assert.deepEqual(bridges.map(b => b.name).sort(), ['beorn_to_mdso_bridge', 'mdso_to_arda_bridge']);
  const across = bridges.find(b => b.name === 'mdso_to_arda_bridge')!;
  assert.equal(across.traceId, mdsoPlan.traceId, 'the bridge lives in the trace sent before the crash');
  assert.equal(across.parentSpanId, mdsoPlan.spanId);
  assert.deepEqual(
    across.links.map(l => [l.traceId, l.spanId]),
    [[arda.traceId, arda.spanId]],
  );
  const kept = bridges.find(b => b.name === 'beorn_to_mdso_bridge')!;
  assert.equal(kept.spanId, acknowledged.stitched.bridges[0]!.spanId, 'the pre-crash bridge is kept, not recreated');
  const ardaTrace = await getJson<TraceDetail>(second.url, `/api/traces/${arda.traceId}`);
  assert.ok(ardaTrace.linksIn.some(l => l.sourceTraceId === mdsoPlan.traceId && l.targetSpanId === arda.spanId), 'ardaTrace.linksIn.some(l => l.sourceTraceId === mdsoPlan.traceId && l.targetSpanId === arda.spanId)');
  const byCircuit = now.correlations.correlations.filter(c => c.key === 'circuit_id' && c.value === circuitId);
  assert.equal(byCircuit.length, 1, 'the post-restart trace joins the pre-crash correlation, no second one');
  const circuitCorrelation = byCircuit[0]!;
  const preCrash = acknowledged.correlations.correlations.find(c => c.key === 'circuit_id' && c.value === circuitId);
  assert.equal(circuitCorrelation.id, preCrash?.id, 'same correlation id as before the crash');
  assert.deepEqual(new Set(circuitCorrelation.traceIds), new Set([beornClient.traceId, mdsoPlan.traceId, arda.traceId]));
  assert.equal(now.detail.summary.bridgeCount, 2);
  assert.equal(now.logs.logs.length, acknowledged.logs.logs.length + afterRestart.logCount.arda);

  // A second crash right after: the cross-restart bridge is durable too.
  await second.kill9();
  const third = await startServer(cleanup, { DATA_DIR: dataDir });
  const final = await state(third.url, circuitId, mdsoPlan.traceId);
  assert.deepEqual(durable(final), durable(now));

  // And a normal stop (SIGTERM) closes cleanly.
  assert.equal(await third.stop(), 0, third.output());
});

test('kill -9 while a large export is being ingested: after restart the trace is all there or not at all', { timeout: 180_000 }, async t => {
  const cleanup = cleanupStack(fn => t.after(fn));
  const dataDir = await tempDir(cleanup, 'corr-crash-');
  const n = 3000;
  const circuitId = 'crash-atomic';
  const specs = (seed: number) =>
    Array.from({ length: n }, (_, i) => ({
      name: i === 0 ? 'mdso.product.NetworkService' : `step-${i}`,
      startMs: i,
      endMs: n + 10,
      ...(i > 0 ? { parent: 0 } : {}),
      attributes: { circuit_id: `${circuitId}-${seed}`, 'step.detail': `detail ${i} `.repeat(20) },
    }));
  const big = await serviceTelemetry('mdso', Date.now() - 60_000, specs(1));
  const warmUp = await serviceTelemetry('mdso', Date.now() - 120_000, specs(0));
  const server = await startServer(cleanup, { DATA_DIR: dataDir });

  // How long one such request takes here decides when to pull the plug: about halfway through the
  // next one. Only the moment is chosen by time; the assertions hold for every outcome.
  const t0 = performance.now();
  const warm = await fetch(`${server.url}/v1/traces`, {
    method: 'POST',
    body: warmUp.traces.protobuf,
    headers: { 'content-type': 'application/x-protobuf' },
  });
  assert.equal(warm.status, 200);
  const oneIngestMs = performance.now() - t0;

  await new Promise<void>((resolve, reject) => {
    const req = http.request(`${server.url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' } });
    req.on('error', () => undefined);
    req.on('finish', () => {
      setTimeout(() => server.kill9().then(resolve, reject), oneIngestMs / 2);
    });
    req.end(big.traces.protobuf);
  });

  const restarted = await startServer(cleanup, { DATA_DIR: dataDir });
  const res = await fetch(`${restarted.url}/api/traces/${big.traceId}`);
  if (res.status === 404) {
    t.diagnostic('the kill came before the commit: nothing of the trace is stored');
    const circuit = await fetch(`${restarted.url}/api/circuits/${circuitId}-1`);
    assert.equal(circuit.status, 404, 'no circuit without its spans');
  } else {
    assert.equal(res.status, 200);
    const detail = (await res.json()) as TraceDetail;
    t.diagnostic(`the kill came after the commit: ${detail.spans.length} spans stored`);
    assert.equal(detail.spans.length, n, 'all spans of the request, never a part');
    assert.equal(detail.summary.spanCount, n);
    const circuit = await getJson<CircuitDetail>(restarted.url, `/api/circuits/${circuitId}-1`);
    assert.equal(circuit.summary.spanCount, n);
  }
  // Either way the store is healthy and takes the same export again, completely.
  const again = await fetch(`${restarted.url}/v1/traces`, {
    method: 'POST',
    body: big.traces.protobuf,
    headers: { 'content-type': 'application/x-protobuf' },
  });
  assert.equal(again.status, 200, await again.text());
  const stored = await getJson<TraceDetail>(restarted.url, `/api/traces/${big.traceId}`);
  assert.equal(stored.spans.length, n);
});

test('kill -9 past MAX_TRACES_PER_CIRCUIT: refused traces stay listed and refused, members stay members', { timeout: 180_000 }, async t => {
  const cleanup = cleanupStack(fn => t.after(fn));
  const dataDir = await tempDir(cleanup, 'corr-crash-cap-');
  const circuitId = 'crash-cap';
  const env = { DATA_DIR: dataDir, MAX_TRACES_PER_CIRCUIT: '2' };
  const baseMs = Date.now() - 120_000;
  const one = (service: string, offsetMs: number, seed: string) =>
    serviceTelemetry(service, baseMs + offsetMs, [{ name: `${service}.activate`, startMs: 0, endMs: 1000, attributes: { circuit_id: circuitId } }], seed);
  const post = async (base: string, body: Uint8Array) => {
    const res = await fetch(`${base}/v1/traces`, { method: 'POST', body, headers: { 'content-type': 'application/x-protobuf' } });
    assert.equal(res.status, 200, await res.text());
  };
  const snapshot = async (base: string) => {
    const detail = await getJson<CircuitDetail>(base, `/api/circuits/${circuitId}`);
    const stitched = await getJson<StitchedTrace>(base, `/api/circuits/${circuitId}/trace`);
    return {
      summary: detail.summary,
      traces: detail.traces.map(x => [x.traceId, x.spanCount]).sort(),
      correlations: detail.correlations.map(c => [c.id, [...c.traceIds].sort(), c.spanCount, c.firstSeenMs, c.lastSeenMs]),
      bridges: stitched.bridges.map(b => b.spanId).sort(),
      spans: stitched.spans.map(s => s.spanId).sort(),
    };
  };
  const [beorn, mdso, arda, palantir, late] = await Promise.all([
    one('beorn', 0, 'cap-beorn'),
    one('mdso', 2000, 'cap-mdso'),
    one('arda', 4000, 'cap-arda'),
    one('palantir', 6000, 'cap-palantir'),
    one('beorn', 8000, 'cap-late'),
  ]);

  const first = await startServer(cleanup, env);
  for (const x of [beorn, mdso, arda, palantir]) await post(first.url, x.traces.protobuf);
  const acknowledged = await snapshot(first.url);
  assert.equal(acknowledged.summary.traceCount, 4, 'the refused traces are listed before the crash');
  assert.equal(acknowledged.correlations.length, 1);
  assert.deepEqual(acknowledged.correlations[0]![1], [beorn.traceId, mdso.traceId].sort(), 'the first two are its members');

  await first.kill9();
  const second = await startServer(cleanup, env);
  assert.deepEqual(await snapshot(second.url), acknowledged, 'members, refusals and counts are as acknowledged');

  // After the restart a fifth trace is refused too, and a replay and a late span of a refused
  // trace make it no member.
  await post(second.url, late.traces.protobuf);
  // The same seed makes the same trace and root span again (a replay), and one new child.
  const lateSpan = await serviceTelemetry(
    'arda',
    baseMs + 4000,
    [
      { name: 'arda.activate', startMs: 0, endMs: 1000, attributes: { circuit_id: circuitId } },
      { name: 'arda.late-step', startMs: 500, endMs: 700, parent: 0, attributes: { circuit_id: circuitId } },
    ],
    'cap-arda',
  );
  assert.equal(lateSpan.traceId, arda.traceId, 'the same seed gives the same trace id');
  await post(second.url, lateSpan.traces.protobuf);
  const after = await snapshot(second.url);
  assert.equal(after.summary.traceCount, 5);
  assert.equal(after.summary.spanCount, 6);
  assert.deepEqual(after.correlations[0]![1], [beorn.traceId, mdso.traceId].sort(), 'no refused trace became a member');
  assert.equal(after.correlations[0]![0], acknowledged.correlations[0]![0], 'the same correlation');
  assert.equal(after.correlations[0]![2], 2, 'it counts its members only');
  assert.deepEqual(
    after.traces.map(x => x[0]),
    [beorn, mdso, arda, palantir, late].map(x => x.traceId).sort(),
  );

  await second.kill9();
  const third = await startServer(cleanup, env);
  assert.deepEqual(await snapshot(third.url), after, 'durable across a second crash');
  assert.equal(await third.stop(), 0, third.output());
});
