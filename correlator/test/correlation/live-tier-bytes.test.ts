// Hot state's live tier is bounded by the bytes its entries hold, not only by their number: traces
// of 100 spans hold ~8 KiB each live and circuits of many such traces far more, four to fifty
// times what the budget reserved for a live entry. Past the bytes the longest live entries are
// encoded, which must change no result.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CorrelationEngine, type EngineOptions } from '../../src/correlation/engine.js';
import { HOT_STATE_COSTS } from '../../src/correlation/hot-state-budget.js';
import { nothingStored } from '../../src/correlation/nothing-stored.js';
import { TieredMap, type StateCodec } from '../../src/correlation/tiered-map.js';
import type { DecodedSpan } from '../../src/otlp/decoded.js';
import type { DerivedWrites } from '../../src/store/derived-writes.js';
import { callHeavyTrace } from '../fixtures/call-heavy-traces.js';

interface Box {
  n: number;
  /** What it holds, as the map's LiveBytes counts it. */
  bytes: number;
}
const codec: StateCodec<Box> = {
  encode: b => Buffer.from(JSON.stringify(b)),
  decode: s => JSON.parse(Buffer.from(s).toString()) as Box,
};

describe('TieredMap’s live bytes', () => {
  it('encodes the longest live entries past the allowance, counting entries changed in place', () => {
    const m = new TieredMap<Box>(100, 10, codec, undefined, { of: b => b.bytes, allowance: 1000 });
    for (let i = 0; i < 4; i++) m.set(`k${i}`, { n: i, bytes: 200 });
    m.settle();
    assert.deepEqual([m.liveByteCount, m.encodedSize, m.demotedForBytes], [800, 0, 0]);
    // k1 grows in place: counted when the batch says it changed it.
    m.get('k1')!.bytes = 500;
    m.noteChanged('k1');
    m.settle();
    // 1100 B: k0, the longest live, is encoded, though 4 entries are far within 10.
    assert.deepEqual([m.liveByteCount, m.encodedSize, m.demotedForBytes, m.demotedForEntries], [900, 1, 1, 0]);
    // Read again, k0 is live again, the newest, and counted: k1, now the longest live, goes.
    assert.equal(m.get('k0')!.n, 0);
    m.settle();
    assert.deepEqual([m.liveByteCount, m.encodedSize, m.demotedForBytes], [600, 1, 2]);
    assert.equal(m.get('k1')!.bytes, 500, 'kept, encoded');
    m.settle();
    assert.equal(m.size, 4);
    // A larger entry than the whole allowance is encoded at once, and nothing is evicted.
    m.set('big', { n: 9, bytes: 5000 });
    m.settle();
    assert.equal(m.liveByteCount <= 1000, true);
    assert.equal(m.get('big')!.bytes, 5000);
    assert.deepEqual([m.size, m.evictions], [5, 0]);
  });

  it('evicts in insertion order whatever it encoded for bytes', () => {
    const m = new TieredMap<Box>(5, 5, codec, undefined, { of: b => b.bytes, allowance: 300 });
    for (let i = 0; i < 8; i++) {
      m.set(`k${i}`, { n: i, bytes: i % 2 ? 250 : 50 });
      // k0 is read by every batch: kept, it stays the oldest inserted.
      m.get('k0');
      m.settle();
    }
    assert.deepEqual(['k0', 'k1', 'k2', 'k3', 'k4', 'k5', 'k6', 'k7'].filter(k => m.has(k)), ['k3', 'k4', 'k5', 'k6', 'k7']);
    assert.ok(m.liveByteCount <= 300 && m.demotedForBytes > 0);
  });
});

const BASE_MS = Date.now() - 3_600_000;
const CIRCUITS = 12;
const MEMBERS = 40;
const SPANS = 100;
const LIVE = 64;

/** Trace m of circuit c, as an MDSO plan script's (call-heavy-traces.ts). */
const heavyTrace = (c: number, m: number): DecodedSpan[] => callHeavyTrace(BASE_MS, 'HEAVY.', c, m, SPANS);

