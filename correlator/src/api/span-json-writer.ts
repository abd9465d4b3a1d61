// The byte writer of span JSON: a stored span's OTLP bytes → the UTF-8 JSON of the query API's
// Span, written straight into blocks. The stitched view returns thousands of spans; building a Span
// object per span and handing it to the schema serializer cost several times the decoding itself,
// most of it in garbage. The bytes written here are exactly what fastify's schema serializer
// (fast-json-stringify) makes of the Span `toApiSpan` gives: properties in schema order, attribute
// keys in JavaScript object order, values as JSON.stringify writes them. A span whose attributes
// would not keep their order or presence in an object (keys that are array indices, repeated keys,
// `__proto__`, keys outside printable ASCII) or whose bytes are malformed is left to the
// object path (span-json.ts), which also reports decoding errors as before. Pure: the render
// workers run it too.
import { readAnyValue } from '../otlp/any-value.js';
import { isAllZero } from '../otlp/hex.js';
import { isBefore } from '../otlp/item-times.js';
import {
  DecodeError,
  WIRE_FIXED64,
  WIRE_LEN,
  WIRE_VARINT,
  WireReader,
  durationMsFromParts,
  msFromParts,
  nanosHighDigits,
  nanosLowDigits,
  utf8,
} from '../otlp/wire-reader.js';
import { anchorShape } from '../runtime/shape-anchors.js';

const KIND_JSON = [
  '"unspecified"',
  '"internal"',
  '"server"',
  '"client"',
  '"producer"',
  '"consumer"',
];
const STATUS_JSON = ['"unset"', '"ok"', '"error"'];
const HEX_DIGITS = Array.from('0123456789abcdef', c => c.charCodeAt(0));
/** "00" to "99" as character codes, pair n at [2n, 2n + 1]. */
const DIGIT_PAIRS = Uint8Array.from(
  { length: 200 },
  (_, i) => 0x30 + (i & 1 ? (i >> 1) % 10 : Math.floor(i / 20)),
);
const QUOTE = 0x22;

/** Thrown inside the fast path when a span needs the object path; never escapes this module. */
const NEEDS_OBJECT_PATH = Symbol('needs object path');

/** Node's Buffer slicers without toString's argument checks; present on every Buffer, though untyped. */
interface BufferSlices {
  latin1Slice(start: number, end: number): string;
  base64Slice(start: number, end: number): string;
}

/**
 * UTF-8 JSON written into blocks. Each span goes whole into one block (`reserve` before it starts);
 * within a span the block grows in place if the estimate fell short, so positions taken inside a
 * span stay valid.
 */
class JsonBytes {
  buf: Buffer = Buffer.alloc(0);
  pos = 0;
  /** Blocks filled before `buf`, trimmed; `buf` is block number `sealed.length`. */
  readonly sealed: Buffer[] = [];

  /** Room for `n` more bytes in the current block, or a new block of max(n, blockSize) bytes. */
  reserve(n: number, blockSize: number): void {
    if (this.pos + n <= this.buf.length) return;
    if (this.pos > 0) this.sealed.push(trimmed(this.buf, this.pos));
    this.buf = Buffer.allocUnsafeSlow(Math.max(n, blockSize));
    this.pos = 0;
  }

  /** Every block, the current one last, none with more than a quarter of it unused. */
  blocks(): Buffer[] {
    return this.pos > 0 ? [...this.sealed, trimmed(this.buf, this.pos)] : this.sealed;
  }

  room(n: number): void {
    if (this.pos + n > this.buf.length) {
      const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
      this.buf.copy(next, 0, 0, this.pos);
      this.buf = next;
    }
  }

  byte(c: number): void {
    this.room(1);
    this.buf[this.pos++] = c;
  }

