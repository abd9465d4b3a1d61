// Stored spans → the UTF-8 JSON of the query API's Span array, written straight from the stored
// OTLP bytes into one buffer. The stitched view returns thousands of spans; building a Span object
// per span and handing it to the schema serializer cost several times the decoding itself, most of
// it in garbage. The bytes written here are exactly what fastify's schema serializer
// (fast-json-stringify) makes of `toApiSpans` + `orderForTimeline`: properties in schema order,
// attribute keys in JavaScript object order, values as JSON.stringify writes them. A span whose
// attributes would not keep their order or presence in an object (keys that are array indices,
// repeated keys, `__proto__`, keys the schema's `^.*$` pattern drops) or whose bytes are malformed
// goes through the object path instead, which also reports decoding errors as before.
import type { Span } from '@correlation-station/api-schema';
import { readAnyValue } from '../otlp/any-value.js';
import { nanosFromParts } from '../otlp/wire-reader.js';
import { DecodeError, WIRE_FIXED64, WIRE_LEN, WIRE_VARINT, WireReader, utf8 } from '../otlp/wire-reader.js';
import { resourceAttributesOf } from '../store/resource-attributes.js';
import type { StoredResource, StoredSpan } from '../store/store.js';
import { toApiSpan } from './span-view.js';

const KIND_JSON = ['"unspecified"', '"internal"', '"server"', '"client"', '"producer"', '"consumer"'];
const STATUS_JSON = ['"unset"', '"ok"', '"error"'];
const HEX_DIGITS = Array.from('0123456789abcdef', c => c.charCodeAt(0));
const QUOTE = 0x22;

/** Thrown inside the fast path when a span needs the object path; never escapes this module. */
const NEEDS_OBJECT_PATH = Symbol('needs object path');

/** Node's Buffer slicers without toString's argument checks; present on every Buffer, though untyped. */
interface BufferSlices {
  latin1Slice(start: number, end: number): string;
  base64Slice(start: number, end: number): string;
}

/** A growing output buffer of UTF-8 JSON. */
class JsonBytes {
  buf: Buffer;
  pos = 0;
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
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

  /** JSON.stringify of a protobuf string field, copying printable ASCII without decoding it. */
  utf8Field(src: Uint8Array, s: number, e: number): void {
    for (let i = s; i < e; i++) {
      const c = src[i]!;
      if (c < 0x20 || c > 0x7e || c === QUOTE || c === 0x5c) {
        this.text(JSON.stringify(utf8(src, s, e)));
        return;
      }
    }
    this.byte(QUOTE);
    this.bytes(src, s, e);
    this.byte(QUOTE);
  }
}

/** Reads a length prefix; leaves `r.pos` at the start of the field and returns its end. */
function fieldEnd(r: WireReader): number {
  const len = r.uint32();
  const end = r.pos + len;
  if (end > r.end) throw new DecodeError(`truncated message: field of ${len} bytes at byte ${r.pos} runs past the end`);
  return end;
}

// Keys written so far in the current attribute map, as byte ranges of the span's bytes.
let seenStart = new Int32Array(64);
let seenEnd = new Int32Array(64);
let seenCount = 0;

function seenBefore(src: Uint8Array, s: number, e: number): boolean {
  const n = e - s;
  for (let k = 0; k < seenCount; k++) {
    const ks = seenStart[k]!;
    if (seenEnd[k]! - ks !== n) continue;
    let i = 0;
    while (i < n && src[ks + i] === src[s + i]) i++;
    if (i === n) return true;
  }
  if (seenCount === seenStart.length) {
    const grownStart = new Int32Array(seenCount * 2);
    const grownEnd = new Int32Array(seenCount * 2);
    grownStart.set(seenStart);
    grownEnd.set(seenEnd);
    seenStart = grownStart;
    seenEnd = grownEnd;
  }
  seenStart[seenCount] = s;
  seenEnd[seenCount] = e;
  seenCount++;
  return false;
}

