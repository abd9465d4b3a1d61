// Full decoding of OTLP AnyValue / KeyValue lists into plain JSON values, for the query path and
// for logs (whose attributes are stored decoded).
import { MAX_KEY_VALUE_LENGTH } from '@correlation-station/api-schema';
import type { WireReader} from './wire-reader.js';
import { DecodeError, WIRE_FIXED64, WIRE_LEN, WIRE_VARINT, expectWire } from './wire-reader.js';

export type AttrValue = string | number | boolean | null | AttrValue[] | { [k: string]: AttrValue };
export type AttrMap = Record<string, AttrValue>;

/**
 * Arrays and key-value lists a value may nest: a top-level attribute value and a log body are at
 * level 0, each array or list around a value adds one.
 */
export const MAX_DEPTH = 32;

/** Why a value past MAX_DEPTH is refused; not "attribute value": the same reader reads a log body. */
export const NESTED_TOO_DEEP = `value nested deeper than ${MAX_DEPTH} arrays or lists`;

export function readAnyValue(r: WireReader, start: number, end: number, depth = 0): AttrValue {
  if (depth > MAX_DEPTH) throw new DecodeError(NESTED_TOO_DEEP);
  const saveEnd = r.end;
  r.pos = start;
  r.end = end;
  let value: AttrValue = null;
  try {
    while (!r.done) {
      const tag = r.tag();
      switch (tag >>> 3) {
        case 1:
          expectWire(tag, WIRE_LEN, 'AnyValue.string_value');
          value = r.string();
          break;
        case 2:
          expectWire(tag, WIRE_VARINT, 'AnyValue.bool_value');
          value = r.bool();
          break;
        case 3:
          expectWire(tag, WIRE_VARINT, 'AnyValue.int_value');
          value = r.int64();
          break;
        case 4:
          expectWire(tag, WIRE_FIXED64, 'AnyValue.double_value');
          value = doubleValue(r.double());
          break;
        case 5: {
          expectWire(tag, WIRE_LEN, 'AnyValue.array_value');
          const s = r.delimitedStart();
          const e = r.pos;
          value = readArray(r, s, e, depth + 1);
          break;
        }
        case 6: {
          expectWire(tag, WIRE_LEN, 'AnyValue.kvlist_value');
          const s = r.delimitedStart();
          const e = r.pos;
          // The list's values are one level down, as an array's are. The level is added here, not
          // by readKeyValueInto: there it also put every top-level attribute value one level down,
          // and 32 nested arrays in an attribute were refused while a log body took them.
          value = readKeyValueList(r, s, e, 1, depth + 1);
          break;
        }
        case 7: {
          expectWire(tag, WIRE_LEN, 'AnyValue.bytes_value');
          const s = r.delimitedStart();
          const e = r.pos;
          value = Buffer.from(r.buf.buffer, r.buf.byteOffset + s, e - s).toString('base64');
          break;
        }
        default:
          r.skip(tag & 7);
      }
    }
  } finally {
    r.end = saveEnd;
    r.pos = end;
  }
  return value;
}

/**
 * A double as JSON can hold it: NaN and the infinities as the strings OTLP/JSON writes them,
 * which JSON.stringify would otherwise turn into null, the same as an empty value.
 */
export function doubleValue(d: number): number | string {
  return Number.isFinite(d) ? d : String(d);
}

function readArray(r: WireReader, start: number, end: number, depth: number): AttrValue[] {
  const out: AttrValue[] = [];
  const saveEnd = r.end;
  r.pos = start;
  r.end = end;
  try {
    while (!r.done) {
      const tag = r.tag();
      if (tag >>> 3 === 1) {
        expectWire(tag, WIRE_LEN, 'ArrayValue.values');
        const s = r.delimitedStart();
        const e = r.pos;
        out.push(readAnyValue(r, s, e, depth));
        r.end = end;
      } else r.skip(tag & 7);
    }
  } finally {
    r.end = saveEnd;
    r.pos = end;
  }
  return out;
}

/**
 * Reads a message whose field `fieldNo` is a repeated KeyValue (KeyValueList.values = 1,
 * Resource.attributes = 1, Span.attributes = 9, ...) and returns the attributes as a map.
 */
export function readKeyValueList(r: WireReader, start: number, end: number, fieldNo: number, depth = 0): AttrMap {
  const out: AttrMap = {};
  const saveEnd = r.end;
  r.pos = start;
  r.end = end;
  try {
    while (!r.done) {
      const tag = r.tag();
      if (tag >>> 3 === fieldNo && (tag & 7) === WIRE_LEN) {
        const s = r.delimitedStart();
        const e = r.pos;
        readKeyValueInto(r, s, e, out, depth);
        r.end = end;
      } else r.skip(tag & 7);
    }
  } finally {
    r.end = saveEnd;
    r.pos = end;
  }
  return out;
}