  /** A string known to be ASCII (JSON punctuation, numbers, escaped JSON text of ASCII). */
  ascii(s: string): void {
    const n = s.length;
    this.room(n);
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) b[p++] = s.charCodeAt(i);
    this.pos = p;
  }

  /** Any string, UTF-8 encoded. */
  text(s: string): void {
    this.room(s.length * 3);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  bytes(src: Uint8Array, s: number, e: number): void {
    const n = e - s;
    this.room(n);
    if (n < 48) {
      const b = this.buf;
      let p = this.pos;
      for (let i = s; i < e; i++) b[p++] = src[i]!;
      this.pos = p;
    } else {
      this.buf.set(src.subarray(s, e), this.pos);
      this.pos += n;
    }
  }

  hex(src: Uint8Array, s: number, e: number): void {
    this.room((e - s) * 2);
    const b = this.buf;
    let p = this.pos;
    for (let i = s; i < e; i++) {
      const v = src[i]!;
      b[p++] = HEX_DIGITS[v >>> 4]!;
      b[p++] = HEX_DIGITS[v & 15]!;
    }
    this.pos = p;
  }

  /** The decimal digits of an integer in [0, 2^53), written without making a string. */
  digits(v: number): void {
    if (v < 100_000_000) {
      this.smallDigits(v);
      return;
    }
    // Above 10^8 the low eight digits are written as a block after the rest, in int32 arithmetic.
    const top = Math.floor(v / 100_000_000);
    this.digits(top);
    this.eightDigits(v - top * 100_000_000);
  }

  /** The digits of an integer in [0, 10^8), two at a time. */
  private smallDigits(v: number): void {
    const n =
      v < 10
        ? 1
        : v < 100
          ? 2
          : v < 1000
            ? 3
            : v < 10_000
              ? 4
              : v < 100_000
                ? 5
                : v < 1_000_000
                  ? 6
                  : v < 10_000_000
                    ? 7
                    : 8;
    this.room(n);
    const b = this.buf;
    let p = this.pos + n;
    this.pos = p;
    while (v >= 100) {
      const q = (v / 100) | 0;
      const pair = (v - q * 100) << 1;
      b[--p] = DIGIT_PAIRS[pair + 1]!;
      b[--p] = DIGIT_PAIRS[pair]!;
      v = q;
    }
    if (v >= 10) {
      b[--p] = DIGIT_PAIRS[(v << 1) + 1]!;
      b[--p] = DIGIT_PAIRS[v << 1]!;
    } else b[--p] = 0x30 + v;
  }

  /** An integer in [0, 10^8) as exactly eight digits, leading zeros kept. */
  private eightDigits(v: number): void {
    this.room(8);
    const b = this.buf;
    let p = this.pos + 8;
    this.pos = p;
    for (let k = 0; k < 4; k++) {
      const q = (v / 100) | 0;
      const pair = (v - q * 100) << 1;
      b[--p] = DIGIT_PAIRS[pair + 1]!;
      b[--p] = DIGIT_PAIRS[pair]!;
      v = q;
    }
  }

  /** The unsigned 64-bit integer hi * 2^32 + lo in decimal, as nanosFromParts spells it. */
  nanos(lo: number, hi: number): void {
    if (hi === 0) {
      this.digits(lo);
      return;
    }
    // hi > 0 makes the high part at least 429496, so the low part keeps its leading zeros.
    this.digits(nanosHighDigits(lo, hi));
    const low = nanosLowDigits(lo, hi);
    this.room(4);
    const b = this.buf;
    const p = this.pos;
    const q = ((low / 100) | 0) << 1;
    const r = (low % 100) << 1;
    b[p] = DIGIT_PAIRS[q]!;
    b[p + 1] = DIGIT_PAIRS[q + 1]!;
    b[p + 2] = DIGIT_PAIRS[r]!;
    b[p + 3] = DIGIT_PAIRS[r + 1]!;
    this.pos = p + 4;
  }

  /** A finite number as JSON.stringify writes it. */
  number(x: number): void {
    if (Number.isSafeInteger(x) && x >= 0) this.digits(x);
    else this.ascii(String(x));
  }

  /** JSON.stringify(s) for a string already in memory (ids, service names from the store). */
  string(s: string): void {
    const n = s.length;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x20 || c > 0x7e || c === QUOTE || c === 0x5c) {
        this.text(JSON.stringify(s));
        return;
      }
    }
    this.room(n + 2);
    const b = this.buf;
    let p = this.pos;
    b[p++] = QUOTE;
    for (let i = 0; i < n; i++) b[p++] = s.charCodeAt(i);
    b[p++] = QUOTE;
    this.pos = p;
  }

  /**
   * Copies src[s, e) as the inside of a JSON string when it is printable ASCII with nothing to
   * escape, checking and copying in one pass; otherwise writes nothing and returns false.
   */
  plain(src: Uint8Array, s: number, e: number): boolean {
    this.room(e - s);
    const b = this.buf;
    let p = this.pos;
    for (let i = s; i < e; i++) {
      const c = src[i]!;
      if (c < 0x20 || c > 0x7e || c === QUOTE || c === 0x5c) return false;
      b[p++] = c;
    }
    this.pos = p;
    return true;
  }

  /** JSON.stringify of a protobuf string field, copying printable ASCII without decoding it. */
  utf8Field(src: Uint8Array, s: number, e: number): void {
    const at = this.pos;
    this.byte(QUOTE);
    if (this.plain(src, s, e)) {
      this.byte(QUOTE);
      return;
    }
    this.pos = at;
    this.text(JSON.stringify(utf8(src, s, e)));
  }
}

