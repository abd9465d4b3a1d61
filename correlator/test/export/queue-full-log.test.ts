import assert from 'node:assert/strict';
import { test } from 'node:test';
import { QUEUE_FULL_LOG_INTERVAL_MS, QueueFullLog } from '../../src/export/queue-full-log.js';

test('bridges dropped from a full export queue are logged at once, then at most once a minute with the count since', () => {
  const lines: Record<string, unknown>[] = [];
  let now = 1_000_000;
  const log = new QueueFullLog({ warn: obj => lines.push(obj) }, 10, () => now);
  const steps: [advanceMs: number, dropped: number, logged: Record<string, unknown> | null][] = [
    [0, 0, null],
    [0, 3, { dropped: 3, exportQueueMax: 10 }],
    [1_000, 2, null],
    [QUEUE_FULL_LOG_INTERVAL_MS - 2_000, 4, null],
    [1_000, 1, { dropped: 7, exportQueueMax: 10 }],
    [QUEUE_FULL_LOG_INTERVAL_MS * 5, 1, { dropped: 1, exportQueueMax: 10 }],
  ];
  for (const [i, [advance, dropped, logged]] of steps.entries()) {
    now += advance;
    const before = lines.length;
    log.dropped(dropped);
    assert.deepEqual(lines.length > before ? lines.at(-1) : null, logged, `step ${i}`);
  }
});