/** Returns the key it set. */
export function readKeyValueInto(r: WireReader, start: number, end: number, out: AttrMap, depth = 0): string {
  const saveEnd = r.end;
  r.pos = start;
  r.end = end;
  let key = '';
  let value: AttrValue = null;
  try {
    while (!r.done) {
      const tag = r.tag();
      const field = tag >>> 3;
      if (field === 1) {
        expectWire(tag, WIRE_LEN, 'KeyValue.key');
        key = r.string();
      } else if (field === 2) {
        expectWire(tag, WIRE_LEN, 'KeyValue.value');
        const s = r.delimitedStart();
        const e = r.pos;
        value = readAnyValue(r, s, e, depth);
        r.end = end;
      } else r.skip(tag & 7);
    }
  } finally {
    r.end = saveEnd;
    r.pos = end;
  }
  setAttribute(out, key, value);
  return key;
}

/**
 * `out[key] = value`, except that a key "__proto__" is an attribute like any other: assigned, it
 * would set the map's prototype, and every key of that value would show through as inherited.
 */
export function setAttribute(out: AttrMap, key: string, value: AttrValue): void {
  if (key === '__proto__')
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  else out[key] = value;
}

/**
 * A scalar attribute value as the string a business key holds (keyValueText). An array is several
 * values: takeKeyValue (found-keys.ts) takes each member.
 */
export function attrValueToKeyString(v: AttrValue): string | null {
  if (typeof v === 'string') return keyValueText(v);
  if (typeof v === 'number') return String(v);
  return null;
}

/**
 * A string as the business key value it names: without white space at either end, and none if it
 * is empty, longer than MAX_KEY_VALUE_LENGTH, or holds a control or invisible character. A circuit
 * id is typed into searches and URLs, and "C1 ", "C1\n" or "C1\u200b" was a circuit of its own
 * that looks like C1 everywhere it is listed.
 */
export function keyValueText(v: string): string | null {
  const t = v.trim();
  return t.length > 0 && keyStringProblem(t) === null ? t : null;
}

/**
 * A key's length as the limit counts it, in UTF-16 code units: the same as its characters unless
 * it has some beyond the BMP (an emoji is two), when both are said, or 300 emoji read as "600
 * characters".
 */
export function keyLengthText(v: string): string {
  const characters = [...v].length;
  return characters === v.length ? `${v.length} characters` : `${v.length} UTF-16 code units (${characters} characters)`;
}

/**
 * What programs print for a missing value: Python's str(None), JSON's null, Go's <nil>, and what
 * code puts in its place (`unknown`, `-`, `0` for an unset number). A request that logged
 * `circuit_id=None` joined every other such request in one circuit "None", bridged; RV20 saw the
 * same for `unknown`, `-`, `0`, `TBD` and `empty`, each a circuit bridging unrelated activations.
 */
const NO_VALUE_WORDS = new Set(['none', 'null', 'nil', '<nil>', 'undefined', 'nan', 'n/a', 'unknown', 'unset', 'missing', 'tbd', 'empty', '-', '--', '?', '0']);
const LONGEST_NO_VALUE_WORD = 9;

/**
 * A template's placeholder left unfilled: printf's `%s` and `%(circuit_id)s`, Go's `%v`,
 * str.format's and f-string's `{circuit_id}`, Jinja's `{{ circuit_id }}`, a shell's `${CIRCUIT_ID}`
 * or `$CIRCUIT_ID`, Ruby's `#{circuit_id}`, Logstash's `%{circuit_id}`, a documentation's
 * `<circuit_id>`: a Flask app missing the X-Circuit-Id header logs one of them for every such
 * request, which were then one circuit. Tested only for a value starting with one
 * of % { $ # <, which no key value does otherwise: this runs for every key value of every span.
 */
const UNFILLED_TEMPLATE = /^(?:%[sdirfv]|%\([^)]*\)[sdirf]|\{\s*[\w.-]*\s*\}|\{\{[^}]*\}\}|[$#%]\{[^}]*\}|\$[A-Za-z_]\w*|<[\w.-]*>)$/;

/**
 * Why a string (trimmed) an alias names is no key value, or null when it is one. "." and ".." are
 * none: fetch, browsers and the Grafana data source resolve /api/circuits/.. (%2E%2E too) to
 * /api/, so such a circuit was listed and could not be asked for.
 */
export function keyStringProblem(v: string): string | null {
  if (v.length > MAX_KEY_VALUE_LENGTH) return `is ${keyLengthText(v)}, over the key limit of ${MAX_KEY_VALUE_LENGTH}`;
  if (v === '.' || v === '..') return `is ${JSON.stringify(v)}, a dot segment no URL path can name`;
  if (v.length <= LONGEST_NO_VALUE_WORD && NO_VALUE_WORDS.has(v.toLowerCase())) return `is ${JSON.stringify(v)}, a program's word for no value`;
  const first = v.charCodeAt(0);
  if ((first === 0x25 || first === 0x7b || first === 0x24 || first === 0x23 || first === 0x3c) && UNFILLED_TEMPLATE.test(v)) {
    return `is ${JSON.stringify(v)}, a template's placeholder left unfilled`;
  }
  const c = firstUnseenCharacter(v);
  if (c < 0) return null;
  return c < 0x20 || (c >= 0x7f && c <= 0x9f) ? 'has control characters' : `has an invisible character (U+${c.toString(16).toUpperCase().padStart(4, '0')})`;
}

/**
 * The first C0, DEL, C1 or invisible format character (soft hyphen, zero-width and direction
 * marks, word joiners, the byte order mark), or -1. A loop, not a regular expression: this runs
 * for every key value of every span, and the expression's test allocated ~130 bytes a span.
 */
function firstUnseenCharacter(v: string): number {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return c;
    if (c >= 0xad && (c === 0xad || (c >= 0x200b && c <= 0x200f) || (c >= 0x202a && c <= 0x202e) || (c >= 0x2060 && c <= 0x206f) || c === 0xfeff)) return c;
  }
  return -1;
}