// A writer lives for one view: see shape-anchors.ts.
anchorShape(new JsonBytes());

/**
 * A block held on by the span JSON cache costs its whole length, so one mostly unused (the last of a
 * view, or one closed early for a large span) is copied down to its contents.
 */
function trimmed(block: Buffer, used: number): Buffer {
  if (used * 4 >= block.length * 3) return block;
  const exact = Buffer.allocUnsafeSlow(used);
  block.copy(exact, 0, 0, used);
  return exact;
}

/** Reads a length prefix; leaves `r.pos` at the start of the field and returns its end. */
function fieldEnd(r: WireReader): number {
  const len = r.uint32();
  const end = r.pos + len;
  if (end > r.end)
    throw new DecodeError(
      `truncated message: field of ${len} bytes at byte ${r.pos} runs past the end`,
    );
  return end;
}

// Keys written so far in the current attribute map: an open-addressed table of byte ranges of the
// span's bytes, cleared by bumping the generation rather than by zeroing it.
const SEEN_SLOTS = 256;
const seenGeneration = new Int32Array(SEEN_SLOTS);
const seenStart = new Int32Array(SEEN_SLOTS);
const seenEnd = new Int32Array(SEEN_SLOTS);
let generation = 0;
let seenCount = 0;

function clearSeen(): void {
  if (++generation === 0x7fffffff) {
    seenGeneration.fill(0);
    generation = 1;
  }
  seenCount = 0;
}

/** Whether key bytes src[s, e) (hash `h`) were already written in this map; records them if not. */
function seenBefore(src: Uint8Array, s: number, e: number, h: number): boolean {
  // More keys than half the table: the map takes the object path, which handles any size.
  if (seenCount >= SEEN_SLOTS >>> 1) throw NEEDS_OBJECT_PATH;
  const n = e - s;
  for (let slot = h & (SEEN_SLOTS - 1); ; slot = (slot + 1) & (SEEN_SLOTS - 1)) {
    if (seenGeneration[slot] !== generation) {
      seenGeneration[slot] = generation;
      seenStart[slot] = s;
      seenEnd[slot] = e;
      seenCount++;
      return false;
    }
    const ks = seenStart[slot]!;
    if (seenEnd[slot]! - ks !== n) continue;
    let i = 0;
    while (i < n && src[ks + i] === src[s + i]) i++;
    if (i === n) return true;
  }
}

/** Keys whose place or presence in a JavaScript object differs from the list: index-like ones and `__proto__`. */
function keyNeedsObjectPath(src: Uint8Array, ks: number, ke: number): boolean {
  if (ke <= ks) return false;
  const first = src[ks]!;
  if (first >= 0x30 && first <= 0x39) return true;
  return (
    ke - ks === 9 &&
    first === 0x5f &&
    (src as unknown as BufferSlices).latin1Slice(ks, ke) === '__proto__'
  );
}

