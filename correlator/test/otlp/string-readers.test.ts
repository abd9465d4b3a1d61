// utf8() and bytesToHex() take native shortcuts for Node Buffers; the result must be what the
// portable path (a plain Uint8Array) and TextDecoder give, at every length around the cut-overs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bytesToHex } from '../../src/otlp/hex.js';
import { WireReader, durationMsFromParts, msFromParts, nanosFromParts, utf8 } from '../../src/otlp/wire-reader.js';

// With ignoreBOM: a leading byte-order mark is part of the string, as protobuf decoders keep it.
const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

/** The bytes at offset 3 of a larger buffer, as a Buffer and as a plain Uint8Array. */
function both(bytes: number[]): { buffer: Buffer; plain: Uint8Array; start: number; end: number } {
  const framed = [0x7a, 0x7a, 0x7a, ...bytes, 0x7a];
  return { buffer: Buffer.from(framed), plain: new Uint8Array(framed), start: 3, end: 3 + bytes.length };
}

const ascii = (n: number) => Array.from({ length: n }, (_, i) => 0x20 + ((i * 7) % 95));

describe('utf8()', () => {
  const cases: [string, number[]][] = [
    ['empty', []],
    ...[1, 7, 8, 9, 16, 63, 64, 65, 200].map(n => [`${n} ASCII bytes`, ascii(n)] as [string, number[]]),
    ['ASCII control characters and DEL', [0x00, 0x09, 0x0a, 0x7f, 0x41]],
    ['two-byte characters', [...Buffer.from('clé naïve')]],
    ['non-ASCII after 8 ASCII bytes', [...Buffer.from('abcdefghé')]],
    ['a four-byte character', [...Buffer.from('step 😀 done')]],
    ['a leading byte order mark, short', [0xef, 0xbb, 0xbf, 0x61]],
    ['a leading byte order mark, long', [0xef, 0xbb, 0xbf, ...ascii(20)]],
    ['invalid UTF-8, short', [0x61, 0xff, 0x62]],
    ['invalid UTF-8, long', [...ascii(10), 0xc3, 0x28, ...ascii(10)]],
    ['a truncated sequence at the end', [...ascii(12), 0xe2, 0x82]],
  ];
  for (const [name, bytes] of cases) {
    it(`decodes ${name} as TextDecoder does, from a Buffer and from a Uint8Array`, () => {
      const { buffer, plain, start, end } = both(bytes);
      const expected = decoder.decode(new Uint8Array(bytes));
      assert.equal(utf8(buffer, start, end), expected);
      assert.equal(utf8(plain, start, end), expected);
    });
  }
});

describe('bytesToHex()', () => {
  for (const n of [0, 1, 8, 16, 33]) {
    it(`writes ${n} bytes as lowercase hex from a Buffer and from a Uint8Array`, () => {
      const bytes = Array.from({ length: n }, (_, i) => (i * 37 + 250) % 256);
      const { buffer, plain, start, end } = both(bytes);
      const expected = bytes.map(b => b.toString(16).padStart(2, '0')).join('');
      assert.equal(bytesToHex(buffer, start, end), expected);
      assert.equal(bytesToHex(plain, start, end), expected);
    });
  }
});

describe('nanosFromParts()', () => {
  // The decimal of every fixed64 must be exact: it is what OTLP/JSON and the API carry.
  const cases: [string, bigint][] = [
    ['zero', 0n],
    ['the low half only', 4_294_967_295n],
    ['2^32', 2n ** 32n],
    ['a 2026 timestamp', 1_795_300_000_123_456_789n],
    ['a remainder below 10', 2n ** 32n * 1000n + 3n - (2n ** 32n * 1000n) % 10000n],
    ['a remainder below 1000', 1_795_300_000_000_000_999n],
    ['2^53 + 1, beyond a double', 2n ** 53n + 1n],
    ['the largest fixed64', 2n ** 64n - 1n],
  ];
  for (const [name, value] of cases) {
    it(`writes ${name} exactly`, () => {
      const lo = Number(value & 0xffffffffn);
      const hi = Number(value >> 32n);
      assert.equal(nanosFromParts(lo, hi), value.toString());
    });
  }
  it('agrees with BigInt on pseudo-random halves', () => {
    let x = 0x9e3779b9;
    for (let i = 0; i < 10_000; i++) {
      x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
      const hi = x;
      x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
      const lo = x;
      assert.equal(nanosFromParts(lo, hi), ((BigInt(hi) << 32n) | BigInt(lo)).toString());
    }
  });
});

describe('msFromParts() and durationMsFromParts()', () => {
  const parts = (ns: bigint): [number, number] => [Number(ns & 0xffffffffn), Number(ns >> 32n)];
  const epoch = 1_795_316_688_625_000_000n;
  // [name, start ns, end ns, duration ms]
  const cases: [string, bigint, bigint, number][] = [
    ['one microsecond, which two rounded epoch times give as 0.0009765625', epoch + 123_000n, epoch + 124_000n, 0.001],
    ['5457 microseconds, 5.457000000000001 by subtraction', epoch + 1_000n, epoch + 5_458_000n, 5.457],
    ['a duration across a carry of the low half', 2n ** 32n - 1n, 2n ** 32n + 999_999n, 1],
    ['half a microsecond rounds up', epoch, epoch + 500n, 0.001],
    ['under half a microsecond', epoch, epoch + 499n, 0],
    ['an end before the start', epoch + 10_000n, epoch, 0],
    ['an unset end', epoch, 0n, 0],
    ['a day', epoch, epoch + 86_400_000_000_000n, 86_400_000],
  ];
  for (const [name, start, end, ms] of cases) {
    it(`gives ${ms} ms for ${name}`, () => {
      const [sLo, sHi] = parts(start);
      const [eLo, eHi] = parts(end);
      assert.equal(durationMsFromParts(sLo, sHi, eLo, eHi), ms);
    });
  }
  it('gives epoch milliseconds rounded to the microsecond', () => {
    assert.equal(msFromParts(...parts(epoch + 123_456n)), 1_795_316_688_625.123);
    assert.equal(msFromParts(...parts(epoch + 123_500n)), 1_795_316_688_625.124);
    assert.equal(msFromParts(0, 0), 0);
  });
  // A double holds epoch nanoseconds only to 256 ns: rounding must come from the exact value.
  for (const ns of [1_796_425_503_100_000_400n, 1_796_425_503_100_000_499n, 1_796_425_503_100_000_500n, 1_796_425_503_100_999_600n, 2n ** 32n * 418_000_000n + 4_294_967_295n]) {
    it(`rounds ${ns} ns to the microsecond exactly`, () => {
      const expected = Number((ns + 500n) / 1000n) / 1000;
      assert.equal(msFromParts(...parts(ns)), expected);
      assert.equal(new WireReader(fixed64(ns)).fixed64NanosAsMs(), expected);
    });
  }
});

function fixed64(ns: bigint): Uint8Array {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(ns);
  return b;
}
