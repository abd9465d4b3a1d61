// The cursor must always name the map's first key in insertion order, whatever was deleted, added
// again or rewritten since, and however many holes V8 keeps at the front of the map.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OldestKey } from '../../src/correlation/oldest-key.js';

type Op = ['set', string] | ['delete', string] | ['evict'];

/** Applies `ops` through the cursor, checking it against the map's own first key after each. */
function run(ops: readonly Op[]): string[] {
  const map = new Map<string, number>();
  const oldest = new OldestKey(map);
  const evicted: string[] = [];
  ops.forEach((op, i) => {
    if (op[0] === 'set') {
      const fresh = !map.has(op[1]);
      map.set(op[1], i);
      if (fresh) oldest.added();
    } else if (op[0] === 'delete') {
      if (map.delete(op[1])) oldest.deleted(op[1]);
    } else {
      const key = oldest.get();
      if (key !== undefined) {
        map.delete(key);
        oldest.deleted(key);
        evicted.push(key);
      }
    }
    assert.equal(oldest.get(), map.keys().next().value, `after op ${i} ${op.join(' ')}`);
  });
  return evicted;
}

describe('OldestKey', () => {
  const cases: [string, Op[], string[]][] = [
    ['an empty map has none', [['evict']], []],
    [
      'keys go in insertion order',
      [['set', 'a'], ['set', 'b'], ['set', 'c'], ['evict'], ['evict']],
      ['a', 'b'],
    ],
    [
      'rewriting a key keeps its place',
      [['set', 'a'], ['set', 'b'], ['set', 'a'], ['evict']],
      ['a'],
    ],
    [
      'a deleted head is passed over',
      [['set', 'a'], ['set', 'b'], ['set', 'c'], ['delete', 'a'], ['evict']],
      ['b'],
    ],
    [
      'a key deleted elsewhere is never named',
      [['set', 'a'], ['set', 'b'], ['set', 'c'], ['delete', 'b'], ['evict'], ['evict']],
      ['a', 'c'],
    ],
    [
      'a head deleted and added again goes to the back',
      [['set', 'a'], ['set', 'b'], ['delete', 'a'], ['set', 'a'], ['evict'], ['evict']],
      ['b', 'a'],
    ],
    [
      'keys added after the map was emptied are found',
      [['set', 'a'], ['evict'], ['evict'], ['set', 'b'], ['set', 'c'], ['evict']],
      ['a', 'b'],
    ],
    [
      'keys added after the cursor read the last one are found',
      [['set', 'a'], ['set', 'b'], ['evict'], ['set', 'c'], ['evict'], ['evict']],
      ['a', 'b', 'c'],
    ],
  ];
  for (const [name, ops, evicted] of cases) {
    it(name, () => assert.deepEqual(run(ops), evicted));
  }

  it('follows a bounded map through its rebuilds: every key gained evicts the oldest', () => {
    const map = new Map<number, number>();
    const oldest = new OldestKey(map);
    const size = 5_000;
    for (let i = 0; i < size; i++) map.set(i, i);
    // Several times the table's capacity, so V8 rebuilds it under the live cursor more than once.
    for (let i = size; i < size * 8; i++) {
      const key = oldest.get()!;
      assert.equal(key, i - size);
      map.delete(key);
      oldest.deleted(key);
      map.set(i, i);
      oldest.added();
    }
    assert.equal(map.size, size);
  });

  it('keeps naming the oldest key when the map grows far past its size at the last eviction', () => {
    // Growth lets the parked iterator go (so it does not hold the outgrown tables); the next
    // eviction must still find the oldest key, behind the holes evictions left at the front.
    const map = new Map<number, number>();
    const oldest = new OldestKey(map);
    let next = 0;
    const add = () => {
      map.set(next, next);
      next++;
      oldest.added();
    };
    const evict = () => {
      const key = oldest.get()!;
      assert.equal(key, map.keys().next().value);
      map.delete(key);
      oldest.deleted(key);
      return key;
    };
    for (let i = 0; i < 1000; i++) add();
    for (let round = 0; round < 6; round++) {
      for (let i = 0; i < 500; i++) evict();
      for (let i = 0; i < 4000 * (round + 1); i++) add();
    }
    const expected = map.keys().next().value;
    assert.equal(evict(), expected);
  });

  it('agrees with the map on random operations', () => {
    let seed = 12345;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const ops: Op[] = [];
    for (let i = 0; i < 20_000; i++) {
      const r = random(10);
      const key = `k${random(300)}`;
      ops.push(r < 5 ? ['set', key] : r < 8 ? ['evict'] : ['delete', key]);
    }
    run(ops);
  });
});