const KEY_UNPRINTABLE = -1;
const KEY_ESCAPED = -2;
/** The hash of the key copyKey last read, for seenBefore. */
let keyHash = 0;

/**
 * Checks, hashes and copies `"key"` to the output in one pass, without moving its position (so a
 * caller that gives up leaves nothing behind). Returns the position after the closing quote, or
 * KEY_UNPRINTABLE for a byte outside printable ASCII, or KEY_ESCAPED for a quote or backslash,
 * which the copy cannot write as it is. A caller writing more after the key makes room for all of
 * it first: growing the buffer keeps only the bytes before the position.
 */
function copyKey(out: JsonBytes, src: Uint8Array, ks: number, ke: number): number {
  out.room(ke - ks + 2);
  const b = out.buf;
  let p = out.pos;
  b[p++] = QUOTE;
  let h = 0x811c9dc5;
  let escape = false;
  for (let i = ks; i < ke; i++) {
    const c = src[i]!;
    if (c < 0x20 || c > 0x7e) return KEY_UNPRINTABLE;
    if (c === QUOTE || c === 0x5c) escape = true;
    h = Math.imul(h ^ c, 0x01000193);
    b[p++] = c;
  }
  b[p++] = QUOTE;
  keyHash = (h ^ (h >>> 15)) >>> 0;
  return escape ? KEY_ESCAPED : p;
}

/**
 * Writes a KeyValue as `"key":value`. Keys whose place or presence in a JavaScript object differs
 * from their place in the list (array indices sort first, `__proto__` sets the prototype, a
 * repeated key keeps its first place but its last value) and keys that need escaping beyond quotes
 * and backslashes take the object path: all of them start with a digit, are `__proto__`, repeat a
 * key, or hold bytes outside printable ASCII.
 */
function writeKeyValue(out: JsonBytes, r: WireReader, end: number): void {
  const src = r.buf;
  r.end = end;
  let ks = 0;
  let ke = 0;
  let vs = -1;
  let ve = -1;
  while (r.pos < end) {
    const tag = r.tag();
    const f = tag >>> 3;
    if (f === 1 || f === 2) {
      if ((tag & 7) !== WIRE_LEN) throw NEEDS_OBJECT_PATH;
      const e = fieldEnd(r);
      if (f === 1) {
        ks = r.pos;
        ke = e;
      } else if (vs >= 0) throw NEEDS_OBJECT_PATH;
      else {
        vs = r.pos;
        ve = e;
      }
      r.pos = e;
    } else r.skip(tag & 7);
  }
  if (keyNeedsObjectPath(src, ks, ke)) throw NEEDS_OBJECT_PATH;
  const p = copyKey(out, src, ks, ke);
  if (p === KEY_UNPRINTABLE || seenBefore(src, ks, ke, keyHash)) throw NEEDS_OBJECT_PATH;
  if (p === KEY_ESCAPED)
    out.ascii(JSON.stringify((src as unknown as BufferSlices).latin1Slice(ks, ke)));
  else out.pos = p;
  out.byte(0x3a);
  if (vs >= 0) writeAnyValue(out, r, vs, ve);
  else out.ascii('null');
  r.pos = end;
}

/**
 * Writes the KeyValue at src[s, e) when it has the shape SDKs nearly always give it: a key, then a
 * value holding one string, small non-negative integer or boolean, every length in one byte, and
 * nothing in key or string to escape. Reading it by position skips the general reader's work,
 * which is most of an attribute's cost. Returns false, having written and recorded nothing, for
 * anything else; writeKeyValue then decides, so both paths give the same bytes.
 */
