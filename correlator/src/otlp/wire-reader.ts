// A minimal protobuf wire-format reader. The ingest path reads only what correlation needs and
// keeps each span's bytes as they arrived, so it walks the wire format itself instead of
// materialising protobufjs message objects (which allocate a Long per timestamp).
import { anchorShape } from '../runtime/shape-anchors.js';

/**
 * An error about the input, made without a stack trace: it becomes a 400 or one item's rejection,
 * and nothing reads its stack. Capturing one cost ~17 us, and one is thrown per rejected item, so
 * a 1 MiB body of 500,000 empty spans held the event loop for 15 s.
 */
export class InputError extends Error {
  constructor(message: string) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      super(message);
    } finally {
      Error.stackTraceLimit = limit;
    }
  }
}

export class DecodeError extends InputError {
  constructor(message: string) {
    super(message);
    this.name = 'DecodeError';
  }
}

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LEN = 2;
export const WIRE_START_GROUP = 3;
export const WIRE_END_GROUP = 4;
export const WIRE_FIXED32 = 5;


export class WireReader {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start = 0,
    public end = buf.length,
  ) {
    this.pos = start;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** Reads a field tag; returns field number * 8 + wire type as protobuf encodes it. */
  tag(): number {
    const t = this.uint32();
    if (t >>> 3 === 0) throw new DecodeError(`invalid field number 0 at byte ${this.pos}`);
    return t;
  }

  uint32(): number {
    const buf = this.buf;
    let result = 0;
    let shift = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new DecodeError(`truncated varint at byte ${this.pos}`);
      const b = buf[this.pos++]!;
      if (shift < 32) result |= (b & 0x7f) << shift;
      if (b < 0x80) return result >>> 0;
      shift += 7;
    }
    throw new DecodeError(`malformed varint at byte ${this.pos}`);
  }

  /** A varint as a JS number when exact, else as a decimal string (int64 attribute values). */
  int64(): number | string {
    const buf = this.buf;
    const first = this.pos;
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new DecodeError(`truncated varint at byte ${this.pos}`);
      const b = buf[this.pos++]!;
      result += (b & 0x7f) * mul;
      mul *= 128;
      if (b < 0x80) {
        // Up to 7 bytes hold 49 bits, always exact as a double; longer ones (large or negative
        // values) are recomputed exactly.
        if (i < 7) return result;
        let v = 0n;
        for (let j = this.pos - 1; j >= first; j--) v = (v << 7n) | BigInt(buf[j]! & 0x7f);
        const signed = BigInt.asIntN(64, v);
        const n = Number(signed);
        return Number.isSafeInteger(n) ? n : signed.toString();
      }
    }
    throw new DecodeError(`malformed varint at byte ${this.pos}`);
  }

  /** An int32 field: negative values are sent as ten-byte varints whose low 32 bits are the value. */
  int32(): number {
    return this.uint32() | 0;
  }

  bool(): boolean {
    return this.uint32() !== 0;
  }

  fixed32(): number {
    if (this.pos + 4 > this.end) throw new DecodeError(`truncated fixed32 at byte ${this.pos}`);
    const b = this.buf;
    const p = this.pos;
    this.pos += 4;
    return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16)) + b[p + 3]! * 0x1000000;
  }

  /** fixed64 as two unsigned halves, so callers choose exactness (BigInt) or speed (number). */
  fixed64Parts(): [lo: number, hi: number] {
    const lo = this.fixed32();
    const hi = this.fixed32();
    return [lo, hi];
  }

  /**
   * fixed64 nanoseconds as milliseconds, rounded to whole microseconds: a double cannot hold
   * epoch nanoseconds exactly, and microseconds keep ordering and durations exact for correlation.
   * The exact value stays in the stored span bytes.
   */
  fixed64NanosAsMs(): number {
    const lo = this.fixed32();
    const hi = this.fixed32();
    return msFromParts(lo, hi);
  }

  double(): number {
    if (this.pos + 8 > this.end) throw new DecodeError(`truncated double at byte ${this.pos}`);
    const view = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8);
    this.pos += 8;
    return view.getFloat64(0, true);
  }

  /** Reads a length prefix and returns the [start, end) of the delimited bytes, advancing past them. */
  delimited(): [number, number] {
    const len = this.uint32();
    const start = this.pos;
    const end = start + len;
    if (end > this.end) throw new DecodeError(`truncated message: field of ${len} bytes at byte ${start} runs past the end`);
    this.pos = end;
    return [start, end];
  }

  /**
   * delimited() without its pair: returns the start and leaves `pos` at the end. For the loops that
   * run for every attribute of every span, where the pair was garbage to collect.
   */
  delimitedStart(): number {
    const len = this.uint32();
    const start = this.pos;
    const end = start + len;
    if (end > this.end) throw new DecodeError(`truncated message: field of ${len} bytes at byte ${start} runs past the end`);
    this.pos = end;
    return start;
  }

  string(): string {
    const s = this.delimitedStart();
    const e = this.pos;
    return utf8(this.buf, s, e);
  }

  /**
   * A deprecated but valid encoding an unknown field may still use: everything up to the matching
   * end-group tag. Counted, not recursed, so nesting cannot exhaust the stack; and apart from
   * skip(), which a recursive skip() would keep from being inlined into every decoding loop.
   */
  private skipGroup(): void {
    let depth = 1;
    while (depth > 0) {
      const wire = this.tag() & 7;
      if (wire === WIRE_START_GROUP) depth++;
      else if (wire === WIRE_END_GROUP) depth--;
      else if (wire === WIRE_VARINT) this.uint32();
      else if (wire === WIRE_FIXED64) this.advance(8, 'fixed64');
      else if (wire === WIRE_FIXED32) this.advance(4, 'fixed32');
      else if (wire === WIRE_LEN) this.advance(this.uint32(), 'length-delimited field');
      else throw new DecodeError(`unsupported wire type ${wire} at byte ${this.pos}`);
    }
  }

  private advance(n: number, what: string): void {
    if (this.pos + n > this.end) throw new DecodeError(`truncated ${what} at byte ${this.pos}`);
    this.pos += n;
  }

  skip(wireType: number): void {
    switch (wireType) {
      case WIRE_VARINT:
        this.uint32();
        return;
      case WIRE_FIXED64:
        if (this.pos + 8 > this.end) throw new DecodeError(`truncated fixed64 at byte ${this.pos}`);
        this.pos += 8;
        return;
      case WIRE_LEN: {
        // Not delimited(): skipping is the hot path of every walk, and its pair would be garbage.
        const len = this.uint32();
        if (this.pos + len > this.end) throw new DecodeError(`truncated message: field of ${len} bytes at byte ${this.pos} runs past the end`);
        this.pos += len;
        return;
      }
      case WIRE_FIXED32:
        if (this.pos + 4 > this.end) throw new DecodeError(`truncated fixed32 at byte ${this.pos}`);
        this.pos += 4;
        return;
      case WIRE_START_GROUP:
        this.skipGroup();
        return;
      case WIRE_END_GROUP:
        throw new DecodeError(`end-group tag without its start at byte ${this.pos}`);
      default:
        throw new DecodeError(`unsupported wire type ${wireType} at byte ${this.pos}`);
    }
  }
}