/** The key value problem of a scalar attribute value an alias names, for a warning; null when there is none to report. */
export function keyValueProblem(v: AttrValue): string | null {
  if (typeof v === 'string') {
    const t = v.trim();
    return t.length > 0 ? keyStringProblem(t) : null;
  }
  return null;
}

/**
 * Checks the AnyValue at [start, end) as readAnyValue reads it (framing, the wire types it
 * expects, nesting within MAX_DEPTH, counted as it counts) without building it, throwing the
 * DecodeError readAnyValue would. Ingest keeps span attributes as bytes and decodes them only when
 * a view is built: a value ingest let through that the view then failed to read made its trace
 * and circuit answer 500 for good.
 */
export function checkAnyValue(r: WireReader, start: number, end: number, depth: number): void {
  if (depth > MAX_DEPTH) throw new DecodeError(NESTED_TOO_DEEP);
  const saveEnd = r.end;
  r.pos = start;
  r.end = end;
  try {
    while (r.pos < end) {
      const tag = r.tag();
      switch (tag >>> 3) {
        case 1:
          expectWire(tag, WIRE_LEN, 'AnyValue.string_value');
          r.delimitedStart();
          break;
        case 2:
          expectWire(tag, WIRE_VARINT, 'AnyValue.bool_value');
          r.uint32();
          break;
        case 3:
          expectWire(tag, WIRE_VARINT, 'AnyValue.int_value');
          r.uint32();
          break;
        case 4:
          expectWire(tag, WIRE_FIXED64, 'AnyValue.double_value');
          r.skip(WIRE_FIXED64);
          break;
        case 5: {
          expectWire(tag, WIRE_LEN, 'AnyValue.array_value');
          const s = r.delimitedStart();
          checkRepeated(r, s, r.pos, depth + 1, false);
          r.end = end;
          break;
        }
        case 6: {
          expectWire(tag, WIRE_LEN, 'AnyValue.kvlist_value');
          const s = r.delimitedStart();
          checkRepeated(r, s, r.pos, depth + 1, true);
          r.end = end;
          break;
        }
        case 7:
          expectWire(tag, WIRE_LEN, 'AnyValue.bytes_value');
          r.delimitedStart();
          break;
        default:
          r.skip(tag & 7);
      }
    }
  } finally {
    r.end = saveEnd;
    r.pos = end;
  }
}

/** An ArrayValue's values, or a KeyValueList's KeyValues (as readArray and readKeyValueList read them). */
function checkRepeated(r: WireReader, start: number, end: number, depth: number, keyValues: boolean): void {
  r.pos = start;
  r.end = end;
  while (r.pos < end) {
    const tag = r.tag();
    if (tag >>> 3 !== 1) r.skip(tag & 7);
    else if (keyValues) {
      // readKeyValueList skips a field 1 of another wire type; readArray refuses it.
      if ((tag & 7) !== WIRE_LEN) r.skip(tag & 7);
      else {
        const s = r.delimitedStart();
        checkKeyValue(r, s, r.pos, depth);
        r.end = end;
      }
    } else {
      expectWire(tag, WIRE_LEN, 'ArrayValue.values');
      const s = r.delimitedStart();
      checkAnyValue(r, s, r.pos, depth);
      r.end = end;
    }
  }
  r.pos = end;
}

/** A KeyValue as readKeyValueInto reads it at `depth`. */
export function checkKeyValue(r: WireReader, start: number, end: number, depth: number): void {
  r.pos = start;
  r.end = end;
  while (r.pos < end) {
    const tag = r.tag();
    const f = tag >>> 3;
    if (f === 1) {
      expectWire(tag, WIRE_LEN, 'KeyValue.key');
      r.delimitedStart();
    } else if (f === 2) {
      expectWire(tag, WIRE_LEN, 'KeyValue.value');
      const s = r.delimitedStart();
      checkAnyValue(r, s, r.pos, depth);
      r.end = end;
    } else r.skip(tag & 7);
  }
  r.pos = end;
}

/**
 * A value's size as MAX_ATTRIBUTE_VALUE_BYTES counts it: the UTF-8 bytes of its text (a string's
 * own bytes), the same for spans, logs and the JSON log batch whatever carried it.
 */
export function attributeValueBytes(v: AttrValue): number {
  return Buffer.byteLength(attrValueToText(v));
}

export function attrValueToText(v: AttrValue): string {
  if (typeof v === 'string') return v;
  if (v === null) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}
