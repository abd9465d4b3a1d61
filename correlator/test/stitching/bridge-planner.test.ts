import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CandidateSpans } from '../../src/correlation/candidate-spans.js';
import type { CandidateSpan, TraceState } from '../../src/correlation/types.js';
import { chooseParentSpan, planBridges } from '../../src/stitching/bridge-planner.js';
import { NAMED_BY_HOST_PREFIX, NAMED_CALL_SKEW_MS, namingStrength, NOT_NAMED } from '../../src/stitching/named-call.js';

const W = 60_000;

function trace(id: string, service: string, startMs: number, endMs: number, extra: Partial<TraceState> = {}): TraceState {
  return {
    traceId: id.padEnd(32, '0'),
    services: [service],
    firstMs: startMs,
    lastMs: endMs,
    spanLastMs: endMs,
    spanCount: 1,
    errorCount: 0,
    errorLogCount: 0,
    logCount: 0,
    entry: { spanId: `${id}e`.padEnd(16, '0'), service, name: `${service}.entry`, startMs, endMs, hasParent: false },
    candidates: new CandidateSpans(),
    keys: { circuit_id: 'C' },
    moreKeys: [],
    linkedTraceIds: [],
    ...extra,
  };
}

/** The trace with a log line of it at `atMs`: it dates the trace, its spans stay as they were. */
const loggedAt = (t: TraceState, atMs: number): TraceState => ({ ...t, lastMs: Math.max(t.lastMs, atMs), logCount: t.logCount + 1 });

const call = (spanId: string, service: string, startMs: number, endMs: number): CandidateSpan => ({
  spanId: spanId.padEnd(16, '0'),
  service,
  startMs,
  endMs,
  kind: 3,
});

const pairs = (plans: ReturnType<typeof planBridges>) =>
  [...plans.values()].map(p => `${p.parentService}->${p.childService}`).sort();