// Readers live for one request: see shape-anchors.ts.
anchorShape(new WireReader(new Uint8Array(0)));

// ignoreBOM: a leading U+FEFF is part of the string, as protobuf decoders keep it; dropping it made
// "\uFEFFcircuit_id" the business key circuit_id.
const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

/** Node's Buffer#latin1Slice: toString('latin1', ...) without its argument checks; untyped but on every Buffer. */
interface Latin1Slice {
  latin1Slice?: (start: number, end: number) => string;
}

export function utf8(buf: Uint8Array, start: number, end: number): string {
  const n = end - start;
  // Very short ASCII strings (keys, names) are the common case; building them by hand beats any
  // native call at this size.
  if (n <= 8) return byCharCodes(buf, start, end);
  const latin1Slice = (buf as Latin1Slice).latin1Slice;
  if (latin1Slice !== undefined) {
    // Pure ASCII reads the same as Latin-1, which Node copies into a flat one-byte string at once;
    // anything else keeps TextDecoder's handling (replacement characters for malformed bytes).
    for (let i = start; i < end; i++) if (buf[i]! >= 0x80) return decoder.decode(buf.subarray(start, end));
    return latin1Slice.call(buf, start, end);
  }
  if (n < 64) return byCharCodes(buf, start, end);
  return decoder.decode(buf.subarray(start, end));
}

/** ASCII built a character at a time; anything else through TextDecoder. */
function byCharCodes(buf: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    if (c >= 0x80) return decoder.decode(buf.subarray(start, end));
    s += String.fromCharCode(c);
  }
  return s;
}

/** fixed64 nanoseconds (as read by fixed64Parts) as the exact decimal string OTLP/JSON uses. */
export function nanosFromParts(lo: number, hi: number): string {
  if (hi === 0) return String(lo);
  const low = nanosLowDigits(lo, hi);
  return `${nanosHighDigits(lo, hi)}${low < 10 ? '000' : low < 100 ? '00' : low < 1000 ? '0' : ''}${low}`;
}

/**
 * hi * 2^32 + lo without its last four decimal digits. Exact without BigInt (three times per span
 * in the stitched view): 2^32 = 429496 * 10^4 + 7296, so hi * 2^32 + lo =
 * (hi * 429496 + floor(rest / 10^4)) * 10^4 + rest % 10^4 with rest = hi * 7296 + lo, and every
 * term stays below 2^53.
 */
export function nanosHighDigits(lo: number, hi: number): number {
  return hi * 429496 + Math.floor((hi * 7296 + lo) / 10000);
}

/** The last four decimal digits of hi * 2^32 + lo. */
export function nanosLowDigits(lo: number, hi: number): number {
  return (hi * 7296 + lo) % 10000;
}

/**
 * Epoch nanoseconds hi * 2^32 + lo as milliseconds, rounded to the microsecond. Exactly: a double
 * holds epoch nanoseconds only to 256 ns, so hi * 2^32 + lo rounded first (…100.000400 ms became
 * …100.001). As 2^32 = 4294967 * 1000 + 296, the microseconds are hi * 4294967 plus
 * (hi * 296 + lo) / 1000 rounded, every term exact for times before the year 2262.
 */
export function msFromParts(lo: number, hi: number): number {
  return (hi * 4294967 + Math.round((hi * 296 + lo) / 1000)) / 1000;
}

/**
 * end - start in milliseconds rounded to the microsecond, never negative, from the exact
 * nanosecond difference: subtracting two rounded epoch times instead leaves float residue
 * (0.0009765625 for a microsecond, 5.457000000000001 for 5457 microseconds).
 */
export function durationMsFromParts(startLo: number, startHi: number, endLo: number, endHi: number): number {
  const ns = (endHi - startHi) * 4294967296 + (endLo - startLo);
  return ns > 0 ? Math.round(ns / 1000) / 1000 : 0;
}

/** Checks the wire type of a known field, so a mismatch is reported rather than misread. */
export function expectWire(tag: number, wire: number, what: string): void {
  if ((tag & 7) !== wire) {
    throw new DecodeError(`field ${what} has wire type ${tag & 7}, expected ${wire}`);
  }
}
