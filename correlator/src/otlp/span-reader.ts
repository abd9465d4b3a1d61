// Full decoding of one stored span (its OTLP Span message bytes) for the query API.
import type { SpanKindName } from '@correlation-station/api-schema';
import { readKeyValueInto, readKeyValueList, setAttribute, type AttrMap } from './any-value.js';
import { bytesToHex } from './hex.js';
import { isBefore } from './item-times.js';
import {
  DecodeError,
  WIRE_FIXED64,
  WIRE_LEN,
  WIRE_VARINT,
  WireReader,
  durationMsFromParts,
  msFromParts,
  nanosFromParts,
  utf8,
} from './wire-reader.js';

export interface FullSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: SpanKindName;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  startTimeMs: number;
  durationMs: number;
  status: { code: 'unset' | 'ok' | 'error'; message?: string };
  attributes: AttrMap;
  events: { timeUnixNano: string; name: string; attributes: AttrMap }[];
  links: { traceId: string; spanId: string; attributes: AttrMap }[];
}

const KINDS: SpanKindName[] = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];
const STATUS: FullSpan['status']['code'][] = ['unset', 'ok', 'error'];

export function readFullSpan(bytes: Uint8Array): FullSpan {
  const r = new WireReader(bytes);
  const span: FullSpan = {
    traceId: '',
    spanId: '',
    parentSpanId: '',
    name: '',
    kind: 'unspecified',
    startTimeUnixNano: '0',
    endTimeUnixNano: '0',
    startTimeMs: 0,
    durationMs: 0,
    status: { code: 'unset' },
    attributes: {},
    events: [],
    links: [],
  };
  let start: [number, number] = [0, 0];
  let end: [number, number] = [0, 0];
  while (!r.done) {
    const tag = r.tag();
    const f = tag >>> 3;
    const w = tag & 7;
    if (f === 1 && w === WIRE_LEN) {
      const s = r.delimitedStart();
      const e = r.pos;
      span.traceId = bytesToHex(bytes, s, e);
    } else if (f === 2 && w === WIRE_LEN) {
      const s = r.delimitedStart();
      const e = r.pos;
      span.spanId = bytesToHex(bytes, s, e);
    } else if (f === 4 && w === WIRE_LEN) {
      const s = r.delimitedStart();
      const e = r.pos;
      span.parentSpanId = bytesToHex(bytes, s, e);
      if (/^0*$/.test(span.parentSpanId)) span.parentSpanId = '';
    } else if (f === 5 && w === WIRE_LEN) span.name = r.string();
    else if (f === 6 && w === WIRE_VARINT) span.kind = KINDS[r.uint32()] ?? 'unspecified';
    else if (f === 7 && w === WIRE_FIXED64) start = r.fixed64Parts();
    else if (f === 8 && w === WIRE_FIXED64) end = r.fixed64Parts();
    else if (f === 9 && w === WIRE_LEN) {
      const s = r.delimitedStart();
      const e = r.pos;
      readAttributeOrPlaceholder(r, s, e, span.attributes);
      r.end = bytes.length;
    } else if (f === 11 && w === WIRE_LEN) {
      const s = r.delimitedStart();
      const e = r.pos;
      span.events.push(unlessUnreadable(r, s, e, readEvent, message => ({ timeUnixNano: '0', name: unreadable('event', message), attributes: {} })));
      r.end = bytes.length;
    } else if (f === 13 && w === WIRE_LEN) {
      const s = r.delimitedStart();
      const e = r.pos;
      span.links.push(unlessUnreadable(r, s, e, readLinkFull, message => ({ traceId: '', spanId: '', attributes: { '(link)': unreadable('link', message) } })));
      r.end = bytes.length;
    } else if (f === 15 && w === WIRE_LEN) {
      const s = r.delimitedStart();
      const e = r.pos;
      span.status = unlessUnreadable(r, s, e, readStatus, message => ({ code: 'unset', message: unreadable('status', message) }));
      r.end = bytes.length;
    } else r.skip(w);
  }
  span.startTimeUnixNano = nanosFromParts(start[0], start[1]);
  // An end before the start (0 included) is no end the span had: shown as the start, as the
  // trace's summary and the extent have it, and as Grafana can draw it (item-times.ts).
  span.endTimeUnixNano = isBefore(end[0], end[1], start[0], start[1]) ? span.startTimeUnixNano : nanosFromParts(end[0], end[1]);
  span.startTimeMs = msFromParts(start[0], start[1]);
  span.durationMs = durationMsFromParts(start[0], start[1], end[0], end[1]);
  return span;
}