/**
 * Writes a KeyValue as `"key":value`. Keys whose place or presence in a JavaScript object differs
 * from their place in the list (array indices sort first, `__proto__` sets the prototype, a
 * repeated key keeps its first place but its last value) and keys the schema serializer drops (line
 * terminators fail its `^.*$` pattern) take the object path: all of them start with a digit, are
 * `__proto__`, repeat a key, or hold bytes outside printable ASCII.
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
  let escape = false;
  if (ke > ks) {
    const first = src[ks]!;
    if (first >= 0x30 && first <= 0x39) throw NEEDS_OBJECT_PATH;
    if (ke - ks === 9 && first === 0x5f && (src as unknown as BufferSlices).latin1Slice(ks, ke) === '__proto__') throw NEEDS_OBJECT_PATH;
    for (let i = ks; i < ke; i++) {
      const c = src[i]!;
      if (c < 0x20 || c > 0x7e) throw NEEDS_OBJECT_PATH;
      if (c === QUOTE || c === 0x5c) escape = true;
    }
  }
  if (seenBefore(src, ks, ke)) throw NEEDS_OBJECT_PATH;
  if (escape) out.ascii(JSON.stringify((src as unknown as BufferSlices).latin1Slice(ks, ke)));
  else {
    out.byte(QUOTE);
    out.bytes(src, ks, ke);
    out.byte(QUOTE);
  }
  out.byte(0x3a);
  if (vs >= 0) writeAnyValue(out, r, vs, ve);
  else out.ascii('null');
  r.pos = end;
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
      out.text(JSON.stringify(readAnyValue(r, start, end, 1)));
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
      if (typeof v === 'number') out.ascii(String(v));
      else out.ascii(`"${v}"`);
      break;
    }
    case 4:
      out.ascii(JSON.stringify(r.double()));
      break;
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

/** Writes the KeyValues of field `fieldNo` of the message [start, end) as a JSON object. */
function writeAttributes(out: JsonBytes, r: WireReader, start: number, end: number, fieldNo: number): void {
  seenCount = 0;
  let first = true;
  r.pos = start;
  r.end = end;
  while (r.pos < end) {
    const tag = r.tag();
    if (tag >>> 3 === fieldNo && (tag & 7) === WIRE_LEN) {
      const e = fieldEnd(r);
      out.byte(first ? 0x7b : 0x2c);
      first = false;
      writeKeyValue(out, r, e);
      r.end = end;
    } else r.skip(tag & 7);
  }
  if (first) out.byte(0x7b);
  out.byte(0x7d);
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
  out.ascii(`{"timeUnixNano":"${nanosFromParts(lo, hi)}","name":`);
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

function nanosToMs(lo: number, hi: number): number {
  return Math.round((hi * 4294967296 + lo) / 1000) / 1000;
}

function isAllZero(buf: Uint8Array, s: number, e: number): boolean {
  for (let i = s; i < e; i++) if (buf[i] !== 0) return false;
  return true;
}

/** What ordering needs of a written span. */
interface Written {
  startTimeMs: number;
  root: boolean;
}

/** Writes one span from its stored bytes; throws NEEDS_OBJECT_PATH or a decoding error to fall back. */
function writeSpanFast(out: JsonBytes, s: StoredSpan, resourceJson: Buffer): Written {
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
  let events = false;
  let links = false;
  // First pass: the scalar fields, since the schema's order is not the protobuf's.
  while (r.pos < total) {
    const tag = r.tag();
    const f = tag >>> 3;
    const w = tag & 7;
    if (w === WIRE_LEN && (f === 4 || f === 5 || f === 11 || f === 13 || f === 15)) {
      const e = fieldEnd(r);
      if (f === 4) {
        ps = r.pos;
        pe = e;
      } else if (f === 5) {
        ns = r.pos;
        ne = e;
      } else if (f === 11) events = true;
      else if (f === 13) links = true;
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
  const startTimeMs = nanosToMs(startLo, startHi);
  const durationMs = Math.max(0, nanosToMs(endLo, endHi) - startTimeMs);

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
  out.ascii(`,"kind":${KIND_JSON[kind] ?? '"unspecified"'},"startTimeUnixNano":"${nanosFromParts(startLo, startHi)}"`);
  out.ascii(`,"endTimeUnixNano":"${nanosFromParts(endLo, endHi)}","startTimeMs":${startTimeMs},"durationMs":${durationMs},"status":`);
  if (statusStart >= 0) writeStatus(out, r, statusStart, statusEnd);
  else out.ascii('{"code":"unset"}');
  out.ascii(',"attributes":');
  writeAttributes(out, r, 0, total, 9);
  out.byte(0x2c);
  out.bytes(resourceJson, 0, resourceJson.length);
  out.ascii(',"events":[');
  if (events) writeRepeated(out, r, total, 11, writeEvent);
  out.ascii('],"links":[');
  if (links) writeRepeated(out, r, total, 13, writeLink);
  out.ascii(s.synthetic ? '],"synthetic":true}' : '],"synthetic":false}');
  return { startTimeMs, root };
}

function writeRepeated(
  out: JsonBytes,
  r: WireReader,
  total: number,
  fieldNo: number,
  write: (out: JsonBytes, r: WireReader, start: number, end: number) => void,
): void {
  let first = true;
  r.pos = 0;
  r.end = total;
  while (r.pos < total) {
    const tag = r.tag();
    if (tag >>> 3 === fieldNo && (tag & 7) === WIRE_LEN) {
      const e = fieldEnd(r);
      if (!first) out.byte(0x2c);
      first = false;
      write(out, r, r.pos, e);
      r.pos = e;
      r.end = total;
    } else r.skip(tag & 7);
  }
}

/** The schema serializer's output for an attribute map (`patternProperties: { '^.*$': {} }`). */
export function attributeMapJson(map: Record<string, unknown>): string {
  let json = '';
  for (const key of Object.keys(map)) {
    const value = map[key];
    if (value === undefined || typeof value === 'function' || typeof value === 'symbol') continue;
    if (!/^.*$/.test(key)) continue;
    json += `${json ? ',' : '{'}${JSON.stringify(key)}:${JSON.stringify(value)}`;
  }
  return json ? `${json}}` : '{}';
}

function str(s: string): string {
  return JSON.stringify(s);
}

function numberJson(n: number): string {
  return n === Infinity || n === -Infinity ? 'null' : String(n);
}

/** A Span object in schema property order, as the schema serializer writes it: the object path. */
export function apiSpanJson(span: Span): string {
  const status = span.status.message !== undefined ? `,"message":${str(span.status.message)}` : '';
  return (
    `{"traceId":${str(span.traceId)},"spanId":${str(span.spanId)},"parentSpanId":${str(span.parentSpanId)}` +
    `,"serviceName":${str(span.serviceName)},"name":${str(span.name)},"kind":${str(span.kind)}` +
    `,"startTimeUnixNano":${str(span.startTimeUnixNano)},"endTimeUnixNano":${str(span.endTimeUnixNano)}` +
    `,"startTimeMs":${numberJson(span.startTimeMs)},"durationMs":${numberJson(span.durationMs)}` +
    `,"status":{"code":${str(span.status.code)}${status}}` +
    `,"attributes":${attributeMapJson(span.attributes)},"resource":${attributeMapJson(span.resource)}` +
    `,"scope":{"name":${str(span.scope.name)},"version":${str(span.scope.version)}}` +
    `,"events":[${span.events.map(ev => `{"timeUnixNano":${str(ev.timeUnixNano)},"name":${str(ev.name)},"attributes":${attributeMapJson(ev.attributes)}}`).join(',')}]` +
    `,"links":[${span.links.map(l => `{"traceId":${str(l.traceId)},"spanId":${str(l.spanId)},"attributes":${attributeMapJson(l.attributes)}}`).join(',')}]` +
    `,"synthetic":${span.synthetic ? 'true' : 'false'}}`
  );
}

interface ResourceJson {
  attributes: Record<string, unknown>;
  /** `"resource":{...},"scope":{...}` as UTF-8. */
  json: Buffer;
}

// Store resource objects are cached and shared by the spans of a resource, so their JSON is too.
const resourceJsonCache = new WeakMap<StoredResource, ResourceJson>();

function resourceJsonOf(res: StoredResource): ResourceJson {
  let cached = resourceJsonCache.get(res);
  if (!cached) {
    const attributes = resourceAttributesOf(res);
    const json = `"resource":${attributeMapJson(attributes)},"scope":{"name":${str(res.scopeName)},"version":${str(res.scopeVersion)}}`;
    cached = { attributes, json: Buffer.from(json, 'utf8') };
    resourceJsonCache.set(res, cached);
  }
  return cached;
}

/**
 * The reply body: `head`, the JSON array of the API Spans of `stored` in timeline order (as
 * `orderForTimeline(toApiSpans(stored))` serialized by the route's schema), then `tail`.
 */
export function timelineSpansJson(stored: readonly StoredSpan[], head = '', tail = ''): Buffer {
  const n = stored.length;
  let size = 1024 + head.length * 3 + tail.length * 3;
  for (let i = 0; i < n; i++) size += stored[i]!.body.length * 2 + 200;
  const out = new JsonBytes(size);
  out.text(head);
  out.byte(0x5b);
  const spanStart = new Int32Array(n + 1);
  const startMs = new Float64Array(n);
  const roots = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const s = stored[i]!;
    const res = resourceJsonOf(s.resource);
    const at = out.pos;
    spanStart[i] = at;
    let written: Written | null = null;
    if (Buffer.isBuffer(s.body)) {
      try {
        written = writeSpanFast(out, s, res.json);
      } catch {
        out.pos = at;
      }
    }
    if (!written) {
      const span = toApiSpan(s, res.attributes);
      out.text(apiSpanJson(span));
      written = { startTimeMs: span.startTimeMs, root: span.parentSpanId === '' };
    }
    startMs[i] = written.startTimeMs;
    roots[i] = written.root ? 1 : 0;
    if (i + 1 < n) out.byte(0x2c);
  }
  spanStart[n] = out.pos + 1;
  out.byte(0x5d);
  out.text(tail);

  // The store reads spans by start time and id, so the timeline order (roots first at equal
  // times) needs a sort only when a root ties with an earlier-sorted span.
  const compare = (a: number, b: number): number => {
    const sa = stored[a]!.spanId;
    const sb = stored[b]!.spanId;
    return startMs[a]! - startMs[b]! || (roots[a] ? -1 : 0) - (roots[b] ? -1 : 0) || (sa < sb ? -1 : sa > sb ? 1 : 0);
  };
  let sorted = true;
  for (let i = 1; i < n && sorted; i++) sorted = compare(i - 1, i) <= 0;
  if (sorted) return out.buf.subarray(0, out.pos);
  const order = Array.from({ length: n }, (_, i) => i).sort(compare);
  const body = out.buf;
  const reordered = Buffer.allocUnsafe(out.pos);
  const bodyStart = spanStart[0]!;
  let p = body.copy(reordered, 0, 0, bodyStart);
  for (let k = 0; k < n; k++) {
    const i = order[k]!;
    // Each span's slice ends before its separating comma (or the closing bracket).
    p += body.copy(reordered, p, spanStart[i]!, spanStart[i + 1]! - 1);
    if (k + 1 < n) reordered[p++] = 0x2c;
  }
  p += body.copy(reordered, p, spanStart[n]! - 1, out.pos);
  return reordered.subarray(0, p);
}

/**
 * A reply body from the route's serializer output for the reply with `spans: []` (stitched view,
 * trace detail). Property names are never escaped and string values always escape their quotes, so
 * `"spans":[]` occurs once, as the property, as long as no object before `spans` has such a property.
 */
export function replyWithSpansJson(envelope: string, stored: readonly StoredSpan[]): Buffer {
  const at = envelope.indexOf('"spans":[]');
  if (at < 0) throw new Error('reply envelope has no empty spans array');
  return timelineSpansJson(stored, envelope.slice(0, at + 8), envelope.slice(at + 10));
}
