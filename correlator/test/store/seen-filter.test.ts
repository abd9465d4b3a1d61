// The seen filter may say "held" of what was never added (rarely), never "not held" of what was.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SeenFilter, seenFilterBytes } from '../../src/store/seen-filter.js';

/** Deterministic trace-id-like strings: 32 hex digits from a seeded generator. */
function traceIds(n: number, seed: number): string[] {
  let x = seed >>> 0 || 1;
  const next = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0).toString(16).padStart(8, '0');
  };
  return Array.from({ length: n }, () => next() + next() + next() + next());
}

describe('SeenFilter', () => {
  it('holds every trace id and key group added', () => {
    const f = new SeenFilter(64 * 1024);
    const ids = traceIds(f.capacity, 1);
    for (const id of ids) f.addTrace(id);
    for (let i = 0; i < 5000; i++) f.addGroup('circuit_id', `CID-${i}`);
    assert.ok(
      ids.every(id => f.mayHoldTrace(id)),
      'a trace id added is missing',
    );
    for (let i = 0; i < 5000; i++) assert.ok(f.mayHoldGroup('circuit_id', `CID-${i}`), `CID-${i}`);
    assert.equal(f.added, ids.length + 5000);
  });

  const rates: [fill: number, bound: number][] = [
    // Theory at 10 bits and 7 probes per entry: 0.02% at half, 0.82% at capacity, 14% at twice.
    [0.5, 0.001],
    [1, 0.012],
    [2, 0.2],
  ];
  for (const [fill, bound] of rates) {
    it(`says "may hold" of fewer than ${bound * 100}% of other ids when filled to ${fill}× capacity`, () => {
      const f = new SeenFilter(64 * 1024);
      for (const id of traceIds(Math.floor(f.capacity * fill), 2)) f.addTrace(id);
      const others = traceIds(100_000, 3);
      const rate = others.filter(id => f.mayHoldTrace(id)).length / others.length;
      assert.ok(rate < bound, `false positive rate ${rate}`);
      // A filter that says "may hold" of everything would pass the bound above only if it were loose.
      assert.ok(fill < 1 || rate > bound / 20, `rate ${rate} is implausibly low for a full filter`);
    });
  }

  it('keeps trace ids, key groups and log records apart, and the key from the value', () => {
    const f = new SeenFilter(64 * 1024);
    f.addTrace('circuit_idCID-1');
    f.addGroup('ab', 'c');
    assert.equal(f.mayHoldGroup('circuit_id', 'CID-1'), false);
    assert.equal(f.mayHoldGroup('a', 'bc'), false);
    assert.equal(f.mayHoldTrace('abc'), false);
    assert.equal(f.mayHoldGroup('ab', 'c'), true);
    assert.equal(f.mayHoldGroup('ab', 'd'), false);
    f.addLog('sha1-of-a-record');
    assert.equal(f.mayHoldLog('sha1-of-a-record'), true);
    assert.equal(f.mayHoldTrace('sha1-of-a-record'), false);
    assert.equal(f.mayHoldLog('circuit_idCID-1'), false);
  });

  it('refuses a size that is not a power of two of at least 1 KiB', () => {
    assert.throws(() => new SeenFilter(3000), /not a power of two/);
    assert.throws(() => new SeenFilter(512), /not a power of two/);
    assert.equal(new SeenFilter(1024).capacity, 819);
  });
});

describe('seenFilterBytes', () => {
  const cases: [entries: number, maxBytes: number, bytes: number][] = [
    [0, 64 * 1024 * 1024, 64 * 1024],
    [52_428, 64 * 1024 * 1024, 64 * 1024],
    [52_429, 64 * 1024 * 1024, 128 * 1024],
    [1_000_000, 64 * 1024 * 1024, 2 * 1024 * 1024],
    [1e9, 1024 * 1024, 1024 * 1024],
    [1e9, 1024 * 1024 + 1, 1024 * 1024],
    [10, 64 * 1024 - 1, 0],
    [10, 0, 0],
  ];
  for (const [entries, maxBytes, bytes] of cases) {
    it(`sizes ${entries} entries within ${maxBytes} bytes as ${bytes}`, () => {
      assert.equal(seenFilterBytes(entries, maxBytes), bytes);
    });
  }
});
