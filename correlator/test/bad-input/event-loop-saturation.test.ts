// The 503 for a saturated process (MAX_EVENT_LOOP_DELAY_MS) judges the event loop's recent delays:
// it refuses while the loop lags, and stops once the lag has passed, however long ago the last
// ingest request came. It used to judge lazily, on every delay since the previous request, so the
// first requests after a finished stall were refused: the ingest bench's run into a filled store
// got 503 for all of its 400 requests after its in-process fill.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { OverloadGuard } from '../../src/api/overload.js';
import { CorrelatorError } from '../../src/api/errors.js';

const MAX_DELAY_MS = 60;

/** Blocks the event loop for `ms` at a time, `times` times, letting timers run in between. */
async function lag(ms: number, times: number): Promise<void> {
  for (let i = 0; i < times; i++) {
    const until = performance.now() + ms;
    while (performance.now() < until) {
      /* busy: the loop is stalled */
    }
    await sleep(1);
  }
}

function admitted(guard: OverloadGuard): { status: number; message: string; retryAfter?: number } | 'admitted' {
  try {
    guard.admit();
    guard.release();
    return 'admitted';
  } catch (e) {
    assert.ok(e instanceof CorrelatorError, `admit threw something other than a CorrelatorError: ${String(e)}`);
    return { status: e.statusCode, message: e.message, ...(e.retryAfterSeconds !== undefined ? { retryAfter: e.retryAfterSeconds } : {}) };
  }
}

test('a lagging event loop gets 503 with Retry-After, naming the setting', async t => {
  const guard = new OverloadGuard(100, MAX_DELAY_MS);
  t.after(() => guard.close());
  await lag(150, 12);
  const answer = admitted(guard);
  if (answer === 'admitted') assert.fail('a loop stalled 150 ms at a time for 1.8 s was not judged saturated');
  assert.equal(answer.status, 503);
  assert.match(answer.message, /saturated \(event loop delay over 60 ms\)/);
  assert.ok((answer.retryAfter ?? 0) > 0, `no Retry-After: ${JSON.stringify(answer)}`);
});

test('a stall that ended a while ago refuses nothing, even with no request in between', async t => {
  const guard = new OverloadGuard(100, MAX_DELAY_MS);
  t.after(() => guard.close());
  await lag(150, 12);
  // Two windows of a quiet loop, and no admit() call during them.
  await sleep(1_300);
  assert.equal(admitted(guard), 'admitted', 'the first request after a finished stall was refused');
});

test('reset forgets a stall at once', async t => {
  const guard = new OverloadGuard(100, MAX_DELAY_MS);
  t.after(() => guard.close());
  await lag(150, 12);
  guard.reset();
  assert.equal(admitted(guard), 'admitted', 'reset() left the guard refusing');
});