describe('planBridges', () => {
  const beorn = trace('b', 'beorn', 0, 1000, { candidates: CandidateSpans.of([call('bc', 'beorn', 10, 40)]) });
  const mdso = trace('m', 'mdso', 100, 600);
  const arda = trace('a', 'arda', 300, 350);

  const cases: { title: string; traces: TraceState[]; expect: string[] }[] = [
    { title: 'one bridge per hop of beorn → mdso → arda', traces: [beorn, mdso, arda], expect: ['beorn->mdso', 'mdso->arda'] },
    { title: 'arrival order does not matter', traces: [arda, beorn, mdso], expect: ['beorn->mdso', 'mdso->arda'] },
    { title: 'a single trace has nothing to bridge', traces: [beorn], expect: [] },
    {
      title: 'traces of one service are not bridged to each other',
      traces: [trace('x', 'beorn', 0, 10), trace('y', 'beorn', 20, 30)],
      expect: [],
    },
    {
      title: 'a retry of the same service bridges from the nearest other service',
      traces: [beorn, mdso, trace('m2', 'mdso', 200, 250)],
      expect: ['beorn->mdso', 'beorn->mdso'],
    },
    {
      title: 'nothing older than the window is a parent',
      traces: [trace('old', 'beorn', 0, 10), trace('late', 'arda', 10 + W + 1, 10 + W + 5)],
      expect: [],
    },
    {
      title: 'traces already linked by span links are left alone',
      traces: [beorn, trace('m', 'mdso', 100, 600, { linkedTraceIds: [beorn.traceId] })],
      expect: [],
    },
    {
      title: 'an earlier trace whose span links forward to a later one leaves it alone',
      traces: [trace('b', 'beorn', 0, 1000, { linkedTraceIds: [mdso.traceId] }), mdso, arda],
      expect: ['mdso->arda'],
    },
    {
      // A poller's run of traces: each still finds mdso, however long the run behind it.
      title: 'a long run of one service\'s traces bridges each from the service before the run',
      traces: [mdso, ...Array.from({ length: 150 }, (_, i) => trace(`p${String(i).padStart(3, '0')}`, 'arda', 200 + i * 2, 201 + i * 2))],
      expect: Array.from({ length: 150 }, () => 'mdso->arda'),
    },
    {
      title: 'a trace of another service past the window does not hide an older one still active',
      traces: [
        trace('long', 'beorn', 0, 3 * W),
        trace('short', 'beorn', 10, 20),
        trace('late', 'arda', 2 * W, 2 * W + 5),
      ],
      expect: ['beorn->arda'],
    },
    {
      title: 'traces without an entry span yet wait',
      traces: [beorn, trace('m', 'mdso', 100, 600, { entry: null })],
      expect: [],
    },
  ];
  for (const c of cases) {
    it(c.title, () => {
      assert.deepEqual(pairs(planBridges('circuit_id', 'C', c.traces, W)), c.expect);
    });
  }

  it('puts the bridge in the earlier trace, parented to its outgoing call, linking the child entry span', () => {
    const plans = planBridges('circuit_id', 'C', [beorn, mdso], W);
    const p = plans.get(mdso.traceId)!;
    assert.equal(p.traceId, beorn.traceId);
    assert.equal(p.parentSpanId, 'bc'.padEnd(16, '0'));
    assert.equal(p.childTraceId, mdso.traceId);
    assert.equal(p.childSpanId, mdso.entry!.spanId);
    assert.equal(p.method, 'circuit_id_match');
    assert.equal(p.parentStartMs, 10);
    assert.equal(p.childStartMs, 100);
    assert.match(p.spanId, /^[0-9a-f]{16}$/);
  });

  it('starts the bridge no later than the child when the call named it just after, by a clock ahead', () => {
    // beorn's clock reads 30 ms ahead of mdso's: its call to mdso starts after the trace it made.
    const toMdso: CandidateSpan = { ...call('bm', 'beorn', 130, 160), destination: { name: 'mdso', isHost: false } };
    const caller = trace('b', 'beorn', 0, 1000, { candidates: CandidateSpans.of([toMdso]) });
    const p = planBridges('circuit_id', 'C', [caller, mdso], W).get(mdso.traceId)!;
    assert.equal(p.parentSpanId, toMdso.spanId, 'the call that named mdso is the parent');
    assert.deepEqual([p.parentStartMs, p.childStartMs], [100, 100], 'the bridge starts with the child, not after it');
  });

  it('gives the same bridge ids for the same data, and different ids for different hops', () => {
    const a = planBridges('circuit_id', 'C', [beorn, mdso, arda], W);
    const b = planBridges('circuit_id', 'C', [arda, mdso, beorn], W);
    assert.deepEqual([...a.values()].map(p => p.spanId).sort(), [...b.values()].map(p => p.spanId).sort());
    assert.notEqual(a.get(mdso.traceId)!.spanId, a.get(arda.traceId)!.spanId);
  });

  it('bridges a child from a long-running trace behind any number of ended traces of its service', () => {
    // A poller's run of short traces after the trace that is still running: the run ended more
    // than a window before the child, the trace before it did not.
    const long = trace('long', 'beorn', 0, 100_000);
    const run = Array.from({ length: 300 }, (_, i) => trace(`r${String(i).padStart(3, '0')}`, 'beorn', 1000 + i * 100, 1000 + i * 100 + 10));
    const child = trace('child', 'mdso', 95_000, 95_100);
    const plans = planBridges('circuit_id', 'C', [long, ...run, child], 10_000);
    assert.equal(plans.get(child.traceId)?.traceId, long.traceId);
  });

  it('picks the parent the rule names, checked against every earlier trace, in any order', () => {
    // Seeded: the same cases on every run. Starts and ends on a coarse grid, so ties and exact
    // window edges occur; a few services, so runs of one service do too.
    let seed = 7;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    for (let round = 0; round < 300; round++) {
      const n = 2 + Math.floor(random() * 120);
      const services = ['beorn', 'mdso', 'arda', 'palantir'].slice(0, 2 + Math.floor(random() * 3));
      const traces = Array.from({ length: n }, (_, i) => {
        const start = Math.floor(random() * 200) * 50;
        const end = start + Math.floor(random() * (random() < 0.1 ? 400 : 4)) * 50;
        const t = trace(`t${i.toString(16).padStart(3, '0')}`, services[Math.floor(random() * services.length)]!, start, end);
        // Some have a log line after their spans, which dates them but parents nothing.
        return random() < 0.2 ? loggedAt(t, end + Math.floor(random() * 60) * 50) : t;
      });
      const window = 1000;
      // The rule, by exhaustive search: the nearest earlier trace (by entry start, then trace id)
      // of another service whose spans reach the child's start less the window.
      const ordered = [...traces].sort((x, y) => x.entry!.startMs - y.entry!.startMs || (x.traceId < y.traceId ? -1 : 1));
      const expected = new Map<string, string>();
      ordered.forEach((child, i) => {
        for (let j = i - 1; j >= 0; j--) {
          const p = ordered[j]!;
          if (p.entry!.service === child.entry!.service || child.entry!.startMs - p.spanLastMs > window) continue;
          expected.set(child.traceId, p.traceId);
          break;
        }
      });
      const shuffled = [...traces].sort(() => random() - 0.5);
      const parents = (plans: ReturnType<typeof planBridges>) => new Map([...plans].map(([child, p]) => [child, p.traceId]));
      assert.deepEqual(parents(planBridges('circuit_id', 'C', shuffled, window)), expected, `round ${round}`);
    }
  });

  it('lowers confidence with the gap after the parent span ended, never below half the key confidence', () => {
    const near = planBridges('circuit_id', 'C', [trace('p', 'beorn', 0, 1000), trace('c', 'arda', 500, 600)], W);
    const far = planBridges('circuit_id', 'C', [trace('p', 'beorn', 0, 1000), trace('c', 'arda', 1000 + W / 2, 1000 + W / 2 + 1)], W);
    assert.equal(near.values().next().value!.confidence, 0.9);
    assert.equal(far.values().next().value!.confidence, 0.675);
  });
});

