// OTLP/JSON → OTLP protobuf. JSON differs from the proto3 canonical mapping: ids are hex, not
// base64; enums are integers; int64 may be strings. Each span (or log record) is converted on its
// own so one bad item is rejected alone, then the binary decoder does the rest, so both encodings
// share one code path.
import type { EntityRef } from '@correlation-station/api-schema';
import protobuf from 'protobufjs';
import { MAX_DEPTH, NESTED_TOO_DEEP } from './any-value.js';
import { hexToBytes, isZeroHex } from './hex.js';
import { noteRejection, noteWarning } from './decoded.js';
import { ItemRejected, containerRejection, serviceNote, type ItemPlaces } from './request-walker.js';
import { entityRefLeftOut, entityRefProblem, shownEntityRef } from './entity-refs.js';
import { otlpTypes } from './schema.js';
import { DecodeError } from './wire-reader.js';

export interface NormalisedJson {
  binary: Uint8Array;
  rejected: number;
  rejectionMessages: string[];
  /**
   * Where the items of `binary` were in the body, for the decoder's rejections to name the
   * client's places; null when nothing was left out, so every index is the body's.
   */
  places: ItemPlaces | null;
  /** Problems of what was kept, each naming its place (a malformed entity ref left out), at most MAX_REJECTION_MESSAGES. */
  warnings: string[];
  warned: number;
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function arrayField(o: Obj, name: string, where: string): unknown[] {
  const v = o[name];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new DecodeError(`${where}.${name} must be an array`);
  return v;
}

const UINT64 = /^\d{1,20}$/;
const INT64 = /^-?\d{1,19}$/;
const UINT64_MAX = 2n ** 64n - 1n;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Also in range: twenty digits can exceed 2^64 - 1, which protobufjs would wrap. */
function isUint64(v: unknown): boolean {
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 && v < 2 ** 64;
  return typeof v === 'string' && UINT64.test(v) && (v.length < 20 || BigInt(v) <= UINT64_MAX);
}

function isInt64(v: unknown): boolean {
  if (typeof v === 'number') return Number.isInteger(v) && Math.abs(v) < 2 ** 63;
  if (typeof v !== 'string' || !INT64.test(v)) return false;
  const n = BigInt(v);
  return n >= INT64_MIN && n <= INT64_MAX;
}

/**
 * protobufjs turns an int64 it cannot parse into 0, which would store a span at 1970 without a
 * word; OTLP/JSON int64s are checked here so the item is rejected naming the field instead.
 */
function checkUint64(o: Obj, name: string, where: string): void {
  const v = o[name];
  if (v === undefined || v === null || isUint64(v)) return;
  throw new ItemRejected(`${where}: ${name} ${JSON.stringify(v)?.slice(0, 60)} is not an unsigned 64-bit integer`);
}

/** Whether protobufjs takes `v` as a bytes field's base64: the check it makes, so none of its "invalid encoding" errors is left to reach a client without a name. */
function isBase64(v: string): boolean {
  try {
    protobuf.util.base64.decode(v, new Uint8Array(protobuf.util.base64.length(v)), 0);
    return true;
  } catch {
    return false;
  }
}

/** A double as the proto3 JSON mapping writes one in a string: a number, or one of its names. */
const DOUBLE_TEXT = /^(?:NaN|-?Infinity|[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)$/;

/**
 * What each AnyValue field must be in JSON (proto3's JSON mapping). protobufjs takes anything and
 * converts it: `"false"` became `true`, `{}` the text "[object Object]" (a circuit of that name),
 * `"abc"` NaN, a number for bytes nothing at all, each answered 200 without a word (RV17).
 */
const holdsList = (x: unknown) => isObj(x) && (x.values === undefined || x.values === null || Array.isArray(x.values));
const ANY_VALUE_FIELDS: Record<string, [test: (x: unknown) => boolean, expected: string]> = {
  stringValue: [x => typeof x === 'string', 'a string'],
  boolValue: [x => typeof x === 'boolean', 'true or false'],
  intValue: [isInt64, 'a 64-bit integer'],
  doubleValue: [x => typeof x === 'number' || (typeof x === 'string' && DOUBLE_TEXT.test(x)), 'a number'],
  // What protobufjs takes as base64, so none of its "invalid encoding" errors reaches a client unnamed.
  bytesValue: [x => typeof x === 'string' && isBase64(x), 'base64'],
  arrayValue: [holdsList, 'an object whose values are a list'],
  kvlistValue: [holdsList, 'an object whose values are a list'],
};

const shown = (x: unknown) => JSON.stringify(x)?.slice(0, 60) ?? String(x);

/**
 * Checks the values protobufjs would misread (int64s, values of the wrong JSON type) or refuse
 * without naming them (base64 bytes), naming the place and the attribute (the nearest enclosing
 * `key`) of a bad one.
 */
function checkValues(v: unknown, where: string, depth = 0, attribute: string | null = null): void {
  if (depth > 32 || v === null || typeof v !== 'object') return;
  if (Array.isArray(v)) {
    v.forEach((x, i) => checkValues(x, `${where}[${i}]`, depth + 1, attribute));
    return;
  }
  const o = v as Obj;
  if (o.key !== undefined && o.key !== null && typeof o.key !== 'string') throw new ItemRejected(`${where}: key ${shown(o.key)} is not a string`);
  const name = typeof o.key === 'string' ? o.key : attribute;
  const of = name === null ? '' : `attribute ${JSON.stringify(name.slice(0, 80))} `;
  // A KeyValue's value, which protobufjs refused as ".opentelemetry.proto.KeyValue.value: object expected".
  if (typeof o.key === 'string' && o.value !== undefined && o.value !== null && !isObj(o.value))
    throw new ItemRejected(`${where}: ${of}value ${shown(o.value)} is not an object (an AnyValue)`);
  let set: string | null = null;
  for (const [k, x] of Object.entries(o)) {
    const field = ANY_VALUE_FIELDS[k];
    if (!field) {
      checkValues(x, `${where}.${k}`, depth + 1, name);
      continue;
    }
    if (x === null || x === undefined) continue;
    // One of a oneof: with two, protobufjs kept one of them without a word.
    if (set !== null) throw new ItemRejected(`${where}: ${of}value has both ${set} and ${k}: a value is one of them`);
    set = k;
    // The JS SDK writes every whole number as intValue, 1e20 and Number.MAX_VALUE too: its
    // protobuf form of them is stored, and past int64 a JSON number can only be the double it was.
    if (k === 'intValue' && typeof x === 'number' && Number.isInteger(x) && !isInt64(x)) {
      delete o.intValue;
      o.doubleValue = x;
      continue;
    }
    if (!field[0](x)) throw new ItemRejected(`${where}: ${of}${k} ${shown(x)} is not ${field[1]}`);
    if (k === 'arrayValue' || k === 'kvlistValue') checkValues(x, `${where}.${k}`, depth + 1, name);
  }
}

/**
 * A string field (a span's name, a log's severity text) as the proto3 JSON mapping has it:
 * protobufjs made text of anything, a number, an object's "[object Object]".
 */
function checkString(o: Obj, name: string, where: string): void {
  const v = o[name];
  if (v !== undefined && v !== null && typeof v !== 'string') throw new ItemRejected(`${where}: ${name} ${shown(v)} is not a string`);
}

/**
 * Rejects an AnyValue nested deeper than the binary reader reads (MAX_DEPTH, counted as it counts,
 * `depth` being the level the value is read at): encoding one for that reader threw protobufjs's
 * "max depth exceeded" for the whole request, a 500, not a rejection of its item.
 */
function checkValueDepth(v: unknown, where: string, depth: number): void {
  if (!isObj(v)) return;
  if (depth > MAX_DEPTH) throw new ItemRejected(`${where} ${NESTED_TOO_DEEP}`);
  const array = v.arrayValue ?? v.array_value;
  if (isObj(array) && Array.isArray(array.values)) for (const x of array.values) checkValueDepth(x, where, depth + 1);
  const list = v.kvlistValue ?? v.kvlist_value;
  if (isObj(list) && Array.isArray(list.values)) for (const kv of list.values) if (isObj(kv)) checkValueDepth(kv.value, where, depth + 1);
}

/** checkValueDepth for each KeyValue of an attribute list, read at level 0 as a log body is. */
function checkAttributeDepths(attributes: unknown, where: string): void {
  if (!Array.isArray(attributes)) return;
  for (const kv of attributes) {
    if (isObj(kv)) checkValueDepth(kv.value, `${where}: attribute ${JSON.stringify(String(kv.key)).slice(0, 200)}`, 0);
  }
}

const SPAN_KINDS = enumNames('SPAN_KIND_', ['UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER']);
const STATUS_CODES = enumNames('STATUS_CODE_', ['UNSET', 'OK', 'ERROR']);
const SEVERITY_NUMBERS = enumNames('SEVERITY_NUMBER_', [
  'UNSPECIFIED',
  ...['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'].flatMap(level => [level, `${level}2`, `${level}3`, `${level}4`]),
]);

function enumNames(prefix: string, names: string[]): Map<string, number> {
  return new Map(names.map((n, i) => [`${prefix}${n}`, i]));
}

/**
 * An enum as the number protobufjs takes: OTLP/JSON sends integers, the proto3 JSON mapping
 * names, and some clients integers as strings, which protobufjs read as 0 (an unset kind, an
 * unset status) without a word. An unknown name rejects the item, naming it.
 */
function enumField(o: Obj, name: string, names: Map<string, number>, what: string, where: string): void {
  const v = o[name];
  // A fraction was read as 0, an unset kind or status, without a word (RV17).
  if (v === undefined || v === null || (typeof v === 'number' && Number.isInteger(v))) return;
  if (typeof v === 'string') {
    if (/^-?\d{1,10}$/.test(v)) {
      o[name] = Number(v);
      return;
    }
    const n = names.get(v);
    if (n !== undefined) {
      o[name] = n;
      return;
    }
  }
  throw new ItemRejected(`${where}: ${name} ${JSON.stringify(v)?.slice(0, 60)} is not a ${what}`);
}

/**
 * Field names in camelCase. OTLP/JSON uses the lowerCamelCase names; the proto3 JSON mapping
 * also accepts the .proto's own (resource_spans, trace_id), and protobufjs reads only the first:
 * a request in proto names was answered 200 and stored nothing. Objects without such names are
 * returned as they are; OTLP has no map fields, so every object key is a field name.
 */
export function camelCaseFieldNames(v: unknown, depth = 0): unknown {
  if (depth > 64 || v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) {
    let out: unknown[] | null = null;
    for (let i = 0; i < v.length; i++) {
      const c = camelCaseFieldNames(v[i], depth + 1);
      if (c !== v[i]) (out ??= v.slice())[i] = c;
    }
    return out ?? v;
  }
  const src = v as Obj;
  let out: Obj | null = null;
  for (const k of Object.keys(src)) {
    const x = src[k];
    const c = camelCaseFieldNames(x, depth + 1);
    const name = /^[a-z][a-z0-9]*(?:_[a-z0-9]+)+$/.test(k) ? k.replace(/_([a-z0-9])/g, (_, ch: string) => ch.toUpperCase()) : k;
    if (name === k && c === x) continue;
    out ??= { ...src };
    if (name !== k) {
      delete out[k];
      // A message that names a field both ways keeps the camelCase one.
      if (!Object.prototype.hasOwnProperty.call(src, name)) out[name] = c;
    } else out[k] = c;
  }
  return out ?? v;
}

/** The items under a header that cannot be converted: each is rejected with the header's reason. */
function countItems(container: unknown, scopesField: string, itemsField: string): number {
  if (!isObj(container) || !Array.isArray(container[scopesField])) return 0;
  return (container[scopesField] as unknown[]).reduce<number>(
    (n, s) => n + (isObj(s) && Array.isArray(s[itemsField]) ? (s[itemsField] as unknown[]).length : 0),
    0,
  );
}

function idField(o: Obj, name: string, bytes: number, required: boolean, where: string): void {
  const v = o[name];
  if (v === undefined || v === null || v === '') {
    if (required) throw new ItemRejected(`${where}: ${name} is missing`);
    delete o[name];
    return;
  }
  if (typeof v !== 'string') throw new ItemRejected(`${where}: ${name} must be a hex string`);
  const b = hexToBytes(v, bytes);
  if (!b) throw new ItemRejected(`${where}: ${name} "${v.slice(0, 80)}" is not ${bytes * 2} hex characters`);
  if (required && isZeroHex(v)) throw new ItemRejected(`${where}: ${name} is all zeroes`);
  o[name] = b;
}

const isZeroId = (id: unknown): boolean => id instanceof Uint8Array && id.every(b => b === 0);

function convertItem(type: protobuf.Type, item: unknown, prepare: (o: Obj) => void, where: string): protobuf.Message {
  if (!isObj(item)) throw new ItemRejected(`${where} must be an object`);
  const copy: Obj = { ...item };
  try {
    prepare(copy);
  } catch (e) {
    // A malformed part of one item (events that are not an array) rejects that item alone.
    if (e instanceof DecodeError) throw new ItemRejected(e.message);
    throw e;
  }
  try {
    return type.fromObject(copy);
  } catch (e) {
    throw new ItemRejected(`${where}: ${(e as Error).message}`);
  }
}

/**
 * A resource or scope header as protobufjs's message. `leftOut`, given for a resource, gets what
 * was left out of it (entityRefs), each named by its place.
 */
function convertHeader(type: protobuf.Type, v: unknown, where: string, leftOut?: string[]): protobuf.Message | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObj(v)) throw new DecodeError(`${where} must be an object`);
  // A scope's name and version as an item's strings are checked (a resource has neither): its
  // items are rejected, as for a bad attribute of it.
  checkString(v, 'name', where);
  checkString(v, 'version', where);
  checkValues(v.attributes, `${where}.attributes`);
  checkAttributeDepths(v.attributes, where);
  const problems: string[] = [];
  let message: protobuf.Message;
  try {
    message = type.fromObject(leftOut ? withWellFormedEntityRefs(v, problems) : v);
  } catch (e) {
    throw new DecodeError(`${where}: ${(e as Error).message}`);
  }
  // Only for a header that is kept: one rejected has its items' rejection said instead.
  if (problems.length > 0) leftOut?.push(...problems.map(p => `${where}${serviceOf(v)}: ${p}`));
  return message;
}

