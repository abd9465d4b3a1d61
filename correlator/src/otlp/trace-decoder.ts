// Decodes an OTLP ExportTraceServiceRequest into what correlation and storage need. A structurally
// broken body throws DecodeError (answered 400); a span that is well-framed but invalid (bad ids,
// oversized attribute) is rejected alone and reported through partial_success.
import { readAnyValue } from './any-value.js';
import { checkAttribute, checkNameLength, isPlainScalar, keyPreview } from './attribute-checks.js';
import {
  noteRejection,
  noteWarning,
  type DecodedResourceScope,
  type DecodedSpan,
  type DecodedTraceBatch,
  type KeyExtractionRules,
  type SpanLinkRef,
} from './decoded.js';
import { isExportedBridgeScope } from '../stitching/bridge-identity.js';
import { destinationOf, isCallKind, noDestinationFound, noteDestinationAt, type DestinationFound } from './call-destination.js';
import { bytesToHex, isAllZero } from './hex.js';
import { moreOverResource, takeKeyValue, type FoundKeys } from './found-keys.js';
import { keyWarning } from './resource-decoder.js';
import { ItemRejected, newIdMemo, readItemId, readRepeatedId, walkExportRequest, type IdMemo, type ItemPlaces, type WalkNames } from './request-walker.js';
import type {
  WireReader} from './wire-reader.js';
import {
  WIRE_FIXED64,
  WIRE_LEN,
  WIRE_VARINT,
  expectWire,
  msFromParts,
  utf8,
} from './wire-reader.js';
import { endWarning, isBefore, isKnownEnd, isKnownTime, startRefusal, withEndAtStart } from './item-times.js';


const TRACE_REQUEST: WalkNames = {
  request: 'ExportTraceServiceRequest.resource_spans',
  resourceContainer: 'ResourceSpans',
  scopeContainer: 'ScopeSpans',
  path: ['resourceSpans', 'scopeSpans', 'spans'],
};

/**
 * `nowMs`: when it arrived, which its spans' times are judged by (item-times.ts). `places`: where
 * the items of `buf` were in the client's body, when `buf` is a re-encoding of it that left items out.
 */
export function decodeTraceRequest(buf: Uint8Array, rules: KeyExtractionRules, nowMs = Date.now(), places: ItemPlaces | null = null): DecodedTraceBatch {
  const batch: DecodedTraceBatch = { spans: [], rejected: 0, rejectionMessages: [], warnings: [], warned: 0, exportedBridges: 0 };
  const traceIds = newIdMemo();
  // One for the request, emptied before each span: one a span would be an allocation per span.
  const found: FoundKeys = { keys: null, more: null };
  const destination = noDestinationFound();
  walkExportRequest(
    buf,
    rules,
    TRACE_REQUEST,
    (r, s, e, resource, warnings) => {
      // Taken as spans, they were a service of the circuit, and their links to the child traces
      // counted as trace context, which is never bridged: the circuit lost the very bridges.
      if (isExportedBridgeScope(resource.serviceName, resource.scopeName)) batch.exportedBridges++;
      else {
        found.keys = null;
        found.more = null;
        destination.attribute = -1;
        batch.spans.push(decodeSpan(r, s, e, resource, rules, nowMs, traceIds, found, destination, warnings));
      }
    },
    (message, count) => noteRejection(batch, message, count),
    places,
    message => noteWarning(batch, message),
  );
  return batch;
}