/**
 * What a view shows for a part of a span it cannot read. Ingest refuses such spans now, but spans
 * stored before it did are read by every view of their trace and circuit: a DecodeError there
 * made those answer 500 for good, where the rest of the span and view can still be shown.
 */
function unreadable(what: string, message: string): string {
  return `(${what} could not be read: ${message})`;
}

/** `read` of [start, end), or `placeholder` of its DecodeError; leaves `r.pos` at `end`. */
function unlessUnreadable<T>(
  r: WireReader,
  start: number,
  end: number,
  read: (r: WireReader, start: number, end: number) => T,
  placeholder: (message: string) => T,
): T {
  const saveEnd = r.end;
  try {
    return read(r, start, end);
  } catch (err) {
    if (!(err instanceof DecodeError)) throw err;
    return placeholder(err.message);
  } finally {
    r.end = saveEnd;
    r.pos = end;
  }
}

/** readKeyValueInto, or for a value it cannot read the key (as far as it can be found) with a placeholder. */
function readAttributeOrPlaceholder(r: WireReader, start: number, end: number, out: AttrMap): void {
  const saveEnd = r.end;
  try {
    readKeyValueInto(r, start, end, out);
  } catch (err) {
    if (!(err instanceof DecodeError)) throw err;
    setAttribute(out, keyOf(r.buf, start, end), unreadable('attribute value', err.message));
  } finally {
    r.end = saveEnd;
    r.pos = end;
  }
}

/** The key of a KeyValue whose value cannot be read, as far as its fields can be walked. */
function keyOf(buf: Uint8Array, start: number, end: number): string {
  const r = new WireReader(buf, start, end);
  let key = '';
  try {
    while (!r.done) {
      const tag = r.tag();
      if (tag >>> 3 === 1 && (tag & 7) === WIRE_LEN) {
        const s = r.delimitedStart();
        key = utf8(buf, s, r.pos);
      } else r.skip(tag & 7);
    }
  } catch {
    // The fields before the broken one are what there is.
  }
  return key;
}

function readEvent(r: WireReader, start: number, end: number): FullSpan['events'][number] {
  r.pos = start;
  r.end = end;
  const ev = { timeUnixNano: '0', name: '', attributes: {} as AttrMap };
  while (!r.done) {
    const tag = r.tag();
    const f = tag >>> 3;
    if (f === 1 && (tag & 7) === WIRE_FIXED64) {
      const [lo, hi] = r.fixed64Parts();
      ev.timeUnixNano = nanosFromParts(lo, hi);
    } else if (f === 2 && (tag & 7) === WIRE_LEN) ev.name = r.string();
    else if (f === 3 && (tag & 7) === WIRE_LEN) {
      const s = r.delimitedStart();
      const e = r.pos;
      readAttributeOrPlaceholder(r, s, e, ev.attributes);
      r.end = end;
    } else r.skip(tag & 7);
  }
  return ev;
}

function readLinkFull(r: WireReader, start: number, end: number): FullSpan['links'][number] {
  r.pos = start;
  r.end = end;
  const link = { traceId: '', spanId: '', attributes: {} as AttrMap };
  while (!r.done) {
    const tag = r.tag();
    const f = tag >>> 3;
    if ((f === 1 || f === 2) && (tag & 7) === WIRE_LEN) {
      const s = r.delimitedStart();
      const e = r.pos;
      if (f === 1) link.traceId = bytesToHex(r.buf, s, e);
      else link.spanId = bytesToHex(r.buf, s, e);
    } else if (f === 4 && (tag & 7) === WIRE_LEN) {
      const s = r.delimitedStart();
      const e = r.pos;
      readAttributeOrPlaceholder(r, s, e, link.attributes);
      r.end = end;
    } else r.skip(tag & 7);
  }
  return link;
}

function readStatus(r: WireReader, start: number, end: number): FullSpan['status'] {
  r.pos = start;
  r.end = end;
  let code = 0;
  let message = '';
  while (!r.done) {
    const tag = r.tag();
    if (tag >>> 3 === 3 && (tag & 7) === WIRE_VARINT) code = r.uint32();
    else if (tag >>> 3 === 2 && (tag & 7) === WIRE_LEN) message = r.string();
    else r.skip(tag & 7);
  }
  return message ? { code: STATUS[code] ?? 'unset', message } : { code: STATUS[code] ?? 'unset' };
}

export function readResourceAttributes(bytes: Uint8Array): AttrMap {
  if (bytes.length === 0) return {};
  return readKeyValueList(new WireReader(bytes), 0, bytes.length, 1);
}