/** ` (service "name")` when the resource names its service (serviceNote). */
function serviceOf(resource: Obj): string {
  const attributes = Array.isArray(resource.attributes) ? resource.attributes : [];
  const service = attributes.find(kv => isObj(kv) && kv.key === 'service.name');
  return serviceNote(isObj(service) && isObj(service.value) ? service.value.stringValue : undefined);
}

/** The keys of a resource's attributes, for its entity refs to be checked against. */
function attributeKeys(resource: Obj): Set<string> {
  const attributes = Array.isArray(resource.attributes) ? resource.attributes : [];
  return new Set(attributes.flatMap(kv => (isObj(kv) && typeof kv.key === 'string' ? [kv.key] : [])));
}

const isStringList = (v: unknown): boolean => v === undefined || v === null || (Array.isArray(v) && v.every(k => typeof k === 'string'));
const isOptionalString = (v: unknown): boolean => v === undefined || v === null || typeof v === 'string';

/** What makes an entity ref one protobufjs cannot take as it is; null when it is well formed. */
function entityRefShapeProblem(ref: unknown): string | null {
  if (!isObj(ref)) return 'is not an object';
  for (const field of ['type', 'schemaUrl'] as const) if (!isOptionalString(ref[field])) return `${field} is not a string`;
  for (const field of ['idKeys', 'descriptionKeys'] as const) if (!isStringList(ref[field])) return `${field} is not a list of strings`;
  return null;
}

