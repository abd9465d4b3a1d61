// Hot state's bounds lowered to what fits its room in the heap, all by one factor.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  hotStateBudget,
  hotStateHeapBytes,
  type HotStateCosts,
  type HotStateRoom,
} from '../../src/correlation/hot-state-budget.js';

const MiB = 2 ** 20;
/** Round figures, so the table can be checked by hand. */
const COSTS: HotStateCosts = { liveTrace: 1000, liveKey: 1000, trace: 100, key: 100, namingIndex: 0 };
const HALF: HotStateRoom = { reserveBytes: 0, share: 0.5 };

describe('hotStateHeapBytes', () => {
  it('counts every entry, and the live ones again', () => {
    assert.equal(
      hotStateHeapBytes({ traces: 10_000, keys: 5_000, liveEntries: 1_000 }, COSTS),
      2_000 * 1000 + 15_000 * 100,
    );
    assert.equal(
      hotStateHeapBytes({ traces: 500, keys: 200, liveEntries: 1_000 }, COSTS),
      700 * 1000 + 700 * 100,
      'no more live than tracked',
    );
  });
});

describe('hotStateBudget', () => {
  const cases: {
    name: string;
    configured: { traces: number; keys: number; liveEntries: number };
    heapBytes: number;
    room?: HotStateRoom;
    bounds: { traces: number; keys: number; liveEntries: number };
    /** What hot state may take. */
    budgetBytes: number;
    lowered: boolean;
  }[] = [
    {
      name: 'a heap with room keeps the configured bounds',
      configured: { traces: 100_000, keys: 100_000, liveEntries: 1_000 },
      heapBytes: 1024 * MiB,
      bounds: { traces: 100_000, keys: 100_000, liveEntries: 1_000 },
      budgetBytes: Math.floor((1024 * MiB) / 2),
      lowered: false,
    },
    {
      // 2 MB live + 20 MB encoded = 22 MB, within half of 44 MB exactly.
      name: 'bounds that fill the share exactly are kept',
      configured: { traces: 100_000, keys: 100_000, liveEntries: 1_000 },
      heapBytes: 44_000_000,
      bounds: { traces: 100_000, keys: 100_000, liveEntries: 1_000 },
      budgetBytes: Math.floor((44_000_000) / 2),
      lowered: false,
    },
    {
      // 22 MB needed, 11 MB allowed: each bound halved.
      name: 'a heap of half that halves all three',
      configured: { traces: 100_000, keys: 100_000, liveEntries: 1_000 },
      heapBytes: 22_000_000,
      bounds: { traces: 50_000, keys: 50_000, liveEntries: 500 },
      budgetBytes: Math.floor((22_000_000) / 2),
      lowered: true,
    },
    {
      // 2 MB live + 1.2 MB encoded needed, 1.6 MB allowed: halved, the ratio of traces to keys kept.
      name: 'traces and keys keep their ratio',
      configured: { traces: 8_000, keys: 4_000, liveEntries: 1_000 },
      heapBytes: 3_200_000,
      bounds: { traces: 4_000, keys: 2_000, liveEntries: 500 },
      budgetBytes: Math.floor((3_200_000) / 2),
      lowered: true,
    },
    {
      // 30 MB less 8 MB reserved leaves 22 MB, half of it allowed: as the 22 MB heap above.
      name: 'the reserve is set aside before the share is taken',
      configured: { traces: 100_000, keys: 100_000, liveEntries: 1_000 },
      heapBytes: 30_000_000,
      room: { reserveBytes: 8_000_000, share: 0.5 },
      bounds: { traces: 50_000, keys: 50_000, liveEntries: 500 },
      budgetBytes: 11_000_000,
      lowered: true,
    },
    {
      name: 'a heap no larger than the reserve leaves hot state its floors',
      configured: { traces: 100_000, keys: 100_000, liveEntries: 1_000 },
      heapBytes: 8_000_000,
      room: { reserveBytes: 10_000_000, share: 0.5 },
      bounds: { traces: 100, keys: 100, liveEntries: 256 },
      budgetBytes: 0,
      lowered: true,
    },
    {
      name: 'a tiny heap stops at the floors',
      configured: { traces: 500_000, keys: 500_000, liveEntries: 8192 },
      heapBytes: 20_000,
      bounds: { traces: 100, keys: 100, liveEntries: 256 },
      budgetBytes: Math.floor((20_000) / 2),
      lowered: true,
    },
    {
      name: 'a floor never raises a bound configured below it',
      configured: { traces: 100, keys: 100, liveEntries: 64 },
      heapBytes: 1000,
      bounds: { traces: 100, keys: 100, liveEntries: 64 },
      budgetBytes: Math.floor((1000) / 2),
      lowered: true,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const room = c.room ?? HALF;
      const budget = hotStateBudget(c.configured, c.heapBytes, room, COSTS);
      assert.deepEqual(budget.bounds, c.bounds);
      assert.equal(budget.lowered, c.lowered);
      assert.equal(budget.budgetBytes, c.budgetBytes);
      // The heap named to keep the configured bounds would keep them.
      const kept = hotStateBudget(c.configured, budget.heapNeededBytes, room, COSTS);
      assert.equal(kept.lowered, false, `kept on ${budget.heapNeededBytes} bytes`);
      assert.equal(
        hotStateBudget(c.configured, budget.heapNeededBytes - 2, room, COSTS).lowered,
        true,
        'and no less would',
      );
      if (c.lowered && c.bounds.traces > 100)
        assert.ok(
          hotStateHeapBytes(budget.bounds, COSTS) <= budget.budgetBytes,
          'the lowered bounds fit',
        );
    });
  }

  it('at the defaults, a 128 MiB heap lowers them and a 4 GiB one does not', () => {
    const defaults = { traces: 500_000, keys: 500_000, liveEntries: 8192 };
    const small = hotStateBudget(defaults, 128 * MiB);
    assert.ok(
      small.lowered && small.bounds.traces < 250_000 && small.bounds.traces > 100_000,
      JSON.stringify(small.bounds),
    );
    assert.equal(hotStateBudget(defaults, 4096 * MiB).lowered, false);
  });

  it('at the defaults, a 64 MiB heap with hot state full to its bound stays below the low mark', () => {
    // The app alone holds 28 MiB once ready: with hot state full to its bound, the old generation
    // must stay below heap-pressure.ts's low mark (75%), so a full heap is requests', not hot state's.
    const budget = hotStateBudget({ traces: 500_000, keys: 500_000, liveEntries: 8192 }, 64 * MiB);
    const full = 28 * MiB + hotStateHeapBytes(budget.bounds);
    assert.ok(full < 0.75 * 64 * MiB, `${(full / MiB).toFixed(1)} MiB with hot state full`);
  });
});