describe('planBridges dates a parent by its spans, not its logs', () => {
  const MIN = 60_000;
  // Each expected bridge as parent->child, by the short ids trace() was given.
  const name = (id: string) => id.replace(/0+$/, '');
  const bridges = (plans: ReturnType<typeof planBridges>) =>
    [...plans.values()].map(p => `${name(p.traceId)}->${name(p.childTraceId)}`).sort();
  const cases: { title: string; traces: TraceState[]; expect: string[] }[] = [
    {
      title: 'a log line 20 minutes after its spans makes a trace no parent of a child then',
      traces: [loggedAt(trace('b', 'beorn', 0, 500), 20 * MIN + 1000), trace('m', 'mdso', 20 * MIN, 20 * MIN + 500)],
      expect: [],
    },
    {
      title: 'without the log line, the same',
      traces: [trace('b', 'beorn', 0, 500), trace('m', 'mdso', 20 * MIN, 20 * MIN + 500)],
      expect: [],
    },
    {
      title: 'a log line inside the window does not make a trace whose spans ended before it a parent',
      traces: [loggedAt(trace('b', 'beorn', 0, 500), 500 + W), trace('m', 'mdso', 500 + W + 1, 600 + W)],
      expect: [],
    },
    {
      title: 'a trace whose spans run within the window is a parent, whatever its logs',
      traces: [loggedAt(trace('b', 'beorn', 0, 20 * MIN - 30_000), 40 * MIN), trace('m', 'mdso', 20 * MIN, 20 * MIN + 500)],
      expect: ['b->m'],
    },
    {
      title: 'the child gets the nearest trace whose spans qualify, not a nearer one its log dates',
      traces: [
        trace('a', 'arda', 18 * MIN, 19 * MIN + 48_000),
        loggedAt(trace('b', 'beorn', 18 * MIN + 30_000, 18 * MIN + 30_500), 20 * MIN + 1000),
        trace('m', 'mdso', 20 * MIN, 20 * MIN + 500),
      ],
      expect: ['a->b', 'a->m'],
    },
    {
      title: 'a later trace of a service, logged late, does not hide its long-running trace before it',
      traces: [
        trace('long', 'beorn', 0, 3 * W),
        loggedAt(trace('short', 'beorn', 10, 20), 5 * W),
        trace('late', 'arda', 2 * W, 2 * W + 5),
      ],
      expect: ['long->late'],
    },
    {
      title: 'nor does a run of them longer than the first look back',
      traces: [
        trace('long', 'beorn', 0, 3 * W),
        ...Array.from({ length: 12 }, (_, i) => loggedAt(trace(`s${i.toString(16)}`, 'beorn', 10 + i, 20 + i), 5 * W)),
        trace('late', 'arda', 2 * W, 2 * W + 5),
      ],
      expect: ['long->late'],
    },
    {
      title: 'a trace of logs alone before its spans come is no parent',
      traces: [{ ...loggedAt(trace('b', 'beorn', 0, 500), 2 * W), entry: null, spanLastMs: -Infinity }, trace('m', 'mdso', 2 * W, 2 * W + 5)],
      expect: [],
    },
  ];
  for (const c of cases) {
    it(c.title, () => {
      assert.deepEqual(bridges(planBridges('circuit_id', 'C', c.traces, W)), c.expect);
      assert.deepEqual(bridges(planBridges('circuit_id', 'C', [...c.traces].reverse(), W)), c.expect, 'in reverse order');
    });
  }
});

describe('chooseParentSpan', () => {
  const base = trace('p', 'beorn', 0, 1000);
  // `basis` is what the bridge says it hangs from (bridge.basis): time_only marks the guess.
  const cases: { title: string; candidates: CandidateSpan[]; childStart: number; expect: string; basis: string }[] = [
    { title: 'no candidates: the entry span', candidates: [], childStart: 500, expect: base.entry!.spanId, basis: 'time_only' },
    {
      title: 'the latest outgoing call before the child',
      candidates: [call('c1', 'beorn', 10, 20), call('c2', 'beorn', 30, 40), call('c3', 'beorn', 600, 700)],
      childStart: 500,
      expect: 'c2'.padEnd(16, '0'),
      basis: 'call',
    },
    {
      title: 'an internal step containing the child start when there is no call',
      candidates: [{ spanId: 'st'.padEnd(16, '0'), service: 'beorn', startMs: 100, endMs: 900, kind: 1 }],
      childStart: 500,
      expect: 'st'.padEnd(16, '0'),
      basis: 'running_span',
    },
    {
      title: 'with context crossing services, the step still running rather than the long call around it',
      candidates: [
        call('bc', 'beorn', 100, 900),
        { spanId: 'mp'.padEnd(16, '0'), service: 'mdso', startMs: 200, endMs: 800, kind: 2 },
      ],
      childStart: 400,
      expect: 'mp'.padEnd(16, '0'),
      basis: 'running_span',
    },
    {
      title: 'a call still in flight beats an earlier step containing it',
      candidates: [{ spanId: 'st'.padEnd(16, '0'), service: 'mdso', startMs: 220, endMs: 1500, kind: 1 }, call('ga', 'mdso', 300, 900)],
      childStart: 340,
      expect: 'ga'.padEnd(16, '0'),
      basis: 'call',
    },
    {
      title: 'an internal step that ended before the child is not a parent',
      candidates: [{ spanId: 'st'.padEnd(16, '0'), service: 'beorn', startMs: 100, endMs: 200, kind: 1 }],
      childStart: 500,
      expect: base.entry!.spanId,
      basis: 'time_only',
    },
  ];
  for (const c of cases) {
    it(c.title, () => {
      const chosen = chooseParentSpan({ ...base, candidates: CandidateSpans.of(c.candidates) }, c.childStart);
      assert.deepEqual([chosen.spanId, chosen.basis], [c.expect, c.basis]);
    });
  }
});