function writeCommonKeyValue(out: JsonBytes, src: Uint8Array, s: number, e: number): boolean {
  if (e - s < 4 || src[s] !== 0x0a) return false;
  const ks = s + 2;
  const ke = ks + src[s + 1]!;
  // A length byte of 0x80 or more is a multi-byte varint, which makes `ke` overshoot `e`.
  if (ke + 4 > e || src[ke] !== 0x12 || ke + 2 + src[ke + 1]! !== e) return false;
  const vs = ke + 2;
  const valueTag = src[vs]!;
  if (keyNeedsObjectPath(src, ks, ke)) return false;
  // Room for key and value before copyKey writes beyond the position.
  out.room(e - s + 16);
  let p = copyKey(out, src, ks, ke);
  if (p < 0) return false;
  const b = out.buf;
  b[p++] = 0x3a;
  if (valueTag === 0x0a) {
    // string_value
    if (vs + 2 + src[vs + 1]! !== e) return false;
    b[p++] = QUOTE;
    for (let i = vs + 2; i < e; i++) {
      const c = src[i]!;
      if (c < 0x20 || c > 0x7e || c === QUOTE || c === 0x5c) return false;
      b[p++] = c;
    }
    b[p++] = QUOTE;
  } else if (valueTag === 0x18) {
    // int_value of at most four varint bytes: below 2^28, exact and non-negative
    let v = 0;
    let mul = 1;
    let i = vs + 1;
    for (;;) {
      if (i >= e || i > vs + 4) return false;
      const c = src[i++]!;
      v += (c & 0x7f) * mul;
      mul *= 128;
      if (c < 0x80) break;
    }
    if (i !== e) return false;
    // Within the room made above, so `b` stays the buffer.
    out.pos = p;
    out.digits(v);
    p = out.pos;
  } else if (valueTag === 0x10) {
    // bool_value
    if (vs + 2 !== e || src[vs + 1]! > 1) return false;
    const text = src[vs + 1] === 1 ? 'true' : 'false';
    for (let k = 0; k < text.length; k++) b[p++] = text.charCodeAt(k);
  } else return false;
  // Recorded last: after this nothing can send the pair back to writeKeyValue.
  if (seenBefore(src, ks, ke, keyHash)) throw NEEDS_OBJECT_PATH;
  out.pos = p;
  return true;
}

/** AnyValue bytes as JSON.stringify(readAnyValue(...)) writes them. */
function writeAnyValue(out: JsonBytes, r: WireReader, start: number, end: number): void {
  r.pos = start;
  r.end = end;
  // The last value field wins, as in readAnyValue; find it before writing anything.
  let lastField = 0;
  let lastAt = 0;
  while (r.pos < end) {
    const tag = r.tag();
    const f = tag >>> 3;
    const w = tag & 7;
    if (f === 5 || f === 6) {
      // Arrays and key-value lists: the reader's own decoding (and depth limit).
      out.text(JSON.stringify(readAnyValue(r, start, end, 0)));
      return;
    }
    if (f >= 1 && f <= 7) {
      const expected = f === 1 || f === 7 ? WIRE_LEN : f === 4 ? WIRE_FIXED64 : WIRE_VARINT;
      if (w !== expected) throw NEEDS_OBJECT_PATH;
      lastField = f;
      lastAt = r.pos;
    }
    r.skip(w);
  }
  r.pos = lastAt;
  switch (lastField) {
    case 0:
      out.ascii('null');
      break;
    case 1: {
      const e = fieldEnd(r);
      out.utf8Field(r.buf, r.pos, e);
      break;
    }
    case 2:
      out.ascii(r.bool() ? 'true' : 'false');
      break;
    case 3: {
      const v = r.int64();
      if (typeof v === 'number') out.number(v);
      else out.ascii(`"${v}"`);
      break;
    }
    case 4: {
      // As doubleValue() gives it (NaN and the infinities as strings), written here: calling it
      // from this loop changed what V8 inlined into the whole writer.
      const d = r.double();
      out.ascii(Number.isFinite(d) ? JSON.stringify(d) : `"${d}"`);
      break;
    }
    case 7: {
      const e = fieldEnd(r);
      out.byte(QUOTE);
      out.ascii((r.buf as unknown as BufferSlices).base64Slice(r.pos, e));
      out.byte(QUOTE);
      break;
    }
  }
  r.pos = end;
}