/** A well-formed ref as the protobuf path reads it back: absent fields are empty. */
function asEntityRef(ref: Obj): EntityRef {
  const text = (v: unknown) => (typeof v === 'string' ? v : '');
  const list = (v: unknown) => (Array.isArray(v) ? (v as string[]) : []);
  const schemaUrl = text(ref.schemaUrl);
  return { type: text(ref.type), ...(schemaUrl ? { schemaUrl } : {}), idKeys: list(ref.idKeys), descriptionKeys: list(ref.descriptionKeys) };
}

/**
 * A resource's entity refs (OTLP 1.x), kept as they came when well formed and allowed by the spec
 * (entityRefProblem, as the decoder checks them for protobuf). The correlator only lists them, so
 * one that is not is left out rather than costing the resource its items, as it did when the field
 * was unknown to our schema; `problems` says which and why, for the sender.
 */
function withWellFormedEntityRefs(v: Obj, problems: string[]): Obj {
  const refs = v.entityRefs;
  if (refs === undefined || refs === null) return v;
  if (!Array.isArray(refs)) {
    problems.push(`entityRefs is not a list: left out`);
    return { ...v, entityRefs: [] };
  }
  let keys: Set<string> | undefined;
  const kept = refs.filter((ref, i) => {
    const shapeProblem = entityRefShapeProblem(ref);
    if (shapeProblem) {
      problems.push(entityRefLeftOut(i, JSON.stringify(ref) ?? '', shapeProblem));
      return false;
    }
    const read = asEntityRef(ref as Obj);
    keys ??= attributeKeys(v);
    const problem = entityRefProblem(read, key => keys!.has(key));
    if (problem) problems.push(entityRefLeftOut(i, shownEntityRef(read), problem));
    return problem === null;
  });
  return kept.length === refs.length ? v : { ...v, entityRefs: kept };
}