describe('chooseParentSpan, with calls that say where they went', () => {
  const root: CandidateSpan = { spanId: 'br'.padEnd(16, '0'), service: 'beorn', startMs: 0, endMs: 1000, kind: 2 };
  const to = (c: CandidateSpan, name: string, isHost: boolean): CandidateSpan => ({ ...c, destination: { name, isHost } });
  const id = (tag: string) => tag.padEnd(16, '0');
  const cases: { title: string; candidates: CandidateSpan[]; childService: string; childStart: number; expect: string }[] = [
    {
      title: "the reviewer's case: the MDSO call by peer.service, not the later palantir call",
      candidates: [root, to(call('cm', 'beorn', 50, 600), 'mdso', false), to(call('cp', 'beorn', 100, 110), 'palantir', false)],
      childService: 'mdso',
      childStart: 120,
      expect: id('cm'),
    },
    {
      title: 'the MDSO call by server.address host',
      candidates: [root, to(call('cm', 'beorn', 50, 600), 'mdso.example.net', true), to(call('cp', 'beorn', 100, 110), 'palantir.example.net', true)],
      childService: 'mdso',
      childStart: 120,
      expect: id('cm'),
    },
    {
      title: 'a host of the service with a port, or a name under it with a dash',
      candidates: [root, to(call('cm', 'beorn', 50, 60), 'mdso-bpo', true), to(call('cp', 'beorn', 100, 110), 'palantir', true)],
      childService: 'mdso',
      childStart: 120,
      expect: id('cm'),
    },
    {
      // A review's cases: mdso-proxy is another service; an exact host, or a domain under it, wins.
      title: 'a host that is the name beats a later one that only begins with it and a dash',
      candidates: [root, to(call('cm', 'beorn', 50, 600), 'mdso.example.net', true), to(call('cx', 'beorn', 100, 110), 'mdso-proxy', true)],
      childService: 'mdso',
      childStart: 120,
      expect: id('cm'),
    },
    {
      title: 'the host alone beats a later url host that only begins with it',
      candidates: [root, to(call('cm', 'beorn', 50, 600), 'mdso', true), to(call('cx', 'beorn', 100, 110), 'mdso-proxy', true)],
      childService: 'mdso',
      childStart: 120,
      expect: id('cm'),
    },
    {
      // A review's case: palantir's trace hung from beorn's call to MDSO, made just before it.
      title: "a call whose peer.service names another service gives way to the caller's running span",
      candidates: [root, to(call('cm', 'beorn', 50, 60), 'mdso', false)],
      childService: 'palantir',
      childStart: 100,
      expect: id('br'),
    },
    {
      title: 'a call whose peer.service names another service is still the parent when nothing else can be',
      candidates: [to(call('cm', 'beorn', 50, 60), 'mdso', false)],
      childService: 'palantir',
      childStart: 100,
      expect: id('cm'),
    },
    {
      title: 'the service names compare without regard to case (destinations are kept lower-cased)',
      candidates: [root, to(call('cm', 'beorn', 50, 600), 'mdso', false), to(call('cp', 'beorn', 100, 110), 'palantir', false)],
      childService: 'MDSO',
      childStart: 120,
      expect: id('cm'),
    },
    {
      title: 'an orchestrator: the finished POST that names it, not a later call still running',
      candidates: [root, to(call('cm', 'beorn', 50, 60), 'mdso', false), to(call('cp', 'beorn', 100, 300), 'palantir', false)],
      childService: 'mdso',
      childStart: 120,
      expect: id('cm'),
    },
    {
      title: 'peer.service names the child more plainly than a host does',
      candidates: [root, to(call('cs', 'beorn', 40, 50), 'mdso', false), to(call('ch', 'beorn', 60, 70), 'mdso.example.net', true)],
      childService: 'mdso',
      childStart: 120,
      expect: id('cs'),
    },
    {
      title: 'of two calls that name the child alike, the one that started last',
      candidates: [root, to(call('c1', 'beorn', 40, 50), 'mdso', false), to(call('c2', 'beorn', 60, 70), 'mdso', false), to(call('cp', 'beorn', 80, 90), 'palantir', false)],
      childService: 'mdso',
      childStart: 120,
      expect: id('c2'),
    },
    {
      title: 'a host that only begins with the name, or a peer.service that only begins with it, names no one',
      candidates: [root, to(call('c1', 'beorn', 40, 50), 'mdsoproxy.example.net', true), to(call('c2', 'beorn', 60, 70), 'mdso-bpo', false), call('c3', 'beorn', 80, 90)],
      childService: 'mdso',
      childStart: 120,
      expect: id('c3'),
    },
    {
      title: 'a call that names the child but starts more than the clock-skew tolerance after it is no parent',
      candidates: [root, call('cp', 'beorn', 100, 110), to(call('cm', 'beorn', 121 + NAMED_CALL_SKEW_MS, 600), 'mdso', false)],
      childService: 'mdso',
      childStart: 120,
      expect: id('cp'),
    },
    {
      title: 'a call that names the child and starts within the clock-skew tolerance after it is the parent',
      candidates: [root, call('cp', 'beorn', 100, 110), to(call('cm', 'beorn', 130, 600), 'mdso', false)],
      childService: 'mdso',
      childStart: 120,
      expect: id('cm'),
    },
    {
      title: 'a call that names nothing gets no clock-skew tolerance: with nothing else, the entry',
      candidates: [call('cl', 'beorn', 130, 600)],
      childService: 'mdso',
      childStart: 120,
      expect: id('pe'),
    },
    {
      title: 'a call naming the child in time beats one naming it alike just after it, however nearer',
      candidates: [root, to(call('cm', 'beorn', 20, 30), 'mdso', false), to(call('cn', 'beorn', 121, 600), 'mdso', false)],
      childService: 'mdso',
      childStart: 120,
      expect: id('cm'),
    },
    {
      title: 'of calls naming the child just after it, the nearest',
      candidates: [root, to(call('cn', 'beorn', 125, 600), 'mdso', false), to(call('cm', 'beorn', 122, 600), 'mdso', false)],
      childService: 'mdso',
      childStart: 120,
      expect: id('cm'),
    },
    {
      title: 'a call naming the child by peer.service just after it beats one naming it by host in time',
      candidates: [root, to(call('ch', 'beorn', 20, 30), 'mdso.example.net', true), to(call('cm', 'beorn', 130, 600), 'mdso', false)],
      childService: 'mdso',
      childStart: 120,
      expect: id('cm'),
    },
    {
      title: 'a server span with an address is no call that names it',
      candidates: [to({ ...root, startMs: 0 }, 'mdso', true), call('cp', 'beorn', 100, 110)],
      childService: 'mdso',
      childStart: 120,
      expect: id('cp'),
    },
    {
      title: 'when no call names the child, the rule without names: a later finished call beats one still running',
      candidates: [root, to(call('cx', 'beorn', 50, 600), 'granite', false), call('cp', 'beorn', 100, 110)],
      childService: 'mdso',
      childStart: 120,
      expect: id('cp'),
    },
  ];
  for (const c of cases) {
    it(c.title, () => {
      const parent = trace('p', 'beorn', 0, 1000, { candidates: CandidateSpans.of(c.candidates) });
      assert.equal(chooseParentSpan(parent, c.childStart, c.childService).spanId, c.expect);
      // Arrival order decides nothing: candidates come in any order.
      const reversed = trace('p', 'beorn', 0, 1000, { candidates: CandidateSpans.of([...c.candidates].reverse()) });
      assert.equal(chooseParentSpan(reversed, c.childStart, c.childService).spanId, c.expect, 'candidates reversed');
    });
  }

  it('planBridges hangs the bridge from the call that names the child', () => {
    const beorn = trace('b', 'beorn', 0, 1000, {
      candidates: CandidateSpans.of([root, to(call('cm', 'beorn', 50, 600), 'mdso', false), to(call('cp', 'beorn', 100, 110), 'palantir', false)]),
    });
    const mdso = trace('m', 'mdso', 120, 700);
    for (const traces of [[beorn, mdso], [mdso, beorn]]) {
      const [plan] = [...planBridges('circuit_id', 'C', traces, W).values()];
      assert.deepEqual([plan?.parentSpanId, plan?.basis], [id('cm'), 'named_call']);
    }
  });

  it('says a call that named another service is a call, not a named one (basis call)', () => {
    // Ranked below a span still running (NAMES_ANOTHER_SERVICE), so alone here.
    const chosen = chooseParentSpan(trace('p', 'beorn', 0, 1000, { candidates: CandidateSpans.of([to(call('cx', 'beorn', 50, 60), 'granite', false)]) }), 120, 'mdso');
    assert.deepEqual([chosen.spanId, chosen.basis], [id('cx'), 'call']);
  });
});

