import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LogGate } from '../../src/runtime/log-gate.js';

test('a repeating warning is let through at once, then at most once an interval with the count held since', () => {
  const gate = new LogGate(60_000);
  let now = 1_000_000;
  // [advance ms, occurrences, what pass returns: those held before these, or null when not due]
  const steps: [advanceMs: number, n: number, passed: number | null][] = [
    [0, 3, 0],
    [1_000, 2, null],
    [58_000, 4, null],
    [1_000, 1, 6],
    [300_000, 1, 0],
    [1, 1, null],
  ];
  for (const [i, [advance, n, passed]] of steps.entries()) {
    now += advance;
    assert.equal(gate.pass(now, n), passed, `step ${i}`);
  }
  // The condition ends: the next occurrence is logged at once, with nothing held from before.
  gate.reset();
  assert.equal(gate.pass(now + 1), 0);
});
