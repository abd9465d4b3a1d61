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

export function isAllZero(buf: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (buf[i] !== 0) return false;
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