/** One KeyValue at [s, e): by position when it has the common shape, else through the reader. */
function writeAttribute(out: JsonBytes, r: WireReader, s: number, e: number): void {
  if (writeCommonKeyValue(out, r.buf, s, e)) return;
  r.pos = s;
  writeKeyValue(out, r, e);
}

/** Writes the KeyValues of field `fieldNo` of the message [start, end) as a JSON object. */
function writeAttributes(
  out: JsonBytes,
  r: WireReader,
  start: number,
  end: number,
  fieldNo: number,
): void {
  clearSeen();
  let first = true;
  r.pos = start;
  r.end = end;
  while (r.pos < end) {
    const tag = r.tag();
    if (tag >>> 3 === fieldNo && (tag & 7) === WIRE_LEN) {
      const e = fieldEnd(r);
      out.byte(first ? 0x7b : 0x2c);
      first = false;
      writeAttribute(out, r, r.pos, e);
      r.pos = e;
      r.end = end;
    } else r.skip(tag & 7);
  }
  if (first) out.byte(0x7b);
  out.byte(0x7d);
}

/** Byte ranges of one repeated field of the span being written, gathered in its single walk. */
class FieldRanges {
  starts = new Int32Array(32);
  ends = new Int32Array(32);
  count = 0;

  add(start: number, end: number): void {
    if (this.count === this.starts.length) {
      const starts = new Int32Array(this.count * 2);
      const ends = new Int32Array(this.count * 2);
      starts.set(this.starts);
      ends.set(this.ends);
      this.starts = starts;
      this.ends = ends;
    }
    this.starts[this.count] = start;
    this.ends[this.count] = end;
    this.count++;
  }
}

const spanAttributes = new FieldRanges();
const spanEvents = new FieldRanges();
const spanLinks = new FieldRanges();

/** The span's attributes, from the ranges its walk found, as writeAttributes writes them. */
function writeSpanAttributes(out: JsonBytes, r: WireReader, total: number): void {
  clearSeen();
  out.byte(0x7b);
  writeRanges(out, r, total, spanAttributes, writeAttribute);
  out.byte(0x7d);
}

function writeRanges(
  out: JsonBytes,
  r: WireReader,
  total: number,
  ranges: FieldRanges,
  write: (out: JsonBytes, r: WireReader, start: number, end: number) => void,
): void {
  for (let k = 0; k < ranges.count; k++) {
    if (k > 0) out.byte(0x2c);
    write(out, r, ranges.starts[k]!, ranges.ends[k]!);
    r.end = total;
  }
}

function writeEvent(out: JsonBytes, r: WireReader, start: number, end: number): void {
  r.pos = start;
  r.end = end;
  let lo = 0;
  let hi = 0;
  let ns = 0;
  let ne = 0;
  while (r.pos < end) {
    const tag = r.tag();
    const f = tag >>> 3;
    const w = tag & 7;
    if (f === 1 && w === WIRE_FIXED64) {
      lo = r.fixed32();
      hi = r.fixed32();
    } else if (f === 2 && w === WIRE_LEN) {
      const e = fieldEnd(r);
      ns = r.pos;
      ne = e;
      r.pos = e;
    } else r.skip(w);
  }
  out.ascii('{"timeUnixNano":"');
  out.nanos(lo, hi);
  out.ascii('","name":');
  out.utf8Field(r.buf, ns, ne);
  out.ascii(',"attributes":');
  writeAttributes(out, r, start, end, 3);
  out.byte(0x7d);
}

function writeLink(out: JsonBytes, r: WireReader, start: number, end: number): void {
  r.pos = start;
  r.end = end;
  let ts = 0;
  let te = 0;
  let ss = 0;
  let se = 0;
  while (r.pos < end) {
    const tag = r.tag();
    const f = tag >>> 3;
    const w = tag & 7;
    if ((f === 1 || f === 2) && w === WIRE_LEN) {
      const e = fieldEnd(r);
      if (f === 1) {
        ts = r.pos;
        te = e;
      } else {
        ss = r.pos;
        se = e;
      }
      r.pos = e;
    } else r.skip(w);
  }
  out.ascii('{"traceId":"');
  out.hex(r.buf, ts, te);
  out.ascii('","spanId":"');
  out.hex(r.buf, ss, se);
  out.ascii('","attributes":');
  writeAttributes(out, r, start, end, 4);
  out.byte(0x7d);
}