/**
 * Notes the items of a container whose header was rejected, one message for all, as the decoder
 * notes a resource or scope it rejects (containerRejection); returns null in its place.
 */
function rejectContainer(out: NormalisedJson, e: unknown, items: number, itemsName: string): null {
  if (!(e instanceof ItemRejected)) throw e;
  if (items > 0) noteRejection(out, containerRejection(e.message, items, itemsName), items);
  return null;
}

/** An item left out of the re-encoded request: counted, and its message kept. */
function rejectItem(out: NormalisedJson, e: unknown): void {
  if (!(e instanceof ItemRejected)) throw e;
  noteRejection(out, e.message);
}

/** The field names and types of one signal's export request, for normaliseRequest. */
interface RequestShape {
  request: protobuf.Type;
  /** For the refusal of a body that is no object. */
  requestName: string;
  resources: string;
  scopes: string;
  items: string;
  item: protobuf.Type;
}

/**
 * The walk both signals' requests share: resources, then scopes, then items, each item converted
 * with `prepareItem` (its checks, given the item's place) or rejected alone; a resource or scope
 * that cannot be converted rejects its items and keeps its place (places).
 */
function normaliseRequest(json: unknown, shape: RequestShape, prepareItem: (o: Obj, where: string) => void): NormalisedJson {
  const t = otlpTypes();
  const body = camelCaseFieldNames(json);
  if (!isObj(body)) throw new DecodeError(`request body must be a JSON object (${shape.requestName})`);
  const out: NormalisedJson = { binary: new Uint8Array(0), rejected: 0, rejectionMessages: [], places: null, warnings: [], warned: 0 };
  const leftOut: string[] = [];
  const places: ItemPlaces = { resources: [], items: [] };
  const resources = arrayField(body, shape.resources, 'request').map((rs, i) => {
    const where = `${shape.resources}[${i}]`;
    if (!isObj(rs)) throw new DecodeError(`${where} must be an object`);
    let resource: protobuf.Message | undefined;
    try {
      resource = convertHeader(t.Resource, rs.resource, `${where}.resource`, leftOut);
    } catch (e) {
      return rejectContainer(out, e, countItems(rs, shape.scopes, shape.items), shape.items);
    }
    const kept: number[][] = [];
    places.resources.push(i);
    places.items.push(kept);
    return {
      resource,
      schemaUrl: typeof rs.schemaUrl === 'string' ? rs.schemaUrl : '',
      [shape.scopes]: arrayField(rs, shape.scopes, where).map((ss, j) => {
        const sw = `${where}.${shape.scopes}[${j}]`;
        if (!isObj(ss)) throw new DecodeError(`${sw} must be an object`);
        const items: protobuf.Message[] = [];
        const keptItems: number[] = [];
        kept.push(keptItems);
        let scope: protobuf.Message | undefined;
        try {
          scope = convertHeader(t.InstrumentationScope, ss.scope, `${sw}.scope`);
        } catch (e) {
          // The scope stays, empty, so the places of the scopes after it are the body's.
          const list = ss[shape.items];
          rejectContainer(out, e, Array.isArray(list) ? list.length : 0, shape.items);
          return { [shape.items]: items };
        }
        arrayField(ss, shape.items, sw).forEach((item, k) => {
          const iw = `${sw}.${shape.items}[${k}]`;
          try {
            items.push(convertItem(shape.item, item, o => prepareItem(o, iw), iw));
            keptItems.push(k);
          } catch (e) {
            rejectItem(out, e);
          }
        });
        return { scope, [shape.items]: items };
      }),
    };
  });
  for (const message of leftOut) noteWarning(out, message);
  out.binary = shape.request.encode(shape.request.fromObject({ [shape.resources]: resources.filter(r => r !== null) })).finish();
  if (out.rejected > 0) out.places = places;
  return out;
}

