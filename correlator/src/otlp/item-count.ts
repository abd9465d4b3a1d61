// How many items (spans or log records) and resource and scope containers an OTLP request holds,
// counted before it is decoded, or for JSON before it is parsed, so a request over
// MAX_ITEMS_PER_REQUEST is refused before the work that grows with its items. Real exporters send
// a few thousand at most (the collector's batch processor 8,192, SDKs 512); 200,000 valid spans in
// one 10 MiB request held the event loop for 10 s, and 20 million `{}` in 60 MiB of JSON for
// minutes, most of it in JSON.parse.
import type { OtlpSignal } from './responses.js';
import { WIRE_LEN, WireReader, expectWire } from './wire-reader.js';

export interface ItemCount {
  /** Spans or log records; once over the limit, the count stops there. */
  items: number;
  /** Resource and scope containers, the same. */
  containers: number;
  /** Attributes, events, links and array or list values, the same; only where counted (JSON). */
  attributes?: number;
}

/**
 * Resource and scope containers a request of `limit` items may hold: each item may come in its own
 * resource and scope, as a request of one span does. At `limit` itself, MAX_ITEMS_PER_REQUEST=1
 * refused every request (RV18); only padding with empty containers goes past twice the items.
 */
export function containersAllowed(limit: number): number {
  return 2 * limit;
}

/** What MAX_ATTRIBUTES_PER_REQUEST counts, for the message. */
const ATTRIBUTES_COUNTED = 'attributes, events, links and array or key-value list members';

const ITEM_NAMES: Record<OtlpSignal, { items: string; resource: string; scope: string }> = {
  traces: { items: 'spans', resource: 'ResourceSpans', scope: 'ScopeSpans' },
  logs: { items: 'log records', resource: 'ResourceLogs', scope: 'ScopeLogs' },
};

/** The refusal's reason, naming the count and the setting, or null when the request is within it. */
export function itemLimitExceeded(signal: OtlpSignal, count: ItemCount, limit: number, attributeLimit = Infinity): string | null {
  const n = ITEM_NAMES[signal];
  if (count.items > limit) return `the request holds more than ${limit} ${n.items} (at least ${count.items}; limit MAX_ITEMS_PER_REQUEST); send them in smaller requests`;
  if (count.containers > containersAllowed(limit))
    return `the request holds more than ${containersAllowed(limit)} resource and scope containers (at least ${count.containers}; two for each of MAX_ITEMS_PER_REQUEST=${limit}); send them in smaller requests`;
  if (count.attributes !== undefined && count.attributes > attributeLimit)
    return `the request holds more than ${attributeLimit} ${ATTRIBUTES_COUNTED} (at least ${count.attributes}; limit MAX_ATTRIBUTES_PER_REQUEST); send them in smaller requests`;
  return null;
}

/**
 * Counts an export request's items in the protobuf encoding by their field tags, without decoding
 * them: field 1 of the request, field 2 of each resource container, field 2 of each scope
 * container. Stops once a count passes `limit`. A body the walk would find broken throws
 * DecodeError here already.
 */
export function countProtobufItems(buf: Uint8Array, signal: OtlpSignal, limit: number): ItemCount {
  const n = ITEM_NAMES[signal];
  const r = new WireReader(buf);
  let items = 0;
  let containers = 0;
  while (!r.done && items <= limit && containers <= containersAllowed(limit)) {
    const tag = r.tag();
    if (tag >>> 3 !== 1) {
      r.skip(tag & 7);
      continue;
    }
    if ((tag & 7) !== WIRE_LEN) expectWire(tag, WIRE_LEN, `request field 1 (${n.resource})`);
    const rs = r.delimitedStart();
    const re = r.pos;
    containers++;
    r.pos = rs;
    r.end = re;
    while (!r.done && items <= limit && containers <= containersAllowed(limit)) {
      const t = r.tag();
      if (t >>> 3 !== 2) {
        r.skip(t & 7);
        continue;
      }
      if ((t & 7) !== WIRE_LEN) expectWire(t, WIRE_LEN, `${n.resource} field 2`);
      const ss = r.delimitedStart();
      const se = r.pos;
      containers++;
      r.pos = ss;
      r.end = se;
      while (!r.done && items <= limit) {
        const i = r.tag();
        if (i >>> 3 === 2) {
          // Guarded: the message is a string built per item otherwise.
          if ((i & 7) !== WIRE_LEN) expectWire(i, WIRE_LEN, `${n.scope} field 2`);
          items++;
        }
        r.skip(i & 7);
      }
      r.pos = se;
      r.end = re;
    }
    r.pos = re;
    r.end = buf.length;
  }
  return { items, containers };
}

// The arrays whose members the normaliser builds and checks one by one, as it does items: one
// span of 2.6 million attributes (57 MiB of JSON) held the event loop for 5 to 9 seconds, most of
// it after JSON.parse. `values` holds an array's or a key-value list's members.
const ATTRIBUTE_KEYS = ['attributes', 'events', 'links', 'values'];

const JSON_KEYS: Record<OtlpSignal, JsonItemKeys> = {
  // The proto names too: the normaliser reads them as the camelCase ones.
  traces: { items: ['spans'], containers: ['resourceSpans', 'resource_spans', 'scopeSpans', 'scope_spans'], attributes: ATTRIBUTE_KEYS },
  logs: { items: ['logRecords', 'log_records'], containers: ['resourceLogs', 'resource_logs', 'scopeLogs', 'scope_logs'], attributes: ATTRIBUTE_KEYS },
};

