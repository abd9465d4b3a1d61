// checkAnyValue walks an AnyValue as readAnyValue reads it, without building it: ingest refuses
// with it what the views would fail to read (a value that passed ingest and failed the view made
// its trace answer 500 for good). Two walkers of one format can drift apart, so they are held to
// the same answer on valid values and on seeded mutations of them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkAnyValue, readAnyValue } from '../../src/otlp/any-value.js';
import { DecodeError, WireReader } from '../../src/otlp/wire-reader.js';
import { fixed64, len, nestedArrays, nestedLists, overrun, stringValue, text, varint } from '../fixtures/hand-made-otlp.js';

/** Whether a walker read the bytes, or the DecodeError message it refused them with. */
function outcome(walk: (r: WireReader) => unknown, bytes: Buffer): string {
  try {
    walk(new WireReader(bytes));
    return 'ok';
  } catch (e) {
    if (e instanceof DecodeError) return 'refused';
    throw e;
  }
}

// Level 0, where an attribute value or a log body is read: 32 nested arrays are read, 33 refused.
const read = (b: Buffer) => outcome(r => readAnyValue(r, 0, b.length, 0), b);
const check = (b: Buffer) => outcome(r => checkAnyValue(r, 0, b.length, 0), b);

const SEEDS: [string, Buffer][] = [
  ['a string', stringValue('circuit 80.L1XX')],
  ['a bool', Buffer.concat([varint((2 << 3) | 0), varint(1)])],
  ['an int', Buffer.concat([varint((3 << 3) | 0), varint(300)])],
  ['a double', fixed64(4, 1)],
  ['bytes', text(7, 'raw')],
  ['an array of mixed values', len(5, len(1, stringValue('a')), len(1, Buffer.concat([varint(3 << 3), varint(7)])))],
  ['a key-value list', len(6, len(1, text(1, 'k'), len(2, stringValue('v'))))],
  ['arrays 31 deep', nestedArrays(31)],
  ['arrays 32 deep', nestedArrays(32)],
  ['arrays 33 deep', nestedArrays(33)],
  ['lists 31 deep', nestedLists(31)],
  ['lists 32 deep', nestedLists(32)],
  ['lists 33 deep', nestedLists(33)],
  ['an overrun string', overrun],
];

/** A small seeded generator: the mutations are the same on every run. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

function mutate(b: Buffer, rand: () => number): Buffer {
  const out = Buffer.from(b);
  const kind = Math.floor(rand() * 3);
  if (kind === 0 && out.length > 0) out[Math.floor(rand() * out.length)] = Math.floor(rand() * 256);
  if (kind === 1 && out.length > 1) return out.subarray(0, Math.floor(rand() * out.length));
  if (kind === 2) return Buffer.concat([out, Buffer.from([Math.floor(rand() * 256), Math.floor(rand() * 256)])]);
  return out;
}

describe('checkAnyValue agrees with readAnyValue', () => {
  for (const [what, bytes] of SEEDS) {
    it(`on ${what}`, () => assert.equal(check(bytes), read(bytes), what));
  }

  it('on 4,000 seeded mutations of those values, and refuses some of them', () => {
    const rand = lcg(20261206);
    let refused = 0;
    for (let i = 0; i < 4000; i++) {
      const [what, seed] = SEEDS[i % SEEDS.length]!;
      const bytes = mutate(seed, rand);
      const r = read(bytes);
      assert.equal(check(bytes), r, `${what}, mutation ${i}: ${bytes.toString('hex')}`);
      if (r === 'refused') refused++;
    }
    assert.ok(refused > 100, `the mutations reach refusals (${refused} of 4000)`);
  });
});
