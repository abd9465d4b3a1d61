// What ingest checks of the attributes it keeps as bytes without decoding them (those of spans,
// their events and links, resources and scopes): that the view's reader can read them, and the size
// limits. A value the view cannot read made the trace and circuit answer 500 for good, and a 20 MiB
// key or name was copied into every list that shows it: either rejects its item at ingest instead,
// named in partial_success. The check walks the wire structure, as cheap as skipping it.
import { attributeValueBytes, checkAnyValue, readAnyValue } from './any-value.js';
import type { KeyExtractionRules } from './decoded.js';
import { nameOverLimit, valueOverLimit } from './item-limits.js';
import { ItemRejected } from './item-rejected.js';
import { DecodeError, WIRE_LEN, type WireReader, expectWire, utf8 } from './wire-reader.js';

/** Where an attribute is, for the message: '' (the span's own), 'events', 'links', 'resource', 'scope', 'log'. */
export type AttributePlace = '' | 'events' | 'links' | 'resource' | 'scope' | 'log';

function placeText(place: AttributePlace, index: number): string {
  if (place === '') return '';
  return index >= 0 ? `${place}[${index}] ` : `${place} `;
}

/** A key for a message: its first 200 bytes as text. */
export function keyPreview(buf: Uint8Array, start: number, end: number): string {
  return utf8(buf, start, Math.min(end, start + 200));
}

/**
 * Checks the KeyValue at [start, end) as readKeyValueInto reads it at the top of an attribute
 * list; throws ItemRejected naming the place and the key. Leaves `r.pos` at `end`.
 */
export function checkAttribute(
  r: WireReader,
  start: number,
  end: number,
  rules: KeyExtractionRules,
  place: AttributePlace,
  index: number,
): void {
  r.pos = start;
  r.end = end;
  let keyStart = -1;
  let keyEnd = -1;
  let valStart = -1;
  let valEnd = -1;
  let unreadable: string | null = null;
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === 0x0a) {
      keyStart = r.delimitedStart();
      keyEnd = r.pos;
    } else if (tag === 0x12) {
      valStart = r.delimitedStart();
      valEnd = r.pos;
      // The reader decodes every value field, not only the last it keeps.
      if (unreadable === null && !isPlainScalar(r.buf, valStart, valEnd)) {
        unreadable = valueProblem(r, valStart, valEnd);
        r.end = end;
      }
    } else if (tag >>> 3 === 1) expectWire(tag, WIRE_LEN, 'KeyValue.key');
    else if (tag >>> 3 === 2) expectWire(tag, WIRE_LEN, 'KeyValue.value');
    else r.skip(tag & 7);
  }
  checkAttributeRanges(r, keyStart, keyEnd, valStart, valEnd, unreadable, rules, place, index);
  r.pos = end;
  r.end = end;
}

/** Why the AnyValue at [start, end) cannot be read, or null; leaves `r.pos` at `end`. Callers skip it for isPlainScalar values. */
export function valueProblem(r: WireReader, start: number, end: number): string | null {
  try {
    checkAnyValue(r, start, end, 0);
    return null;
  } catch (err) {
    if (!(err instanceof DecodeError)) throw err;
    r.pos = end;
    return err.message;
  }
}

/**
 * Whether [start, end) is one scalar field that fills it, as SDKs write nearly every value: a
 * string or bytes with a length of up to three bytes, a bool or int varint, a double. Those need no walk, which
 * for every attribute of every span was a fifth of decoding.
 */
export function isPlainScalar(buf: Uint8Array, start: number, end: number): boolean {
  const tag = buf[start];
  if (tag === 0x0a || tag === 0x3a) {
    if (buf[start + 1]! < 0x80) return start + 2 + buf[start + 1]! === end;
    // A length of two or three varint bytes (up to 2 MiB).
    const b1 = buf[start + 1]! & 0x7f;
    const b2 = buf[start + 2]!;
    if (b2 < 0x80) return start + 3 + (b1 | (b2 << 7)) === end;
    const b3 = buf[start + 3]!;
    return b3 < 0x80 && start + 4 + (b1 | ((b2 & 0x7f) << 7) | (b3 << 14)) === end;
  }
  if (tag === 0x10 || tag === 0x18) {
    // A varint of at most ten bytes whose last byte is the value's last.
    if (end - start < 2 || end - start > 11 || buf[end - 1]! >= 0x80) return false;
    for (let i = start + 1; i < end - 1; i++) if (buf[i]! < 0x80) return false;
    return true;
  }
  return tag === 0x21 && end - start === 9;
}

/**
 * The limits and readability of an attribute whose key and value ranges were found (-1: absent),
 * `unreadable` being what valueProblem said of its values.
 */
export function checkAttributeRanges(
  r: WireReader,
  keyStart: number,
  keyEnd: number,
  valStart: number,
  valEnd: number,
  unreadable: string | null,
  rules: KeyExtractionRules,
  place: AttributePlace,
  index: number,
): void {
  if (keyEnd - keyStart > rules.maxNameBytes) {
    throw new ItemRejected(nameOverLimit(`${placeText(place, index)}attribute key "${keyPreview(r.buf, keyStart, keyEnd)}…"`, keyEnd - keyStart, rules.maxNameBytes));
  }
  if (unreadable !== null) throw new ItemRejected(`${placeText(place, index)}attribute "${keyOrMark(r.buf, keyStart, keyEnd)}" value cannot be read: ${unreadable}`);
  // The encoded value is its text plus a tag and a length: only one longer than the limit can be
  // over it, and then it is measured as text, as a log attribute is.
  if (valEnd - valStart > rules.maxAttributeValueBytes) {
    const saveEnd = r.end;
    const size = attributeValueBytes(readAnyValue(r, valStart, valEnd));
    r.end = saveEnd;
    if (size > rules.maxAttributeValueBytes) {
      throw new ItemRejected(valueOverLimit(`${placeText(place, index)}attribute "${keyOrMark(r.buf, keyStart, keyEnd)}" value`, size, rules.maxAttributeValueBytes));
    }
  }
}

// Not a closure in checkAttributeRanges: it runs for every attribute of every span, and a function
// made there on each call cost more than the check (tsx also names each one as it is made).
function keyOrMark(buf: Uint8Array, keyStart: number, keyEnd: number): string {
  return keyStart >= 0 ? keyPreview(buf, keyStart, keyEnd) : '?';
}

/** Checks every KeyValue of field `fieldNo` of the message at [start, end). Leaves `r.pos` at `end`. */
export function checkAttributes(
  r: WireReader,
  start: number,
  end: number,
  fieldNo: number,
  rules: KeyExtractionRules,
  place: AttributePlace,
  index: number,
): void {
  const saveEnd = r.end;
  r.pos = start;
  r.end = end;
  try {
    while (r.pos < end) {
      const tag = r.tag();
      if (tag >>> 3 === fieldNo && (tag & 7) === WIRE_LEN) {
        const s = r.delimitedStart();
        const e = r.pos;
        checkAttribute(r, s, e, rules, place, index);
        r.end = end;
      } else r.skip(tag & 7);
    }
  } finally {
    r.end = saveEnd;
    r.pos = end;
  }
}

/** A name field's length against the name limit: throws naming `what`. */
export function checkNameLength(start: number, end: number, rules: KeyExtractionRules, what: string): void {
  if (end - start > rules.maxNameBytes) throw new ItemRejected(nameOverLimit(what, end - start, rules.maxNameBytes));
}