function engine(liveBytes?: { traces: number; keys: number }): CorrelationEngine {
  const opts: EngineOptions = {
    windowMs: 60_000,
    maxTrackedTraces: 100_000,
    maxTrackedKeys: 100_000,
    maxTracesPerCircuit: 500,
    liveEntries: LIVE,
    bridgeKeys: ['circuit_id'],
    correlationKeys: ['circuit_id'],
    now: () => BASE_MS + 3_000_000,
  };
  return new CorrelationEngine(liveBytes ? { ...opts, liveBytes } : opts, nothingStored);
}

describe('the engine’s live tier within its bytes', () => {
  it('counts the traces and groups a batch changes, as if their data had come at once', () => {
    const whole = engine({ traces: Infinity, keys: Infinity });
    const split = engine({ traces: Infinity, keys: Infinity });
    const traces = Array.from({ length: 3 }, (_, c) => Array.from({ length: 8 }, (_, m) => heavyTrace(c, m))).flat();
    whole.observe(traces.flat(), []);
    // Each trace's entry and first calls, then the rest: traces and groups live since the first
    // batch grow in place in the second.
    split.observe(traces.flatMap(t => t.slice(0, 10)), []);
    const before = split.stats();
    split.observe(traces.flatMap(t => t.slice(10)), []);
    const [w, s] = [whole.stats(), split.stats()];
    assert.ok(s.liveTraceBytes > 2 * before.liveTraceBytes, `${before.liveTraceBytes} → ${s.liveTraceBytes} B`);
    assert.deepEqual([s.liveTraceBytes, s.liveKeyBytes], [w.liveTraceBytes, w.liveKeyBytes]);
  });

  it('encodes heavy traces and circuits past the bytes, with fewer live than liveEntries, and correlates alike', () => {
    const bounded = engine();
    const unbounded = engine({ traces: Infinity, keys: Infinity });
    const traceAllowance = LIVE * HOT_STATE_COSTS.liveTrace;
    const keyAllowance = LIVE * HOT_STATE_COSTS.liveKey;
    let mostUnbounded = 0;
    for (let m = 0; m < MEMBERS; m += 4) {
      const batch: DecodedSpan[] = [];
      for (let c = 0; c < CIRCUITS; c++) for (let k = m; k < m + 4; k++) batch.push(...heavyTrace(c, k));
      const a: DerivedWrites = bounded.observe(batch, []).writes;
      const b: DerivedWrites = unbounded.observe(batch, []).writes;
      // Every row the batch writes, bridges and correlations included, is the same.
      assert.deepEqual(a, b, `batch at member ${m}`);
      const s = bounded.stats();
      assert.ok(s.liveTraceBytes <= traceAllowance, `${s.liveTraceBytes} B of live traces, ${traceAllowance} allowed`);
      assert.ok(s.liveKeyBytes <= keyAllowance, `${s.liveKeyBytes} B of live groups, ${keyAllowance} allowed`);
      mostUnbounded = Math.max(mostUnbounded, unbounded.stats().liveTraceBytes);
    }
    const s = bounded.stats();
    // ~8 KiB a trace: 64 live would hold ~4 times the allowance.
    assert.ok(mostUnbounded > 3 * traceAllowance, `unbounded, ${mostUnbounded} B of live traces`);
    assert.ok(s.traceDemotions.bytes > 0 && s.keyDemotions.bytes > 0, JSON.stringify([s.traceDemotions, s.keyDemotions]));
    const u = unbounded.stats();
    assert.deepEqual([u.traceDemotions.bytes, u.keyDemotions.bytes], [0, 0]);
    // Encoded for bytes means with fewer live than liveEntries (TieredMap counts entries first);
    // all of them are still tracked.
    assert.equal(s.trackedTraces, CIRCUITS * MEMBERS);
    assert.equal(s.trackedKeys, u.trackedKeys);
    assert.deepEqual([s.traceEvictions, s.keyEvictions], [0, 0]);
  });
});
