// Full decoding of one stored span (its OTLP Span message bytes) for the query API.
import type { SpanKindName } from '@correlation-station/api-schema';
import { readKeyValueInto, readKeyValueList, type AttrMap } from './any-value.js';
import { bytesToHex } from './hex.js';
import { WIRE_FIXED64, WIRE_LEN, WIRE_VARINT, WireReader, durationMsFromParts, msFromParts, nanosFromParts } from './wire-reader.js';

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
      readKeyValueInto(r, s, e, span.attributes);
      r.end = bytes.length;
    } else if (f === 11 && w === WIRE_LEN) {
      const s = r.delimitedStart();
      const e = r.pos;
      span.events.push(readEvent(r, s, e));
      r.end = bytes.length;
    } else if (f === 13 && w === WIRE_LEN) {
      const s = r.delimitedStart();
      const e = r.pos;
      span.links.push(readLinkFull(r, s, e));
      r.end = bytes.length;
    } else if (f === 15 && w === WIRE_LEN) {
      const s = r.delimitedStart();
      const e = r.pos;
      span.status = readStatus(r, s, e);
      r.end = bytes.length;
    } else r.skip(w);
  }
  span.startTimeUnixNano = nanosFromParts(start[0], start[1]);
  span.endTimeUnixNano = nanosFromParts(end[0], end[1]);
  span.startTimeMs = msFromParts(start[0], start[1]);
  span.durationMs = durationMsFromParts(start[0], start[1], end[0], end[1]);
  return span;
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
      readKeyValueInto(r, s, e, ev.attributes);
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
      readKeyValueInto(r, s, e, link.attributes);
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
