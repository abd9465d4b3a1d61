// One resource, one form. Resources are stored once and told apart by their bytes (sqlite-store.ts,
// resourceId), but encoders write the same Resource differently: the JS SDK's protobuf serializer
// writes dropped_attributes_count = 0, which protobufjs, re-encoding the same SDK's OTLP/JSON
// (json-normaliser.ts), leaves out as proto3's default; and attributes are a set, which a sender
// may list in any order. The same service's spans then showed two identical resources.
import { DecodeError, WIRE_LEN, WIRE_VARINT, WireReader } from './wire-reader.js';

const ATTRIBUTES = 1;
const DROPPED_ATTRIBUTES_COUNT = 2;
const KEY_VALUE_KEY = 1;

/** A top-level field of the message: its number, where it is (tag included), and an attribute's key. */
interface Field {
  number: number;
  start: number;
  end: number;
  keyStart: number;
  keyEnd: number;
}

/**
 * The Resource message in `buf[start, end)` in its canonical form: fields in number order,
 * attributes (KeyValues) in the byte order of their keys, the order they came in among equal keys,
 * and dropped_attributes_count left out when 0; every field's own bytes as received. When the
 * bytes are in that form already, as most encoders write them, they are returned as they are (a
 * subarray of `buf`), at the cost of one walk over the few fields of the message. The fields
 * starting at the offsets `leftOut` holds (entity refs the resource goes without) are not kept.
 */
export function canonicalResource(buf: Uint8Array, start: number, end: number, leftOut?: ReadonlySet<number>): Uint8Array {
  const fields: Field[] = [];
  let canonical = true;
  const r = new WireReader(buf, start, end);
  while (!r.done) {
    const at = r.pos;
    const tag = r.tag();
    if (leftOut?.has(at)) {
      r.skip(tag & 7);
      canonical = false;
      continue;
    }
    const number = tag >>> 3;
    let keyStart = 0;
    let keyEnd = 0;
    if (number === ATTRIBUTES && (tag & 7) === WIRE_LEN) {
      const [s, e] = r.delimited();
      [keyStart, keyEnd] = keyOf(buf, s, e);
    } else if (number === DROPPED_ATTRIBUTES_COUNT && (tag & 7) === WIRE_VARINT) {
      // int64: a uint32 reader keeps the low 32 bits, and 2^32 would pass for 0.
      if (r.int64() === 0) {
        canonical = false;
        continue;
      }
    } else r.skip(tag & 7);
    const field = { number, start: at, end: r.pos, keyStart, keyEnd };
    const last = fields.at(-1);
    if (last && compareFields(buf, last, field) > 0) canonical = false;
    fields.push(field);
  }
  if (canonical) return buf.subarray(start, end);
  // Stable: equal keys (and repeated fields) keep the order they came in.
  fields.sort((a, b) => compareFields(buf, a, b));
  const out = new Uint8Array(fields.reduce((n, f) => n + f.end - f.start, 0));
  let pos = 0;
  for (const f of fields) {
    out.set(buf.subarray(f.start, f.end), pos);
    pos += f.end - f.start;
  }
  return out;
}

/** The [start, end) of a KeyValue's key; [0, 0] (the empty key) when it has none. */
function keyOf(buf: Uint8Array, start: number, end: number): [number, number] {
  const r = new WireReader(buf, start, end);
  let key: [number, number] = [0, 0];
  while (!r.done) {
    const tag = r.tag();
    if (tag >>> 3 === KEY_VALUE_KEY) {
      if ((tag & 7) !== WIRE_LEN) throw new DecodeError(`KeyValue.key: wire type ${tag & 7} at byte ${r.pos}`);
      key = r.delimited();
    } else r.skip(tag & 7);
  }
  return key;
}

function compareFields(buf: Uint8Array, a: Field, b: Field): number {
  if (a.number !== b.number) return a.number - b.number;
  return a.number === ATTRIBUTES ? compareBytes(buf, a.keyStart, a.keyEnd, b.keyStart, b.keyEnd) : 0;
}

function compareBytes(buf: Uint8Array, aStart: number, aEnd: number, bStart: number, bEnd: number): number {
  const n = Math.min(aEnd - aStart, bEnd - bStart);
  for (let i = 0; i < n; i++) {
    const d = buf[aStart + i]! - buf[bStart + i]!;
    if (d !== 0) return d;
  }
  return aEnd - aStart - (bEnd - bStart);
}
