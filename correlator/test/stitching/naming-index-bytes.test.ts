// NamingIndex.bytes is what hot state's budget counts of a planned group's naming index
// (plan-orders.ts): it must follow the heap the index holds, from a few named calls a member to
// MAX_CANDIDATES of them, with the per-service lists made and not.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { CandidateSpans } from '../../src/correlation/candidate-spans.js';
import type { TraceState } from '../../src/correlation/types.js';
import { PlanOrder } from '../../src/stitching/plan-order.js';

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

const SERVICES = ['mdso', 'bpocore', 'arda', 'beorn'];

function member(group: number, n: number, calls: number, baseMs: number): TraceState {
  const service = SERVICES[n % SERVICES.length]!;
  const startMs = baseMs + n * 1000;
  const candidates = new CandidateSpans();
  for (let k = 0; k < calls; k++) {
    const to = SERVICES[(n + 1 + (k % 3)) % SERVICES.length]!;
    const destination = k % 2 ? { name: to, isHost: false } : { name: `${to}.lab.example.net`, isHost: true };
    candidates.push(`${group}.${n}.${k}`.padEnd(16, '0'), service, startMs + k * 5, startMs + k * 5 + 3, 3, destination);
  }
  const endMs = startMs + 900;
  return {
    traceId: `${group}-${n}`.padStart(32, '0'),
    services: [service],
    firstMs: startMs,
    lastMs: endMs,
    spanLastMs: endMs,
    spanCount: calls + 1,
    errorCount: 0,
    errorLogCount: 0,
    logCount: 0,
    entry: { spanId: `e${group}.${n}`.padEnd(16, '0'), service, name: 'plan', startMs, endMs, hasParent: false },
    candidates,
    keys: { circuit_id: `C${group}` },
    moreKeys: [],
    linkedTraceIds: [],
  };
}

/** What `groups` orders of `members` members hold in the heap beyond the same without named calls, and what they estimate. */
function measured(groups: number, members: number, calls: number, ask: boolean): { heap: number; estimate: number } {
  const baseMs = Date.now() - 3_600_000;
  const build = (c: number) => {
    const states = Array.from({ length: groups }, (_, g) => Array.from({ length: members }, (_, n) => member(g, n, c, baseMs)));
    collectGarbage();
    const before = process.memoryUsage().heapUsed;
    const orders = states.map(ms => PlanOrder.of(ms));
    if (ask) for (const o of orders) for (let i = 0; i < members; i++) o.parentOf(i, 60_000);
    collectGarbage();
    const heap = process.memoryUsage().heapUsed - before;
    return { heap, estimate: orders.reduce((sum, o) => sum + o.namingBytes, 0), states };
  };
  const named = build(calls);
  const unnamed = build(0);
  assert.equal(unnamed.estimate, 0, 'no named calls, nothing held');
  return { heap: named.heap - unnamed.heap, estimate: named.estimate };
}

for (const [groups, members, calls, ask] of [
  [1000, 5, 3, true],
  [300, 10, 100, false],
  [40, 40, 128, true],
] as const)
  it(`estimates within a quarter what ${groups} orders of ${members} members of ${calls} named calls hold (lists ${ask ? 'made' : 'not made'})`, () => {
    const { heap, estimate } = measured(groups, members, calls, ask);
    const ratio = estimate / heap;
    assert.ok(ratio > 0.75 && ratio < 1.25, `estimate ${estimate} B, heap ${heap} B (${ratio.toFixed(2)})`);
  });
