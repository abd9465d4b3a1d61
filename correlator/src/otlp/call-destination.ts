// Where an outgoing call went, as its span's attributes say (OpenTelemetry semantic conventions):
// the remote service's name (`peer.service`), or the host it reached (`server.address`, the older
// `net.peer.name`, or the host of `url.full` / the older `http.url`). The bridge planner hangs a
// bridge from the call that names the child's service (stitching/bridge-planner.ts); without it,
// a later call to an unrelated service was taken instead. Ingest (trace-decoder.ts) and the
// store's reload of a trace (span bytes read back) both read it here, so both find the same one.
import { readAnyValue } from './any-value.js';
import { sameBytes } from './hex.js';
import { DecodeError, WIRE_LEN, WIRE_VARINT, WireReader, utf8 } from './wire-reader.js';

export interface CallDestination {
  /** Lower-cased: service names and hosts are matched without regard to case. */
  name: string;
  /** A host (matched as the service's name or a name under it), not a service's own name. */
  isHost: boolean;
}

/** The attributes, most telling first: a span with several is taken at the first it has. */
export const DESTINATION_ATTRIBUTES = ['peer.service', 'server.address', 'net.peer.name', 'url.full', 'http.url'] as const;
const PEER_SERVICE = 0;
const FIRST_URL = 3;
const [PEER_SERVICE_BYTES, SERVER_ADDRESS_BYTES, NET_PEER_NAME_BYTES, URL_FULL_BYTES, HTTP_URL_BYTES] = DESTINATION_ATTRIBUTES.map(name =>
  Buffer.from(name, 'latin1'),
) as [Buffer, Buffer, Buffer, Buffer, Buffer];

/**
 * A name longer than this is no destination kept: a DNS name has at most 253 characters, and hot
 * state holds each trace's destinations for as long as it holds the trace.
 */
export const MAX_DESTINATION_CHARS = 256;

/**
 * Which destination attribute the key `buf[start, end)` is (an index of DESTINATION_ATTRIBUTES),
 * or -1. For a stored span's bytes; ingest finds them with the business keys (alias-matcher.ts).
 */
export function destinationAttribute(buf: Uint8Array, start: number, end: number): number {
  // Its length and first byte rule out nearly every other key before any comparison.
  const first = buf[start];
  switch (end - start) {
    case 8:
      if (first === 0x75) return sameBytes(URL_FULL_BYTES, 0, buf, start, 8) ? 3 : -1;
      return first === 0x68 && sameBytes(HTTP_URL_BYTES, 0, buf, start, 8) ? 4 : -1;
    case 12:
      return first === 0x70 && sameBytes(PEER_SERVICE_BYTES, 0, buf, start, 12) ? 0 : -1;
    case 13:
      return first === 0x6e && sameBytes(NET_PEER_NAME_BYTES, 0, buf, start, 13) ? 2 : -1;
    case 14:
      return first === 0x73 && sameBytes(SERVER_ADDRESS_BYTES, 0, buf, start, 14) ? 1 : -1;
    default:
      return -1;
  }
}

/** The most telling destination attribute a span has so far, and where its value (an AnyValue) is. */
export interface DestinationFound {
  attribute: number;
  valueStart: number;
  valueEnd: number;
}

export function noDestinationFound(): DestinationFound {
  return { attribute: -1, valueStart: 0, valueEnd: 0 };
}

/**
 * Notes destination attribute `attribute`, the KeyValue at `[start, end)`, in `found` unless a more
 * telling one is there (of one name, the last counts); leaves `r.pos` at `end`.
 */
export function noteDestinationAt(r: WireReader, start: number, end: number, attribute: number, found: DestinationFound): void {
  r.pos = start;
  r.end = end;
  while (!r.done) {
    const tag = r.tag();
    if (tag !== VALUE_TAG) {
      r.skip(tag & 7);
      continue;
    }
    const valueStart = r.delimitedStart();
    if (found.attribute >= 0 && found.attribute < attribute) continue;
    found.attribute = attribute;
    found.valueStart = valueStart;
    found.valueEnd = r.pos;
  }
}