const OBJECT = 0;
const ARRAY = 1;
const ITEM_ARRAY = 2;
const CONTAINER_ARRAY = 3;
const ATTRIBUTE_ARRAY = 4;
// Deep enough for a value of 32 nested key-value lists (four JSON levels each) under a span, so
// the members of the deepest are counted too.
const MAX_DEPTH = 160;

/**
 * Counts the elements of the arrays that hold items and containers in OTLP/JSON text, by a scan
 * of its structure (strings skipped whole, nothing built), at any depth: only a ScopeSpans has a
 * field named `spans`, and an unknown field of that name only counts against its own sender.
 * Stops once a count passes `limit`. Text that is not JSON is counted as far as it goes; the
 * parser refuses it afterwards. Given `attributeLimit`, attributes (ATTRIBUTE_KEYS) are counted
 * too, stopping once past it.
 */
export function countJsonItems(text: string, signal: OtlpSignal, limit: number, attributeLimit?: number): ItemCount {
  const keys = JSON_KEYS[signal];
  if (attributeLimit === undefined) return countJsonArrays(text, { items: keys.items, containers: keys.containers }, limit);
  return countJsonArrays(text, keys, limit, attributeLimit);
}

/** Which arrays hold items and containers, by the key that holds them. */
export interface JsonItemKeys {
  items: readonly string[];
  containers: readonly string[];
  /** Arrays whose members count as attributes (ItemCount.attributes); none when absent. */
  attributes?: readonly string[];
  /** Only arrays held by the outermost object count (a format whose items are not nested). */
  rootOnly?: boolean;
}

/** countJsonItems for any JSON format, by the keys of its item and container arrays. */
export function countJsonArrays(text: string, keys: JsonItemKeys, limit: number, attributeLimit = Infinity): ItemCount {
  const stack: number[] = [];
  // Levels past MAX_DEPTH are only counted: no OTLP field is that deep, and 60 MiB of `[` would
  // otherwise make a stack of 60 million entries.
  let deeper = 0;
  let items = 0;
  let containers = 0;
  let attributes = 0;
  const counted = (): ItemCount => (keys.attributes ? { items, containers, attributes } : { items, containers });
  // Whether the next value starts an element of the innermost array.
  let elementNext = false;
  let keyStart = -1;
  let keyEnd = -1;
  let stringStart = -1;
  let stringEnd = -1;
  const len = text.length;
  for (let i = 0; i < len && items <= limit && containers <= containersAllowed(limit) && attributes <= attributeLimit; i++) {
    const c = text.charCodeAt(i);
    // Whitespace, and the separators that are not a value.
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
    if (c === 0x3a /* : */) {
      keyStart = stringStart;
      keyEnd = stringEnd;
      continue;
    }
    if (c === 0x2c /* , */) {
      elementNext = deeper === 0 && stack.length > 0 && stack[stack.length - 1] !== OBJECT;
      continue;
    }
    if (c === 0x5d /* ] */ || c === 0x7d /* } */) {
      if (deeper > 0) deeper--;
      else stack.pop();
      elementNext = false;
      continue;
    }
    // A value starts here (or, in an object, a key).
    if (elementNext) {
      const top = stack[stack.length - 1];
      if (top === ITEM_ARRAY) items++;
      else if (top === CONTAINER_ARRAY) containers++;
      else if (top === ATTRIBUTE_ARRAY) attributes++;
      elementNext = false;
    }
    if (c === 0x22 /* " */) {
      let j = i + 1;
      for (;;) {
        const q = text.indexOf('"', j);
        if (q < 0) return counted();
        let slashes = 0;
        for (let k = q - 1; k > i && text.charCodeAt(k) === 0x5c; k--) slashes++;
        if (slashes % 2 === 0) {
          j = q;
          break;
        }
        j = q + 1;
      }
      stringStart = i + 1;
      stringEnd = j;
      i = j;
    } else if (deeper > 0 || (stack.length >= MAX_DEPTH && (c === 0x7b || c === 0x5b))) {
      if (c === 0x7b || c === 0x5b) deeper++;
    } else if (c === 0x7b /* { */) {
      stack.push(OBJECT);
    } else if (c === 0x5b /* [ */) {
      let kind = ARRAY;
      if (stack.length > 0 && stack[stack.length - 1] === OBJECT && keyStart >= 0 && (!keys.rootOnly || stack.length === 1)) {
        const key = keyAt(text, keyStart, keyEnd);
        if (keys.items.includes(key)) kind = ITEM_ARRAY;
        else if (keys.containers.includes(key)) kind = CONTAINER_ARRAY;
        else if (keys.attributes?.includes(key)) kind = ATTRIBUTE_ARRAY;
      }
      stack.push(kind);
      elementNext = true;
    }
    keyStart = -1;
  }
  return counted();
}

function keyAt(text: string, start: number, end: number): string {
  // Too long to be one of ours: not sliced (a key can be megabytes).
  if (end - start > 64) return '';
  const raw = text.slice(start, end);
  if (!raw.includes('\\')) return raw;
  try {
    // An escaped key ("sp\u0061ns") is the same field to the parser.
    return JSON.parse(`"${raw}"`) as string;
  } catch {
    return '';
  }
}
