// collectGarbage() makes a full collection without node's --expose-gc: heap pressure relies on it
// to see the room it made.
import assert from 'node:assert/strict';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { test } from 'node:test';
import { collectGarbage } from '../../src/runtime/full-collection.js';

test('collectGarbage makes a full (mark-compact) collection', async () => {
  const kinds: number[] = [];
  const observer = new PerformanceObserver(list => {
    for (const e of list.getEntries())
      kinds.push((e as unknown as { detail: { kind: number } }).detail.kind);
  });
  observer.observe({ entryTypes: ['gc'] });
  try {
    collectGarbage();
    collectGarbage();
    // Entries are delivered after the collection, on a later turn of the event loop.
    for (let i = 0; i < 50 && !kinds.includes(constants.NODE_PERFORMANCE_GC_MAJOR); i++)
      await new Promise(r => setTimeout(r, 10));
  } finally {
    observer.disconnect();
  }
  assert.ok(
    kinds.filter(k => k === constants.NODE_PERFORMANCE_GC_MAJOR).length >= 2,
    `full collections observed: ${kinds.join(',')}`,
  );
});