export function normaliseTraceJson(json: unknown): NormalisedJson {
  const t = otlpTypes();
  const shape = {
    request: t.ExportTraceServiceRequest,
    requestName: 'ExportTraceServiceRequest',
    resources: 'resourceSpans',
    scopes: 'scopeSpans',
    items: 'spans',
    item: t.Span,
  };
  return normaliseRequest(json, shape, (o, spw) => {
    idField(o, 'traceId', 16, true, spw);
    idField(o, 'spanId', 8, true, spw);
    idField(o, 'parentSpanId', 8, false, spw);
    enumField(o, 'kind', SPAN_KINDS, 'SpanKind', spw);
    checkString(o, 'name', spw);
    checkString(o, 'traceState', spw);
    if (isObj(o.status)) {
      o.status = { ...o.status };
      enumField(o.status as Obj, 'code', STATUS_CODES, 'StatusCode', `${spw}.status`);
      checkString(o.status as Obj, 'message', `${spw}.status`);
    }
    checkUint64(o, 'startTimeUnixNano', spw);
    checkUint64(o, 'endTimeUnixNano', spw);
    arrayField(o, 'events', spw).forEach((ev, ei) => {
      if (!isObj(ev)) return;
      checkUint64(ev, 'timeUnixNano', `${spw}.events[${ei}]`);
      checkString(ev, 'name', `${spw}.events[${ei}]`);
    });
    // Named as sent, not by protobufjs's ".opentelemetry.proto.Span.attributes: array expected".
    arrayField(o, 'attributes', spw);
    checkValues(o.attributes, `${spw}.attributes`);
    checkValues(o.events, `${spw}.events`);
    checkAttributeDepths(o.attributes, spw);
    arrayField(o, 'events', spw).forEach((ev, ei) => {
      if (isObj(ev)) checkAttributeDepths(ev.attributes, `${spw}.events[${ei}]`);
    });
    arrayField(o, 'links', spw).forEach((l, li) => {
      if (!isObj(l)) return;
      // A link's attributes as a span's: RV19 found them left to protobufjs's conversions.
      arrayField(l, 'attributes', `${spw}.links[${li}]`);
      checkValues(l.attributes, `${spw}.links[${li}].attributes`);
      checkString(l, 'traceState', `${spw}.links[${li}]`);
      checkAttributeDepths(l.attributes, `${spw}.links[${li}]`);
    });
    // A link without a valid context (ids missing or all zero) says nothing about
    // another trace: dropped, as the protobuf path ignores it. Malformed ids reject the span.
    o.links = arrayField(o, 'links', spw).flatMap((l, li) => {
      if (!isObj(l)) throw new ItemRejected(`${spw}.links[${li}] must be an object`);
      const lc = { ...l };
      idField(lc, 'traceId', 16, false, `${spw}.links[${li}]`);
      idField(lc, 'spanId', 8, false, `${spw}.links[${li}]`);
      return lc.traceId === undefined || lc.spanId === undefined || isZeroId(lc.traceId) || isZeroId(lc.spanId) ? [] : [lc];
    });
  });
}

export function normaliseLogsJson(json: unknown): NormalisedJson {
  const t = otlpTypes();
  const shape = {
    request: t.ExportLogsServiceRequest,
    requestName: 'ExportLogsServiceRequest',
    resources: 'resourceLogs',
    scopes: 'scopeLogs',
    items: 'logRecords',
    item: t.LogRecord,
  };
  return normaliseRequest(json, shape, (o, rw) => {
    idField(o, 'traceId', 16, false, rw);
    idField(o, 'spanId', 8, false, rw);
    enumField(o, 'severityNumber', SEVERITY_NUMBERS, 'SeverityNumber', rw);
    checkString(o, 'severityText', rw);
    checkString(o, 'eventName', rw);
    checkUint64(o, 'timeUnixNano', rw);
    checkUint64(o, 'observedTimeUnixNano', rw);
    arrayField(o, 'attributes', rw);
    checkValues(o.attributes, `${rw}.attributes`);
    checkValues(o.body, `${rw}.body`);
    checkAttributeDepths(o.attributes, rw);
    checkValueDepth(o.body, `${rw}: body`, 0);
  });
}