function decodeSpan(
  r: WireReader,
  start: number,
  end: number,
  resource: DecodedResourceScope,
  rules: KeyExtractionRules,
  nowMs: number,
  traceIds: IdMemo,
  /** Empty: the span's own keys are taken into it. */
  found: FoundKeys,
  /** Empty: where the span's destination attribute is, if it has one. */
  destination: DestinationFound,
  warnings: string[],
): DecodedSpan {
  const save = r.end;
  r.pos = start;
  r.end = end;
  let traceId = '';
  let spanId = '';
  let parentSpanId = '';
  let name = '';
  let kind = 0;
  let startLo = 0;
  let startHi = 0;
  let startAt = -1;
  let endLo = 0;
  let endHi = 0;
  let endAt = -1;
  let statusCode = 0;
  let links: SpanLinkRef[] | null = null;
  let events = 0;
  let linkCount = 0;
  try {
    while (!r.done) {
      const tag = r.tag();
      switch (tag >>> 3) {
        case 1:
          expectWire(tag, WIRE_LEN, 'Span.trace_id');
          traceId = readRepeatedId(r, 16, 'trace_id', traceIds);
          break;
        case 2:
          expectWire(tag, WIRE_LEN, 'Span.span_id');
          spanId = readItemId(r, 8, 'span_id', false);
          break;
        case 4:
          expectWire(tag, WIRE_LEN, 'Span.parent_span_id');
          parentSpanId = readItemId(r, 8, 'parent_span_id', true);
          break;
        case 5: {
          expectWire(tag, WIRE_LEN, 'Span.name');
          const s = r.delimitedStart();
          checkNameLength(s, r.pos, rules, 'span name');
          name = utf8(r.buf, s, r.pos);
          break;
        }
        case 6:
          expectWire(tag, WIRE_VARINT, 'Span.kind');
          kind = r.uint32();
          break;
        case 7:
          expectWire(tag, WIRE_FIXED64, 'Span.start_time_unix_nano');
          startAt = r.pos;
          startLo = r.fixed32();
          startHi = r.fixed32();
          break;
        case 8:
          expectWire(tag, WIRE_FIXED64, 'Span.end_time_unix_nano');
          endAt = r.pos;
          endLo = r.fixed32();
          endHi = r.fixed32();
          break;
        case 9: {
          expectWire(tag, WIRE_LEN, 'Span.attributes');
          const s = r.delimitedStart();
          const e = r.pos;
          const d = readAttributeForKeys(r, s, e, rules, found, warnings);
          if (d >= 0) noteDestinationAt(r, s, e, d, destination);
          r.end = end;
          break;
        }
        case 11: {
          expectWire(tag, WIRE_LEN, 'Span.events');
          const s = r.delimitedStart();
          checkEvent(r, s, r.pos, rules, events++);
          r.end = end;
          break;
        }
        case 13: {
          expectWire(tag, WIRE_LEN, 'Span.links');
          const s = r.delimitedStart();
          const e = r.pos;
          const link = readLink(r, s, e, rules, linkCount++);
          r.end = end;
          if (link) (links ??= []).push(link);
          break;
        }
        case 15: {
          expectWire(tag, WIRE_LEN, 'Span.status');
          const s = r.delimitedStart();
          const e = r.pos;
          statusCode = readStatusCode(r, s, e);
          r.end = end;
          break;
        }
        default:
          r.skip(tag & 7);
      }
    }
  } finally {
    r.end = save;
    r.pos = end;
  }
  if (!traceId) throw new ItemRejected(`span "${namePreview(name)}" has no trace_id`);
  if (!spanId) throw new ItemRejected(`span "${namePreview(name)}" in trace ${traceId} has no span_id`);
  // Taken at 1970, it was outside every time range and gone at the next retention sweep; taken
  // years ahead, it was never gone; taken from a clock not yet set, it dated its trace from then
  // (item-times.ts). Judged before the end, so no end, unknown or not, lets such a start be stored.
  if (!isKnownTime(startLo, startHi, nowMs)) {
    throw new ItemRejected(`span "${namePreview(name)}" in trace ${traceId} ${startRefusal(startLo, startHi, endLo, endHi)}`);
  }
  if (kind > MAX_SPAN_KIND) {
    // Every view reads it as unspecified (span-reader.ts); the sender is told, and the engine takes
    // it as the views do, so no rule treats it as a call or an entry the views do not show. The enum
    // is an int32: -1 comes as 2^32 - 1 from the uint32 read.
    warnings.push(`span "${namePreview(name)}" in trace ${traceId}: kind ${kind | 0} is not an OTLP span kind (0–5): taken as unspecified`);
    kind = 0;
  }
  if (statusCode > MAX_STATUS_CODE) {
    // As the kind: every view reads it as unset (span-reader.ts), and a failure sent as 7 was
    // stored as no failure without a word (RV17).
    warnings.push(`span "${namePreview(name)}" in trace ${traceId}: status code ${statusCode | 0} is not an OTLP status code (0–2): taken as unset`);
    statusCode = 0;
  }
  const startMs = msFromParts(startLo, startHi);
  let endMs = msFromParts(endLo, endHi);
  let bytes = r.buf.subarray(start, end);
  const before = isBefore(endLo, endHi, startLo, startHi);
  if (before || !isKnownEnd(startMs, endMs, nowMs)) {
    warnings.push(`span "${namePreview(name)}" in trace ${traceId}: ${endWarning(startLo, startHi, endLo, endHi)}`);
    // An end before the start is shown as the start by every view as it reads the bytes; an
    // unknown one only the extent knows of, so the stored bytes say it.
    if (!before) bytes = withEndAtStart(bytes, startAt - start, endAt - start);
    endMs = startMs;
  }
  let keys = found.keys;
  if (resource.keys) keys = keys ? { ...resource.keys, ...keys } : resource.keys;
  const moreKeys = resource.moreKeys ? moreOverResource(resource.moreKeys, found) : found.more;
  return {
    traceId,
    spanId,
    parentSpanId,
    name,
    kind,
    startMs,
    endMs,
    statusCode,
    keys,
    moreKeys,
    links,
    bytes,
    resource,
    synthetic: false,
    // Read only for calls, once the span is known to be one: an attribute may come before the kind.
    destination: isCallKind(kind) ? destinationOf(r.buf, destination) : null,
  };
}

/** A span name as a rejection message quotes it: up to MAX_NAME_BYTES is a long line, five times over. */
function namePreview(name: string): string {
  return name.length > NAME_PREVIEW_CHARS ? `${name.slice(0, NAME_PREVIEW_CHARS)}… (${name.length} characters)` : name;
}

const NAME_PREVIEW_CHARS = 200;
/** STATUS_CODE_ERROR, the last of OTLP's status codes. */
const MAX_STATUS_CODE = 2;

