// The keeper must never let the filter say "not held" of what the store holds: not before its
// first build has read the store, not for rows written during a build, not for batches in flight
// when a rebuild starts. Rebuilds are what let it forget rows retention deleted.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SeenFilter } from '../../src/store/seen-filter.js';
import { SeenFilterKeeper, type HeldEntriesScan } from '../../src/store/seen-filter-keeper.js';

/** A store's rows as the scan reads them, a few per step. */
class FakeStore {
  traces: string[] = [];
  groups: [string, string][] = [];
  inFlight: string[] = [];
  scansOpened = 0;

  scan(): HeldEntriesScan {
    this.scansOpened++;
    const entries: ((f: SeenFilter) => void)[] = [
      ...this.traces.map(id => (f: SeenFilter) => f.addTrace(id)),
      ...this.groups.map(
        ([k, v]) =>
          (f: SeenFilter) =>
            f.addGroup(k, v),
      ),
    ];
    let at = 0;
    return {
      step(into, limit) {
        const slice = entries.slice(at, at + limit);
        at += slice.length;
        for (const add of slice) add(into);
        return slice.length;
      },
    };
  }
}

function keeper(
  store: FakeStore,
  maxBytes = 1024 * 1024,
): { k: SeenFilterKeeper; work: () => number } {
  let wakes = 0;
  const k = new SeenFilterKeeper({
    maxBytes,
    estimateEntries: () => store.traces.length + store.groups.length,
    openScan: () => store.scan(),
    addInFlight: f => store.inFlight.forEach(id => f.addTrace(id)),
    onWork: () => wakes++,
  });
  return { k, work: () => wakes };
}

function drain(k: SeenFilterKeeper): number {
  let steps = 0;
  while (k.pump(2)) steps++;
  return steps;
}

describe('SeenFilterKeeper', () => {
  it('says "may hold" of everything until its first build has read the whole store', () => {
    const store = new FakeStore();
    store.traces = ['t1', 't2', 't3', 't4', 't5'];
    store.groups = [['circuit_id', 'C1']];
    const { k, work } = keeper(store);
    k.start();
    assert.equal(work(), 1);
    assert.equal(k.pump(2), true);
    assert.equal(k.mayHoldTrace('never'), true);
    assert.equal(k.stats().active, false);
    drain(k);
    assert.equal(k.stats().active, true);
    for (const id of store.traces) assert.equal(k.mayHoldTrace(id), true);
    assert.equal(k.mayHoldGroup('circuit_id', 'C1'), true);
    assert.equal(k.mayHoldTrace('never'), false);
    assert.equal(k.mayHoldGroup('circuit_id', 'C2'), false);
    assert.deepEqual(
      { builds: k.stats().builds, skipped: k.stats().skipped },
      { builds: 1, skipped: 2 },
    );
  });

  it('holds what was written while it read the store, and what was in flight when it began', () => {
    const store = new FakeStore();
    store.traces = ['t1', 't2', 't3', 't4'];
    store.inFlight = ['committing'];
    const { k } = keeper(store);
    k.start();
    k.pump(2);
    k.addTrace('written-during-build');
    k.addGroup('resource_id', 'R9');
    drain(k);
    assert.equal(k.mayHoldTrace('written-during-build'), true);
    assert.equal(k.mayHoldGroup('resource_id', 'R9'), true);
    assert.equal(k.mayHoldTrace('committing'), true);
  });

  it('rebuilds when full: forgets deleted rows, keeps answering from the old filter meanwhile', () => {
    const store = new FakeStore();
    store.traces = ['old-1', 'old-2'];
    // Sized for two entries, the first filter is the smallest, 64 KiB: full at 52,428 entries.
    const { k, work } = keeper(store);
    k.start();
    drain(k);
    const capacity = Math.floor((64 * 1024 * 8) / 10);
    const written: string[] = [];
    for (let i = 0; 2 + written.length < capacity - 1; i++) {
      written.push(`new-${i}`);
      k.addTrace(`new-${i}`);
      k.settleAdds();
    }
    assert.equal(work(), 1, 'no rebuild before the filter is full');
    // Retention deleted the old rows; the new ones are in the store now.
    store.traces = written;
    // The batch whose entries fill the filter is in flight (the store adds them after handing it
    // over), so the scan may miss it.
    store.inFlight = ['last'];
    k.addTrace('last');
    k.settleAdds();
    assert.equal(work(), 2, 'full: a rebuild starts');
    assert.equal(store.scansOpened, 2);
    k.pump(2);
    assert.equal(
      k.mayHoldTrace('old-1'),
      true,
      'the old filter answers until the new one is whole',
    );
    drain(k);
    assert.equal(k.stats().builds, 2);
    assert.equal(k.mayHoldTrace('last'), true);
    assert.ok(
      written.every(id => k.mayHoldTrace(id)),
      'an id written before the rebuild is missing',
    );
    // The rebuilt filter is sized for twice the entries, so the deleted ids are very likely gone.
    assert.equal(k.mayHoldTrace('old-1') && k.mayHoldTrace('old-2'), false);
    assert.equal(k.stats().bytes, 128 * 1024);
  });

  it('does nothing and always says "may hold" when switched off', () => {
    const store = new FakeStore();
    store.traces = ['t1'];
    const { k, work } = keeper(store, 0);
    k.start();
    assert.equal(work(), 0);
    assert.equal(k.pump(10), false);
    k.addTrace('t2');
    k.settleAdds();
    assert.equal(k.mayHoldTrace('anything'), true);
    assert.deepEqual(k.stats(), { bytes: 0, entries: 0, active: false, builds: 0, skipped: 0 });
  });
});
