// Retention's slices are sized by what the last one cost, not by count: 1,000 traces a slice held
// the event loop 0.3-0.7 s under load. The rule aims each slice at the budget, grows at most twice a
// slice and shrinks at once.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SlicePace, nextSliceSize, type SliceBounds } from '../../src/store/slice-pace.js';

const BOUNDS: SliceBounds = { first: 20, min: 2, max: 1000 };

describe('retention slice sizes', () => {
  const cases: [string, { size: number; items: number; elapsedMs: number }, number][] = [
    ['a cheap slice doubles, not more', { size: 20, items: 20, elapsedMs: 5 }, 40],
    ['one under budget grows to what the budget holds', { size: 20, items: 20, elapsedMs: 40 }, 25],
    ['one at budget stays', { size: 25, items: 25, elapsedMs: 50 }, 25],
    ['one over budget shrinks to the estimate at once', { size: 1000, items: 1000, elapsedMs: 400 }, 125],
    ['one far over budget shrinks to the least', { size: 10, items: 10, elapsedMs: 2000 }, 2],
    ['growth stops at the most', { size: 800, items: 800, elapsedMs: 1 }, 1000],
    ['a clock that saw no time: cheap, doubled', { size: 30, items: 30, elapsedMs: 0 }, 60],
    ['the last, part-full slice is costed by what it did', { size: 100, items: 10, elapsedMs: 25 }, 20],
    ['a slice that found nothing says nothing of the cost', { size: 100, items: 0, elapsedMs: 3 }, 100],
  ];
  for (const [name, { size, items, elapsedMs }, next] of cases)
    it(name, () => assert.equal(nextSliceSize(size, items, elapsedMs, 50, BOUNDS), next));

  it('sizes each slice from the one before, on the clock it is given', () => {
    // 2 ms an item, then 10 ms from the sixth slice on.
    let now = 0;
    let msPerItem = 2;
    const pace = new SlicePace(() => now, 50, BOUNDS);
    const sizes: number[] = [];
    for (let i = 0; i < 8; i++) {
      if (i === 5) msPerItem = 10;
      const full = pace.run(size => {
        sizes.push(size);
        now += size * msPerItem;
        return size;
      });
      assert.equal(full, true);
    }
    assert.deepEqual(sizes, [20, 25, 25, 25, 25, 25, 5, 5]);
    assert.equal(pace.run(() => 1), false, 'a slice that took fewer than its size was the last');
  });
});