describe('planBridges picks the parent trace whose call named the child', () => {
  const id = (tag: string) => tag.padEnd(16, '0');
  const named = (spanId: string, startMs: number, endMs: number, name: string, isHost: boolean): CandidateSpan => ({
    ...call(spanId, 'beorn', startMs, endMs),
    destination: { name, isHost },
  });
  /** A trace of `service` whose candidates are `calls`, each made by that service. */
  const callerWith = (tag: string, service: string, start: number, end: number, ...calls: CandidateSpan[]) =>
    trace(tag, service, start, end, { candidates: CandidateSpans.of(calls.map(c => ({ ...c, service }))) });
  const beornWith = (tag: string, start: number, end: number, ...calls: CandidateSpan[]) => callerWith(tag, 'beorn', start, end, ...calls);
  const palantir = trace('p', 'palantir', 100, 110);
  const mdso = trace('m', 'mdso', 120, 700);
  /** `child`: the last of `traces` unless given. */
  const cases: { title: string; traces: TraceState[]; child?: TraceState; expect: { trace: string; span: string }; windowMs?: number }[] = [
    {
      title: "the reviewer's case: beorn's call by peer.service at 50 ms, not palantir's trace at 100–110 ms",
      traces: [beornWith('b', 0, 1000, named('cm', 50, 600, 'mdso', false)), palantir, mdso],
      expect: { trace: 'b', span: 'cm' },
    },
    {
      title: 'named by server.address host',
      traces: [beornWith('b', 0, 1000, named('cm', 50, 600, 'mdso.example.net', true)), palantir, mdso],
      expect: { trace: 'b', span: 'cm' },
    },
    {
      title: 'named by a host prefix, still before a trace that names nothing',
      traces: [beornWith('b', 0, 1000, named('cm', 50, 600, 'mdso-bpo', true)), palantir, mdso],
      expect: { trace: 'b', span: 'cm' },
    },
    {
      // Was strength first (b); RV6's 'mixed': palantir's GET by peer.service came before beorn's POST by host.
      title: 'a later call by host beats an earlier one by peer.service in another trace',
      traces: [
        beornWith('b', 0, 1000, named('cm', 50, 600, 'mdso', false)),
        callerWith('g', 'granite', 60, 900, named('gm', 70, 80, 'mdso.example.net', true)),
        palantir,
        mdso,
      ],
      expect: { trace: 'g', span: 'gm' },
    },
    {
      title: "RV6 'mixed': palantir's GET by peer.service at +10, beorn's POST to MDSO's URL at +50, MDSO at +55",
      traces: [
        callerWith('p', 'palantir', 0, 30, named('pm', 10, 20, 'mdso', false)),
        beornWith('b', 40, 600, named('cm', 50, 60, 'mdso.example.net', true)),
        trace('m', 'mdso', 55, 900),
      ],
      expect: { trace: 'b', span: 'cm' },
    },
    {
      title: "RV6 'ha': beorn's call to the HA node (a host prefix) 5 ms before MDSO, not the VIP call 30 s before",
      traces: [
        beornWith('b1', 0, 100, named('c1', 10, 20, 'mdso.example.net', true)),
        trace('m1', 'mdso', 15, 200),
        beornWith('b2', 30_000, 30_100, named('c2', 30_010, 30_020, 'mdso-01.lab', true)),
        trace('m2', 'mdso', 30_015, 30_200),
      ],
      expect: { trace: 'b2', span: 'c2' },
      windowMs: 60_000,
    },
    {
      title: "RV6 'skew2': MDSO's clock behind, its own call 2 ms after it, not the other activation's 30 s before",
      traces: [
        beornWith('b1', 0, 100, named('c1', 10, 20, 'mdso', false)),
        trace('m1', 'mdso', 8, 200),
        beornWith('b2', 30_000, 30_100, named('c2', 30_010, 30_020, 'mdso', false)),
        trace('m2', 'mdso', 30_008, 30_200),
      ],
      expect: { trace: 'b2', span: 'c2' },
      windowMs: 60_000,
    },
    {
      title: "RV6 'sim': a call to mdso-sim.lab, which a trace of mdso-sim took, does not name mdso",
      traces: [
        beornWith('b', 0, 60, named('cs', 10, 20, 'mdso-sim.lab', true)),
        trace('s', 'mdso-sim', 12, 18),
        trace('p', 'palantir', 100, 400),
        trace('m', 'mdso', 120, 300),
      ],
      expect: { trace: 'p', span: 'pe' },
      windowMs: 60_000,
    },
    {
      title: 'a host prefix names the child when the service it is by name has no member in the window before',
      traces: [
        trace('s', 'mdso-sim', 0, 18),
        beornWith('b', 1000, 1200, named('cs', 1010, 1020, 'mdso-sim.lab', true)),
        trace('p', 'palantir', 1100, 1400),
        trace('m', 'mdso', 1120, 1300),
        trace('s2', 'mdso-sim', 1130, 1140),
      ],
      child: trace('m', 'mdso', 1120, 1300),
      expect: { trace: 'b', span: 'cs' },
      windowMs: 1000,
    },
    {
      title: 'of two calls naming it at one start, the stronger naming',
      traces: [
        beornWith('b', 0, 1000, named('cm', 70, 600, 'mdso', false)),
        callerWith('g', 'granite', 60, 900, named('gm', 70, 80, 'mdso.example.net', true)),
        palantir,
        mdso,
      ],
      expect: { trace: 'b', span: 'cm' },
    },
    {
      title: 'of two traces naming it alike, the nearer (later) one',
      traces: [
        beornWith('b', 0, 1000, named('cm', 50, 600, 'mdso', false)),
        callerWith('g', 'granite', 60, 900, named('gm', 70, 80, 'mdso', false)),
        palantir,
        mdso,
      ],
      expect: { trace: 'g', span: 'gm' },
    },
    {
      title: 'none naming it: the nearest active trace of another service, as before',
      traces: [beornWith('b', 0, 1000, named('cm', 50, 600, 'arda', false)), palantir, mdso],
      expect: { trace: 'p', span: 'pe' },
    },
    {
      title: 'a call naming it that starts more than the clock-skew tolerance after the child names nothing yet',
      traces: [beornWith('b', 0, 1000, named('cm', 121 + NAMED_CALL_SKEW_MS, 600, 'mdso', false)), palantir, mdso],
      expect: { trace: 'p', span: 'pe' },
    },
    {
      title: "a call naming it just after the child (the caller's clock ahead) still wins over the nearest trace",
      traces: [beornWith('b', 0, 1000, named('cm', 130, 600, 'mdso', false)), palantir, mdso],
      expect: { trace: 'b', span: 'cm' },
    },
    {
      // Was the in-time call (b): RV6's 'skew2', calls just after the child compete alike by start.
      title: 'a call naming it just after the child beats an earlier one naming it alike in time',
      traces: [
        beornWith('b', 0, 1000, named('cm', 50, 600, 'mdso', false)),
        beornWith('b2', 60, 1000, named('cn', 125, 600, 'mdso', false)),
        palantir,
        mdso,
      ],
      expect: { trace: 'b2', span: 'cn' },
    },
    {
      title: 'a call naming it that started more than the window before the child names nothing',
      traces: [beornWith('b', 0, 1000, named('cm', 10, 20, 'mdso', false)), palantir, mdso],
      expect: { trace: 'p', span: 'pe' },
    },
    {
      title: 'an unnamed call just after the child gets no clock-skew tolerance',
      traces: [beornWith('b', 0, 1000, call('cl', 'beorn', 125, 600)), palantir, mdso],
      expect: { trace: 'p', span: 'pe' },
    },
    {
      title: 'a naming trace whose spans ended more than the window before is no parent',
      traces: [beornWith('b', 0, 60, named('cm', 50, 60, 'mdso', false)), trace('p', 'palantir', 100, 110), trace('m', 'mdso', 200, 300)],
      expect: { trace: 'p', span: 'pe' },
    },
    {
      title: 'a trace of the child\'s own service that names it is no parent',
      traces: [callerWith('x', 'mdso', 0, 1000, named('xm', 50, 60, 'mdso', false)), palantir, mdso],
      expect: { trace: 'p', span: 'pe' },
    },
  ];
  for (const c of cases)
    it(c.title, () => {
      for (const traces of [c.traces, [...c.traces].reverse()]) {
        const plan = planBridges('circuit_id', 'C', traces, c.windowMs ?? 100).get((c.child ?? c.traces.at(-1)!).traceId);
        assert.equal(plan?.traceId, c.expect.trace.padEnd(32, '0'));
        assert.equal(plan?.parentSpanId, id(c.expect.span));
      }
    });

  it('a call naming it that started more than the window before the child names nothing, in a large circuit too', () => {
    // Past 32 traces with calls the index looks namings up in a list sorted by call start, not trace
    // by trace: these ended ones call arda, of which the circuit has no trace.
    const ended = Array.from({ length: 40 }, (_, i) =>
      beornWith(`f${String(i).padStart(2, '0')}`, 0, 1, named(`fa${i}`, 0, 1, 'arda', false)),
    );
    const traces = [beornWith('b', 0, 1000, named('cm', 10, 20, 'mdso', false)), palantir, mdso];
    for (const circuit of [traces, [...ended, ...traces]]) {
      const plan = planBridges('circuit_id', 'C', circuit, 100).get(mdso.traceId);
      assert.equal(plan?.traceId, 'p'.padEnd(32, '0'), `${circuit.length} traces`);
    }
  });

  it('finds the last naming call behind any number of later traces calling within the tolerance, in a large circuit', () => {
    // Was: a long trace's call 95 s before the child, behind 3000 ended ones; no longer a parent,
    // its call being outside the window. Now the walk back past traces starting after the child.
    const run = Array.from({ length: 3000 }, (_, i) =>
      beornWith(`r${String(i).padStart(4, '0')}`, 1000 + i * 10, 1000 + i * 10 + 5, named(`q${i}`, 1001 + i * 10, 1002 + i * 10, 'mdso', false)),
    );
    const child = trace('child', 'mdso', 20_000.5, 20_100);
    const late = Array.from({ length: 40 }, (_, i) =>
      beornWith(`z${String(i).padStart(4, '0')}`, 20_001 + i, 20_100, named(`z${i}`, 20_001 + i, 20_002 + i, 'mdso', false)),
    );
    const plans = planBridges('circuit_id', 'C', [...run, ...late, child], 10_000);
    // r1900 starts 0.5 ms before the child; r1901–r1904 call later but start after it.
    assert.equal(plans.get(child.traceId)?.traceId, run[1900]!.traceId);
  });
});

