// TieredMap must behave as one bounded, insertion-ordered map however its entries are split
// between live objects and encoded bytes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TieredMap, type StateCodec } from '../../src/correlation/tiered-map.js';

interface Box {
  n: number;
}
const codec: StateCodec<Box> = { encode: b => Buffer.from(String(b.n)), decode: s => ({ n: Number(Buffer.from(s).toString()) }) };

/** The reference: a Map that evicts its oldest inserted entries beyond its bound when a batch ends. */
class ReferenceMap {
  readonly map = new Map<string, number>();
  evictions = 0;
  constructor(private readonly max: number) {}
  set(k: string, n: number): void {
    this.map.set(k, n);
  }
  settle(): void {
    while (this.map.size > this.max) {
      this.map.delete(this.map.keys().next().value!);
      this.evictions++;
    }
  }
}

function random(seed: number): () => number {
  let x = seed;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
}

describe('TieredMap', () => {
  const shapes: [max: number, liveMax: number][] = [
    [1, 0],
    [5, 0],
    [5, 2],
    [5, 5],
    [5, 100],
    [50, 7],
  ];
  for (const [max, liveMax] of shapes) {
    it(`keeps and evicts as a bounded insertion-ordered map (max ${max}, ${liveMax} live)`, () => {
      const m = new TieredMap<Box>(max, liveMax, codec);
      const ref = new ReferenceMap(max);
      const rnd = random(max * 1000 + liveMax);
      for (let step = 0; step < 3000; step++) {
        const k = `k${Math.floor(rnd() * max * 3)}`;
        const op = rnd();
        if (op < 0.4) {
          // insert or replace
          m.set(k, { n: step });
          ref.set(k, step);
        } else if (op < 0.7) {
          // read and change in place, as the engine does with the objects it gets
          const b = m.get(k);
          assert.equal(b?.n, ref.map.get(k), `get ${k} at step ${step}`);
          if (b) {
            b.n = -step;
            ref.map.set(k, -step);
            assert.equal(m.get(k), b, 'the same object until settle()');
          }
        } else if (op < 0.75) {
          assert.equal(m.delete(k), ref.map.delete(k));
        } else if (op < 0.95) {
          m.settle();
          ref.settle();
          assert.ok(m.size - m.encodedSize <= liveMax, 'at most liveMax live entries after settle()');
          assert.ok(m.size <= max, 'at most max entries after settle()');
        } else {
          assert.equal(m.has(k), ref.map.has(k));
        }
        assert.equal(m.size, ref.map.size);
        assert.equal(m.evictions, ref.evictions);
      }
      m.settle();
      ref.settle();
      assert.equal(m.size, ref.map.size);
      for (const [k, n] of ref.map) assert.equal(m.get(k)?.n, n, k);
    });
  }

  it('keeps every entry of a batch until settle(), then evicts the oldest beyond the bound', () => {
    const m = new TieredMap<Box>(3, 1, codec);
    for (let i = 0; i < 3; i++) m.set(`old${i}`, { n: i });
    m.settle();
    // A batch that touches an old entry, then adds more than the bound holds.
    m.get('old0')!.n = 50;
    for (let i = 0; i < 5; i++) m.set(`new${i}`, { n: 10 + i });
    assert.equal(m.get('old0')?.n, 50, 'an entry the batch uses is still there');
    assert.equal(m.size, 8);
    assert.equal(m.evictions, 0);
    m.settle();
    assert.deepEqual(
      ['old0', 'old1', 'old2', 'new0', 'new1', 'new2', 'new3', 'new4'].filter(k => m.has(k)),
      ['new2', 'new3', 'new4'],
    );
    assert.equal(m.evictions, 5);
  });

  it('shrinkTo() evicts the oldest entries, live or encoded, and counts them', () => {
    const m = new TieredMap<Box>(100, 3, codec);
    for (let i = 0; i < 10; i++) m.set(`k${i}`, { n: i });
    m.settle();
    m.shrinkTo(4);
    assert.equal(m.size, 4);
    assert.equal(m.evictions, 6);
    assert.deepEqual([...Array(10).keys()].filter(i => m.has(`k${i}`)), [6, 7, 8, 9], 'the newest four are kept');
    assert.equal(m.get('k6')?.n, 6, 'an encoded survivor still decodes');
    m.shrinkTo(0);
    assert.equal(m.size, 0);
    assert.equal(m.evictions, 10);
  });

  it('keeps only the newest entries live and encodes the rest at settle()', () => {
    const m = new TieredMap<Box>(10, 2, codec);
    for (let i = 0; i < 6; i++) m.set(`k${i}`, { n: i });
    assert.equal(m.encodedSize, 0, 'nothing is encoded during a batch');
    m.settle();
    assert.equal(m.encodedSize, 4);
    const old = m.get('k0')!;
    old.n = 100;
    m.set('k1', { n: 101 });
    m.settle();
    assert.equal(m.get('k0')!.n, 100, 'a change to a decoded entry is kept');
    assert.equal(m.get('k1')!.n, 101, 'a replaced encoded entry is replaced');
    assert.equal(m.get('k0'), old, 'an entry a batch read stays live: it is not decoded again');
  });

  it('peek() reads an encoded entry without keeping it, and the batch\'s own object when it has one', () => {
    let decodes = 0;
    const counting: StateCodec<Box> = { encode: codec.encode, decode: s => (decodes++, codec.decode(s)) };
    const m = new TieredMap<Box>(10, 1, counting);
    m.set('a', { n: 1 });
    m.set('b', { n: 2 });
    m.settle();
    assert.equal(m.encodedSize, 1, 'a is encoded');
    const first = m.peek('a');
    assert.deepEqual(first, { n: 1 });
    assert.notEqual(m.peek('a'), first, 'each read decodes afresh: nothing is kept');
    assert.equal(decodes, 2);
    m.settle();
    assert.equal(m.encodedSize, 1, 'a read is not made live at settle()');
    const borrowed = m.get('a')!;
    borrowed.n = 5;
    assert.equal(m.peek('a'), borrowed, 'the object the batch changes');
    assert.equal(m.peek('b')?.n, 2, 'a live entry');
    assert.equal(m.peek('z'), undefined);
  });

  it('decodes and encodes an old entry read by every batch once, not once per batch, and evicts it in its turn', () => {
    let decodes = 0;
    let encodes = 0;
    const counting: StateCodec<Box> = {
      encode: b => (encodes++, codec.encode(b)),
      decode: s => (decodes++, codec.decode(s)),
    };
    const m = new TieredMap<Box>(30, 4, counting);
    for (let i = 0; i < 20; i++) m.set(`k${i}`, { n: i });
    m.settle();
    assert.equal(m.encodedSize, 16);
    [decodes, encodes] = [0, 0];
    // A circuit's episode, read by each batch, while each batch adds an entry of its own.
    for (let batch = 0; batch < 3; batch++) {
      m.get('k0')!.n++;
      m.set(`new${batch}`, { n: 100 + batch });
      m.settle();
    }
    assert.equal(decodes, 1, 'read back once');
    assert.equal(m.get('k0')!.n, 3);
    // k0 and the new entries push out the four live before them, k16 to k19; k0 is not encoded.
    assert.equal(encodes, 4);
    // Still the oldest entry: the first evicted.
    for (let i = 0; i < 11; i++) m.set(`more${i}`, { n: i });
    m.settle();
    assert.equal(m.evictions, 4);
    assert.deepEqual(['k0', 'k3', 'k4', 'new0'].map(k => m.has(k)), [false, false, true, true], 'k0 to k3, the oldest inserted, go first');
    assert.equal(m.size, 30);
  });
});

describe('TieredMap tells when an entry stops being a live object', () => {
  it('encoded, evicted (live, held or encoded), deleted, or dropped by shrinkTo', () => {
    const left: string[] = [];
    const m = new TieredMap<Box>(3, 1, codec, key => left.push(key));
    m.set('a', { n: 1 });
    m.set('b', { n: 2 });
    m.settle();
    assert.deepEqual(left, ['a'], 'a encoded: the live tier keeps one');
    m.get('a');
    m.settle();
    assert.deepEqual(left.splice(0), ['a', 'b'], 'a read back stays live (held), b then encoded');
    m.set('c', { n: 3 });
    m.set('d', { n: 4 });
    m.settle();
    assert.ok(left.includes('a'), `a, the oldest, evicted though held live: ${left.join()}`);
    left.length = 0;
    m.delete('d');
    assert.deepEqual(left.splice(0), ['d']);
    m.shrinkTo(0);
    assert.deepEqual(left.sort(), ['b', 'c']);
  });
});