function writeStatus(out: JsonBytes, r: WireReader, start: number, end: number): void {
  r.pos = start;
  r.end = end;
  let code = 0;
  let ms = 0;
  let me = 0;
  while (r.pos < end) {
    const tag = r.tag();
    if (tag >>> 3 === 3 && (tag & 7) === WIRE_VARINT) code = r.uint32();
    else if (tag >>> 3 === 2 && (tag & 7) === WIRE_LEN) {
      const e = fieldEnd(r);
      ms = r.pos;
      me = e;
      r.pos = e;
    } else r.skip(tag & 7);
  }
  out.ascii('{"code":');
  out.ascii(STATUS_JSON[code] ?? '"unset"');
  if (me > ms) {
    out.ascii(',"message":');
    out.utf8Field(r.buf, ms, me);
  }
  out.byte(0x7d);
}

/** What ordering needs of a written span. */
export interface Written {
  startTimeMs: number;
  root: boolean;
}

/** What writing a span's JSON from its bytes needs; a StoredSpan is one. */
export interface SpanSource {
  readonly body: Buffer;
  readonly traceId: string;
  readonly spanId: string;
  readonly service: string;
  readonly synthetic: boolean;
}

/** Writes one span from its stored bytes; throws NEEDS_OBJECT_PATH or a decoding error to fall back. */
function writeSpanFast(out: JsonBytes, s: SpanSource, resourceJson: Buffer): Written {
  const src = s.body;
  const total = src.length;
  const r = new WireReader(src);
  let ps = 0;
  let pe = 0;
  let ns = 0;
  let ne = 0;
  let kind = 0;
  let startLo = 0;
  let startHi = 0;
  let endLo = 0;
  let endHi = 0;
  let statusStart = -1;
  let statusEnd = -1;
  spanAttributes.count = 0;
  spanEvents.count = 0;
  spanLinks.count = 0;
  // One walk finds the scalars (the schema's order is not the protobuf's) and the ranges of the
  // repeated fields, which are then written without walking the span again.
  while (r.pos < total) {
    const tag = r.tag();
    const f = tag >>> 3;
    const w = tag & 7;
    if (w === WIRE_LEN && (f === 4 || f === 5 || f === 9 || f === 11 || f === 13 || f === 15)) {
      const e = fieldEnd(r);
      if (f === 9) spanAttributes.add(r.pos, e);
      else if (f === 4) {
        ps = r.pos;
        pe = e;
      } else if (f === 5) {
        ns = r.pos;
        ne = e;
      } else if (f === 11) spanEvents.add(r.pos, e);
      else if (f === 13) spanLinks.add(r.pos, e);
      else {
        statusStart = r.pos;
        statusEnd = e;
      }
      r.pos = e;
    } else if (f === 6 && w === WIRE_VARINT) kind = r.uint32();
    else if (f === 7 && w === WIRE_FIXED64) {
      startLo = r.fixed32();
      startHi = r.fixed32();
    } else if (f === 8 && w === WIRE_FIXED64) {
      endLo = r.fixed32();
      endHi = r.fixed32();
    } else r.skip(w);
  }
  const root = isAllZero(src, ps, pe);
  const startTimeMs = msFromParts(startLo, startHi);
  const durationMs = durationMsFromParts(startLo, startHi, endLo, endHi);

  out.ascii('{"traceId":');
  out.string(s.traceId);
  out.ascii(',"spanId":');
  out.string(s.spanId);
  out.ascii(',"parentSpanId":"');
  if (!root) out.hex(src, ps, pe);
  out.ascii('","serviceName":');
  out.string(s.service);
  out.ascii(',"name":');
  out.utf8Field(src, ns, ne);
  out.ascii(',"kind":');
  out.ascii(KIND_JSON[kind] ?? '"unspecified"');
  out.ascii(',"startTimeUnixNano":"');
  out.nanos(startLo, startHi);
  out.ascii('","endTimeUnixNano":"');
  // As readFullSpan: an end before the start is shown as the start.
  if (isBefore(endLo, endHi, startLo, startHi)) out.nanos(startLo, startHi);
  else out.nanos(endLo, endHi);
  out.ascii('","startTimeMs":');
  out.number(startTimeMs);
  out.ascii(',"durationMs":');
  out.number(durationMs);
  out.ascii(',"status":');
  if (statusStart >= 0) writeStatus(out, r, statusStart, statusEnd);
  else out.ascii('{"code":"unset"}');
  out.ascii(',"attributes":');
  writeSpanAttributes(out, r, total);
  out.byte(0x2c);
  out.bytes(resourceJson, 0, resourceJson.length);
  out.ascii(',"events":[');
  writeRanges(out, r, total, spanEvents, writeEvent);
  out.ascii('],"links":[');
  writeRanges(out, r, total, spanLinks, writeLink);
  out.ascii(s.synthetic ? '],"synthetic":true}' : '],"synthetic":false}');
  return { startTimeMs, root };
}

