// PlanOrder must find the children and parents planBridges would, however its members changed
// since it was built: the engine plans a large episode's new traces from it alone.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CandidateSpans } from '../../src/correlation/candidate-spans.js';
import type { TraceState } from '../../src/correlation/types.js';
import { createRng } from '../../src/mdso/simulator/rng.js';
import { planBridges } from '../../src/stitching/bridge-planner.js';
import { PlanOrder } from '../../src/stitching/plan-order.js';

const W = 10_000;
// mdso-x: the service mdso's host prefix mdso-x.lab is by name (NamingIndex's namesAnother).
const SERVICES = ['beorn', 'mdso', 'arda', 'mdso-x'];

function trace(n: number, service: string, startMs: number, endMs: number): TraceState {
  return {
    traceId: n.toString(16).padStart(32, '0'),
    services: [service],
    firstMs: startMs,
    lastMs: endMs,
    spanLastMs: endMs,
    spanCount: 1,
    errorCount: 0,
    errorLogCount: 0,
    logCount: 0,
    entry: { spanId: n.toString(16).padStart(16, '0'), service, name: 'entry', startMs, endMs, hasParent: false },
    candidates: new CandidateSpans(),
    keys: { circuit_id: 'C' },
    moreKeys: [],
    linkedTraceIds: [],
  };
}

describe('PlanOrder', () => {
  // Dense: most children find a parent near them. Sparse (starts up to 30 s apart, three windows):
  // many are alone in their window, so whether a log line extends a parent shows.
  for (const [density, gridMs] of [['dense', 500], ['sparse', 5000]] as const) {
    for (let seed = 1; seed <= 20; seed++)
      it(`gives each member the parent planBridges gives, through joins, moved entries, later ends, late logs and named calls (${density}, seed ${seed})`, () => {
        const rnd = createRng(seed).next;
        // Starts on a coarse grid, so some tie and are ordered by trace id.
        const make = (n: number) => {
          const start = Math.floor(rnd() * 60) * gridMs;
          const t = trace(n, SERVICES[Math.floor(rnd() * SERVICES.length)]!, start, start + Math.floor(rnd() * 8000));
          if (rnd() < 0.3) nameService(t);
          return t;
        };
        // A call naming a service, by peer.service, host or host prefix: its trace then parents that
        // service's later traces before the nearest one does (NamingIndex).
        const nameService = (t: TraceState) => {
          const named = SERVICES[Math.floor(rnd() * SERVICES.length)]!;
          const callStart = t.entry!.startMs + Math.floor(rnd() * (t.spanLastMs - t.entry!.startMs + 1));
          const how = rnd();
          const byHost = how < 0.6;
          const destination = { name: how < 0.3 ? `${named}-x.lab` : byHost ? `${named}.example.net` : named, isHost: byHost };
          t.candidates.push(`c${t.candidates.length}`.padEnd(16, '0'), t.entry!.service, callStart, callStart + 10, 3, destination);
        };
        const members = Array.from({ length: 30 }, (_, n) => make(n));
        const order = PlanOrder.of(members);
        const parents = () => new Map(members.map((_, i) => [order.id(i), order.parentOf(i, W)]));
        // Every member whose parent a change moves starts within the changed trace's reach, [first
        // datum, last datum + window]: the engine plans only those (changedReach).
        const checkReach = (t: TraceState, before: Map<string, string | null>) => {
          const [a, b] = order.within(t.firstMs, t.lastMs + W);
          const reached = new Set(Array.from({ length: b - a }, (_, k) => order.id(a + k)));
          for (const [id, parent] of parents()) if (before.get(id) !== parent) assert.ok(reached.has(id), `member ${id}'s parent moved out of reach`);
        };
        for (let step = 0; step < 40; step++) {
          // Asked midway, the index makes what it makes on a first question and keeps it after.
          if (step === 20) for (let i = 0; i < members.length; i++) order.parentOf(i, W);
          const before = step % 4 === 0 ? parents() : null;
          const r = rnd();
          if (r < 0.4) {
            const t = make(members.length);
            members.push(t);
            order.update(t);
            if (before) checkReach(t, before);
          } else {
            const t = members[Math.floor(rnd() * members.length)]!;
            // Data only ever widens a trace: a later span end, a log line after its spans (which
            // dates the trace but parents nothing), or an entry that moves within its spans.
            if (r < 0.55) {
              t.spanLastMs += Math.floor(rnd() * 6000);
              t.lastMs = Math.max(t.lastMs, t.spanLastMs);
            } else if (r < 0.7) t.lastMs += Math.floor(rnd() * 6000);
            else if (r < 0.85) nameService(t);
            else {
              const start = t.firstMs + Math.floor(rnd() * (t.spanLastMs - t.firstMs + 1));
              t.entry = { ...t.entry!, startMs: start, service: SERVICES[Math.floor(rnd() * SERVICES.length)]! };
            }
            order.update(t);
            if (before) checkReach(t, before);
          }
        }
        const expected = planBridges('circuit_id', 'C', members, W);
        const [first, end] = order.within(-Infinity, Infinity);
        assert.deepEqual([first, end], [0, members.length], 'every member is listed');
        for (let i = first; i < end; i++) assert.equal(order.parentOf(i, W), expected.get(order.id(i))?.traceId ?? null, `member ${order.id(i)}`);
        // within() finds exactly the members starting in a range, ends included.
        const [from, to] = [members[3]!.entry!.startMs, members[3]!.entry!.startMs + 5000];
        const [a, b] = order.within(from, to);
        const listed = Array.from({ length: b - a }, (_, k) => order.id(a + k)).sort();
        const starting = members.filter(t => t.entry!.startMs >= from && t.entry!.startMs <= to).map(t => t.traceId).sort();
        assert.deepEqual(listed, starting);
      });
  }

  it('gives no parent whose log line, not its spans, runs into the window of the child', () => {
    const parent = trace(1, 'beorn', 0, 500);
    const child = trace(2, 'mdso', 20_000, 20_500);
    const order = PlanOrder.of([parent, child]);
    parent.lastMs = 20_500;
    order.update(parent);
    const [first] = order.within(20_000, 20_000);
    assert.equal(order.id(first), child.traceId);
    assert.equal(order.parentOf(first, W), null);
    parent.spanLastMs = 15_000;
    order.update(parent);
    assert.equal(order.parentOf(first, W), parent.traceId);
  });

  it('says when a member has span links, which it cannot plan by', () => {
    const a = trace(1, 'beorn', 0, 10);
    const order = PlanOrder.of([a, trace(2, 'mdso', 5, 10)]);
    assert.equal(order.hasLinks, false);
    a.linkedTraceIds.push(trace(3, 'arda', 0, 1).traceId);
    order.update(a);
    assert.equal(order.hasLinks, true);
  });
});
