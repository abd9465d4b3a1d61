// The encoded tier's buffers must give back exactly what was stored, in insertion order, and give
// their memory back as entries go.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EncodedSlab } from '../../src/correlation/encoded-slab.js';

const SLAB = 4096;
const bytes = (s: string): Buffer => Buffer.from(s, 'utf8');
const text = (b: Buffer | undefined): string | undefined => b?.toString('utf8');

describe('EncodedSlab', () => {
  const values: [string, string][] = [
    ['an empty string', ''],
    ['ASCII JSON', JSON.stringify(['a'.repeat(32), [1795309373398.125, 'Infinity'], { circuit_id: '80.L1XX.005054..CHTR' }])],
    ['two-, three- and four-byte characters', 'clé ✓ 😀 ärda \u2028'],
    ['a value larger than a slab', 'x'.repeat(3 * SLAB + 5)],
    ['non-ASCII larger than a slab', 'é'.repeat(2 * SLAB)],
  ];
  for (const [name, value] of values) {
    it(`stores and reads back ${name}`, () => {
      const slab = new EncodedSlab(SLAB);
      slab.set('before', bytes('b'));
      slab.set('k', bytes(value));
      slab.set('after', bytes('a'));
      assert.equal(text(slab.get('k')), value);
      assert.equal(text(slab.get('before')), 'b');
      assert.equal(text(slab.get('after')), 'a', 'a record after an oversized one still reads back');
    });
  }

  it('keeps insertion order for the oldest key, also when a key is rewritten', () => {
    const slab = new EncodedSlab(SLAB);
    for (const k of ['a', 'b', 'c']) slab.set(k, bytes(k.repeat(10)));
    slab.set('a', bytes('rewritten'));
    assert.equal(slab.oldestKey(), 'a');
    assert.equal(text(slab.get('a')), 'rewritten');
    assert.ok(slab.delete('a'), 'slab.delete(\'a\')');
    assert.equal(slab.delete('a'), false);
    assert.equal(slab.oldestKey(), 'b');
    assert.equal(slab.has('a'), false);
    assert.equal(slab.get('a'), undefined);
    assert.equal(slab.size, 2);
  });

  it('holds a key without bytes in its place in the order until set() gives it bytes again', () => {
    const slab = new EncodedSlab(SLAB);
    for (const k of ['a', 'b', 'c']) slab.set(k, bytes(k.repeat(10)));
    slab.hold('a');
    assert.deepEqual([slab.has('a'), slab.hasBytes('a'), slab.isHeld('a'), slab.get('a')], [true, false, true, undefined]);
    assert.deepEqual([slab.size, slab.held, slab.oldestKey()], [3, 1, 'a']);
    // Compaction moves every record; the held key keeps its place and no bytes.
    for (let i = 0; i < 200; i++) slab.set('b', bytes('x'.repeat(SLAB / 4)));
    assert.equal(slab.oldestKey(), 'a');
    assert.equal(slab.get('a'), undefined);
    slab.set('a', bytes('back'));
    assert.deepEqual([text(slab.get('a')), slab.held, slab.oldestKey()], ['back', 0, 'a']);
    slab.hold('c');
    assert.ok(slab.delete('c'));
    assert.deepEqual([slab.size, slab.held, slab.has('c')], [2, 0, false]);
  });

  it('matches a plain Map through many rewrites and deletes, compacting on the way', () => {
    const slab = new EncodedSlab(SLAB);
    const ref = new Map<string, string>();
    let x = 12345;
    const rnd = () => (x = (Math.imul(x, 1664525) + 1013904223) >>> 0) / 2 ** 32;
    for (let step = 0; step < 20_000; step++) {
      const k = `key-${Math.floor(rnd() * 300)}`;
      if (rnd() < 0.8) {
        const v = `${step}:${'v'.repeat(Math.floor(rnd() * 200))}${rnd() < 0.1 ? 'ü' : ''}`;
        slab.set(k, bytes(v));
        // Map.set keeps an existing key's place, as the slab must.
        ref.set(k, v);
      } else assert.equal(slab.delete(k), ref.delete(k));
    }
    assert.equal(slab.size, ref.size);
    assert.deepEqual([...ref.keys()][0], slab.oldestKey());
    for (const [k, v] of ref) assert.equal(text(slab.get(k)), v, k);
    // ~300 live values of ~100 bytes: compaction keeps the buffers near that, not the ~2 MB written.
    assert.ok(slab.bufferBytes <= 24 * SLAB, `holds ${slab.bufferBytes} bytes`);
  });

  it('releases buffers as their entries are evicted oldest first', () => {
    const slab = new EncodedSlab(SLAB);
    for (let i = 0; i < 200; i++) slab.set(`k${i}`, bytes('x'.repeat(100)));
    const full = slab.bufferBytes;
    for (let i = 0; i < 190; i++) slab.delete(slab.oldestKey()!);
    assert.ok(slab.bufferBytes < full / 2, `${slab.bufferBytes} of ${full} bytes still held`);
    for (let i = 190; i < 200; i++) assert.equal(text(slab.get(`k${i}`)), 'x'.repeat(100));
  });
});