describe('planBridges by naming, against an exhaustive search', () => {
  it('picks the parent the rule names, by the last naming call, in any order', () => {
    let seed = 11;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    // mdso-bpo: mdso's host prefix is by name a service of its own (RV6's mdso-sim).
    const services = ['beorn', 'mdso', 'arda', 'palantir', 'mdso-bpo'];
    // Destinations: each service by peer.service, by host, by a host prefix, one naming no one.
    const destinations = services.flatMap(s => [
      { name: s, isHost: false },
      { name: `${s}.example.net`, isHost: true },
      { name: `${s}-bpo`, isHost: true },
    ]);
    destinations.push({ name: '10.0.0.1', isHost: true });
    for (let round = 0; round < 300; round++) {
      const n = 2 + Math.floor(random() * 120);
      const traces = Array.from({ length: n }, (_, i) => {
        const service = services[Math.floor(random() * services.length)]!;
        const start = Math.floor(random() * 200) * 50;
        const end = start + Math.floor(random() * (random() < 0.1 ? 400 : 4)) * 50;
        const calls = Array.from({ length: random() < 0.5 ? 0 : 1 + Math.floor(random() * 3) }, (_, k): CandidateSpan => {
          // Some start a little after their trace's end is known: on a grid of 10 ms, so the
          // clock-skew tolerance's edge occurs.
          const at = start + Math.floor(random() * ((end - start) / 10 + 1)) * 10;
          return { ...call(`c${i}x${k}`, service, at, at + 10), destination: destinations[Math.floor(random() * destinations.length)]! };
        });
        return trace(`t${i.toString(16).padStart(3, '0')}`, service, start, Math.max(end, ...calls.map(c => c.endMs)), {
          candidates: CandidateSpans.of(calls),
        });
      });
      const window = 1000;
      const ordered = [...traces].sort((x, y) => x.entry!.startMs - y.entry!.startMs || (x.traceId < y.traceId ? -1 : 1));
      const expected = new Map<string, string>();
      ordered.forEach((child, i) => {
        const T = child.entry!.startMs;
        const service = child.entry!.service;
        // Each eligible call by [its start, strength], then its trace's position: the greatest wins.
        let best: { j: number; rank: [number, number] } | null = null;
        let nearest = -1;
        for (let j = i - 1; j >= 0; j--) {
          const p = ordered[j]!;
          if (p.entry!.service === service) continue;
          if (nearest < 0 && !(T - p.spanLastMs > window)) nearest = j;
          for (let k = 0; k < p.candidates.length; k++) {
            const d = p.candidates.at(k).destination!;
            const strength = namingStrength(d.name, d.isHost, service);
            const start = p.candidates.startMs(k);
            if (strength <= NOT_NAMED || start > T + NAMED_CALL_SKEW_MS || start < T - window) continue;
            // A host prefix that is by name a service with a trace in the window before the child.
            const took = ordered.some(
              (o, m) => m < i && o.entry!.startMs >= T - window && ['', '.example.net'].some(x => `${o.entry!.service}${x}` === d.name),
            );
            if (strength === NAMED_BY_HOST_PREFIX && took) continue;
            const rank: [number, number] = [start, strength];
            if (!best || rank[0] > best.rank[0] || (rank[0] === best.rank[0] && (rank[1] > best.rank[1] || (rank[1] === best.rank[1] && j > best.j))))
              best = { j, rank };
          }
        }
        const parent = best ? best.j : nearest;
        if (parent >= 0) expected.set(child.traceId, ordered[parent]!.traceId);
      });
      const shuffled = [...traces].sort(() => random() - 0.5);
      const parents = (plans: ReturnType<typeof planBridges>) => new Map([...plans].map(([child, p]) => [child, p.traceId]));
      assert.deepEqual(parents(planBridges('circuit_id', 'C', shuffled, window)), expected, `round ${round}`);
    }
  });
});