/** The most a view's new JSON takes in one block: rendered spans are held in pieces this size. */
const BLOCK_BYTES = 1 << 20;
export const COMMA = 0x2c;

/**
 * Spans written into blocks: span k is `blocks[blockOf[k]][from[k], to[k])`, followed there by a
 * comma; `blockOf[k]` is -1 for a span left unwritten (only a run made without the object path).
 */
export interface RenderedRun {
  readonly blocks: Buffer[];
  readonly blockOf: Int32Array;
  readonly from: Int32Array;
  readonly to: Int32Array;
  readonly startMs: Float64Array;
  readonly roots: Uint8Array;
}

/**
 * Writes `count` spans, `source(k)` with the JSON of its resource reference `resourceJson(k)` (`"resourceId":N`), from their bytes.
 * A span the byte path cannot write goes through `objectPath`, which may throw its decoding error;
 * without one (a render worker, which has no resource objects) the span is left unwritten.
 */
export function renderSpans(
  count: number,
  source: (k: number) => SpanSource,
  resourceJson: (k: number) => Buffer,
  objectPath?: (k: number) => { json: string; written: Written },
): RenderedRun {
  const blockOf = new Int32Array(count).fill(-1);
  const from = new Int32Array(count);
  const to = new Int32Array(count);
  const startMs = new Float64Array(count);
  const roots = new Uint8Array(count);
  let estimateLeft = 0;
  for (let k = 0; k < count; k++) estimateLeft += jsonEstimate(source(k));
  const out = new JsonBytes();
  for (let k = 0; k < count; k++) {
    const s = source(k);
    const estimate = jsonEstimate(s);
    estimateLeft -= estimate;
    const res = resourceJson(k);
    // The span, its resource's JSON and the comma after it, in one block.
    const need = estimate + res.length + 1;
    out.reserve(need, Math.min(BLOCK_BYTES, estimateLeft + need));
    const at = out.pos;
    let written: Written | null = null;
    if (Buffer.isBuffer(s.body)) {
      try {
        written = writeSpanFast(out, s, res);
      } catch {
        out.pos = at;
      }
    }
    if (!written) {
      if (!objectPath) continue;
      const fallback = objectPath(k);
      out.text(fallback.json);
      written = fallback.written;
    }
    blockOf[k] = out.sealed.length;
    from[k] = at;
    to[k] = out.pos;
    startMs[k] = written.startTimeMs;
    roots[k] = written.root ? 1 : 0;
    // Every rendered span is followed by a comma in its block, so the spans of a block that come
    // out in the order they were written make one range with their separators.
    out.byte(COMMA);
  }
  return { blocks: out.blocks(), blockOf, from, to, startMs, roots };
}

/** Bytes set aside for a span's JSON: hex ids and escapes can double its bytes, plus the fixed keys. */
function jsonEstimate(s: SpanSource): number {
  return s.body.length * 2 + 200;
}