/** SPAN_KIND_CONSUMER, the last of OTLP's span kinds. */
const MAX_SPAN_KIND = 5;

/**
 * Reads one KeyValue; decodes the value only when the key is a business-key alias, taking it into
 * `found`. Checks it as the view will read it (checkAttributeRanges), and says so when an alias
 * names a value that is no key. Returns which attribute naming a call's destination it is (an
 * index of DESTINATION_ATTRIBUTES), or -1: noted by the caller, so that this loop, run for every
 * attribute of every span, stays small enough to have the alias match inlined.
 */
function readAttributeForKeys(
  r: WireReader,
  start: number,
  end: number,
  rules: KeyExtractionRules,
  found: FoundKeys,
  warnings: string[],
): number {
  r.pos = start;
  r.end = end;
  let keyStart = -1;
  let keyEnd = -1;
  let valStart = -1;
  let valEnd = -1;
  // Whether the attribute needs checkAttribute's full walk: anything but one key and one plain
  // scalar value. Kept out of this loop, which runs for every attribute of every span: grown by
  // the checks, it no longer had the alias match inlined, a tenth of decoding.
  let unusual = false;
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === 0x0a) {
      keyStart = r.delimitedStart();
      keyEnd = r.pos;
    } else if (tag === 0x12) {
      unusual ||= valStart >= 0;
      valStart = r.delimitedStart();
      valEnd = r.pos;
      unusual ||= !isPlainScalar(r.buf, valStart, valEnd);
    } else {
      // Field 1 or 2 of another wire type: the full walk refuses it, as the view's reader would.
      unusual ||= tag >>> 3 <= 2;
      r.skip(tag & 7);
    }
  }
  if (unusual || keyEnd - keyStart > rules.maxNameBytes || valEnd - valStart > rules.maxAttributeValueBytes) {
    checkAttribute(r, start, end, rules, '', -1);
  }
  if (keyStart < 0 || valStart < 0) return -1;
  const alias = rules.aliases.match(r.buf, keyStart, keyEnd);
  if (alias === undefined) return -1;
  if (typeof alias === 'number') return alias;
  const value = readAnyValue(r, valStart, valEnd);
  // readAnyValue leaves the reader at the value's end, and the key may come after the value.
  r.pos = end;
  const problem = takeKeyValue(found, alias, value);
  if (problem) warnings.push(keyWarning(keyPreview(r.buf, keyStart, keyEnd), alias, problem));
  return -1;
}

/** An event as the view's reader reads it: its name against the name limit, its attributes checked. */
function checkEvent(r: WireReader, start: number, end: number, rules: KeyExtractionRules, index: number): void {
  r.pos = start;
  r.end = end;
  while (r.pos < end) {
    const tag = r.tag();
    const f = tag >>> 3;
    const w = tag & 7;
    if (f === 2 && w === WIRE_LEN) {
      const s = r.delimitedStart();
      // Guarded: the label is a string built per event otherwise.
      if (r.pos - s > rules.maxNameBytes) checkNameLength(s, r.pos, rules, `events[${index}] name`);
    } else if (f === 3 && w === WIRE_LEN) {
      const s = r.delimitedStart();
      const e = r.pos;
      checkAttribute(r, s, e, rules, 'events', index);
      r.end = end;
    } else r.skip(w);
  }
}

function readLink(r: WireReader, start: number, end: number, rules: KeyExtractionRules, index: number): SpanLinkRef | null {
  r.pos = start;
  r.end = end;
  let traceId = '';
  let spanId = '';
  while (!r.done) {
    const tag = r.tag();
    const f = tag >>> 3;
    if ((f === 1 || f === 2) && (tag & 7) === WIRE_LEN) {
      const s = r.delimitedStart();
      const e = r.pos;
      // A link without a context (empty or zero ids) is ignored; ids of a wrong length are
      // malformed and reject the span, as in OTLP/JSON.
      const len = f === 1 ? 16 : 8;
      if (e - s !== 0 && e - s !== len) throw new ItemRejected(`link ${f === 1 ? 'trace_id' : 'span_id'} must be ${len} bytes, got ${e - s}`);
      if (e - s === len && !isAllZero(r.buf, s, e)) {
        if (f === 1) traceId = bytesToHex(r.buf, s, e);
        else spanId = bytesToHex(r.buf, s, e);
      }
    } else if ((tag >>> 3) === 4 && (tag & 7) === WIRE_LEN) {
      const s = r.delimitedStart();
      const e = r.pos;
      checkAttribute(r, s, e, rules, 'links', index);
      r.end = end;
    } else r.skip(tag & 7);
  }
  return traceId && spanId ? { traceId, spanId } : null;
}

function readStatusCode(r: WireReader, start: number, end: number): number {
  r.pos = start;
  r.end = end;
  let code = 0;
  while (!r.done) {
    const tag = r.tag();
    if (tag >>> 3 === 3 && (tag & 7) === WIRE_VARINT) code = r.uint32();
    else r.skip(tag & 7);
  }
  return code;
}
