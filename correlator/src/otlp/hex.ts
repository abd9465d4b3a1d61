const HEX: string[] = [];
for (let i = 0; i < 256; i++) HEX.push(i.toString(16).padStart(2, '0'));

/** Node's Buffer#hexSlice: toString('hex', ...) without its argument checks; untyped but on every Buffer. */
interface HexSlice {
  hexSlice?: (start: number, end: number) => string;
}

export function bytesToHex(buf: Uint8Array, start: number, end: number): string {
  // One flat string from native code instead of a rope of two-character pieces: faster for 8- and
  // 16-byte ids and no garbage.
  const hexSlice = (buf as HexSlice).hexSlice;
  if (hexSlice !== undefined) return hexSlice.call(buf, start, end);
  let s = '';
  for (let i = start; i < end; i++) s += HEX[buf[i]!];
  return s;
}

/** Hex digit values by character code; -1 for any other character. */
const NIBBLE = new Int8Array(128).fill(-1);
for (let d = 0; d < 16; d++) {
  NIBBLE[d.toString(16).charCodeAt(0)] = d;
  NIBBLE[d.toString(16).toUpperCase().charCodeAt(0)] = d;
}

/**
 * Writes `byteLength` bytes of `hex` at `at`, as `Buffer#write(hex, at, byteLength, 'hex')` does.
 * Ids of the expected length are decoded here: that call crosses into C++, twice per span when a
 * chunk of spans is stored, which was a third of encoding the chunk. Anything else goes to it.
 */
export function writeHex(out: Buffer, at: number, hex: string, byteLength: number): void {
  if (hex.length === 2 * byteLength) {
    let i = 0;
    for (; i < hex.length; i += 2) {
      const c1 = hex.charCodeAt(i);
      const c2 = hex.charCodeAt(i + 1);
      const hi = c1 < 128 ? NIBBLE[c1]! : -1;
      const lo = c2 < 128 ? NIBBLE[c2]! : -1;
      if (hi < 0 || lo < 0) break;
      out[at + i / 2] = (hi << 4) | lo;
    }
    if (i === hex.length) return;
  }
  out.write(hex, at, byteLength, 'hex');
}

export function isAllZero(buf: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (buf[i] !== 0) return false;
  return true;
}

/** Whether `a[aStart, aStart + n)` and `b[bStart, bStart + n)` hold the same bytes (short ranges: no native call). */
export function sameBytes(a: Uint8Array, aStart: number, b: Uint8Array, bStart: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (a[aStart + i] !== b[bStart + i]) return false;
  return true;
}

const HEX_RE = /^[0-9a-fA-F]*$/;

/** Hex to bytes, or null when the text is not hex of the expected byte length. */
export function hexToBytes(hex: string, byteLength: number): Buffer | null {
  if (hex.length !== byteLength * 2 || !HEX_RE.test(hex)) return null;
  return Buffer.from(hex, 'hex');
}

export function isZeroHex(hex: string): boolean {
  return /^0*$/.test(hex);
}