/** The destination `found` points at in `buf`, or null when its value is no usable name. */
export function destinationOf(buf: Uint8Array, found: DestinationFound): CallDestination | null {
  if (found.attribute < 0) return null;
  const value = stringValue(buf, found.valueStart, found.valueEnd);
  if (value === null) return null;
  const name = (found.attribute >= FIRST_URL ? urlHost(value) : value).trim().toLowerCase();
  if (name === '' || name.length > MAX_DESTINATION_CHARS) return null;
  return { name, isHost: found.attribute !== PEER_SERVICE };
}

/** The AnyValue at `[start, end)` if it is a string. */
function stringValue(buf: Uint8Array, start: number, end: number): string | null {
  // As SDKs write it, one string_value field that fills the value: read without a reader.
  if (buf[start] === 0x0a && buf[start + 1]! < 0x80 && start + 2 + buf[start + 1]! === end) return utf8(buf, start + 2, end);
  const value = readAnyValue(new WireReader(buf), start, end);
  return typeof value === 'string' ? value : null;
}

/** The host of an absolute URL (no user, no port), or '' when it has none. */
export function urlHost(url: string): string {
  const scheme = url.indexOf('://');
  if (scheme < 0) return '';
  const from = scheme + 3;
  let to = from;
  while (to < url.length && url[to] !== '/' && url[to] !== '?' && url[to] !== '#') to++;
  const user = url.lastIndexOf('@', to - 1);
  const authority = url.slice(user >= from ? user + 1 : from, to);
  // A bracketed IPv6 address has colons of its own; it names no service anyway.
  const port = authority.startsWith('[') ? authority.indexOf(']') + 1 : authority.indexOf(':');
  return port <= 0 ? authority : authority.slice(0, port);
}

/**
 * The destination of a stored span (its OTLP Span bytes) if it is an outgoing call (client or
 * producer), as ingest found it; null for bytes it cannot read (spans stored before ingest refused
 * what views cannot read): a trace read back must load whatever its spans hold.
 */
export function storedCallDestination(span: Uint8Array): CallDestination | null {
  const r = new WireReader(span);
  const found = noDestinationFound();
  let kind = 0;
  try {
    while (!r.done) {
      const tag = r.tag();
      if (tag === ((6 << 3) | WIRE_VARINT)) kind = r.uint32();
      else if (tag === ((9 << 3) | WIRE_LEN)) {
        const s = r.delimitedStart();
        noteAttribute(r, s, r.pos, found);
      } else r.skip(tag & 7);
    }
    return isCallKind(kind) ? destinationOf(span, found) : null;
  } catch (err) {
    if (err instanceof DecodeError) return null;
    throw err;
  }
}

/** Client and producer spans: calls out of their trace, the spans that can name a destination. */
export function isCallKind(kind: number): boolean {
  return kind === 3 || kind === 4;
}

/** Notes the KeyValue at `[start, end)` in `found` if it is a destination attribute; leaves `r` at `end`. */
function noteAttribute(r: WireReader, start: number, end: number, found: DestinationFound): void {
  const saveEnd = r.end;
  r.pos = start;
  r.end = end;
  let attribute = -1;
  while (!r.done) {
    const tag = r.tag();
    if (tag === KEY_TAG) {
      const s = r.delimitedStart();
      attribute = destinationAttribute(r.buf, s, r.pos);
    } else r.skip(tag & 7);
  }
  if (attribute >= 0) noteDestinationAt(r, start, end, attribute, found);
  r.end = saveEnd;
}

/** KeyValue.key and KeyValue.value, as the wire tags them. */
const KEY_TAG = (1 << 3) | WIRE_LEN;
const VALUE_TAG = (2 << 3) | WIRE_LEN;
