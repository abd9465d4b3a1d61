// The shape both OTLP export requests share: repeated Resource{Spans,Logs} (resource = 1,
// scope containers = 2), each with repeated Scope{Spans,Logs} (scope = 1, items = 2).
import type { DecodedResourceScope, KeyExtractionRules } from './decoded.js';
import { decodeResource, decodeScope, splitContainer, type ResourcePart } from './resource-decoder.js';
import { bytesToHex, isAllZero, sameBytes } from './hex.js';
import { ItemRejected } from './item-rejected.js';
import { DecodeError, WIRE_LEN, WireReader, expectWire } from './wire-reader.js';

export { ItemRejected };

/**
 * A trace or span id field of an item as lowercase hex. A wrong length rejects the item; an empty
 * or all-zero id is '' where the id is optional (parents, log correlation) and rejects it otherwise.
 */
export function readItemId(r: WireReader, len: number, what: string, optional: boolean): string {
  const s = r.delimitedStart();
  return idAt(r.buf, s, r.pos, len, what, optional);
}

function idAt(buf: Uint8Array, s: number, e: number, len: number, what: string, optional: boolean): string {
  if (e - s === 0 && optional) return '';
  if (e - s !== len) throw new ItemRejected(`${what} must be ${len} bytes, got ${e - s}`);
  if (isAllZero(buf, s, e)) {
    if (optional) return '';
    throw new ItemRejected(`${what} is all zeroes`);
  }
  return bytesToHex(buf, s, e);
}

/**
 * The last id a request's items carried in one field, by position in the request body. Items of one
 * trace mostly come together, and handing them the same string (rather than an equal one made
 * again) spares making it and lets each map keyed by the id reuse its cached hash.
 */
export interface IdMemo {
  at: number;
  id: string;
}

export function newIdMemo(): IdMemo {
  return { at: -1, id: '' };
}

/** As readItemId, for a required id: the memo's string when the bytes are the memo's bytes. */
export function readRepeatedId(r: WireReader, len: number, what: string, memo: IdMemo): string {
  const s = r.delimitedStart();
  const e = r.pos;
  const buf = r.buf;
  if (e - s === len && memo.at >= 0 && sameBytes(buf, s, buf, memo.at, len)) return memo.id;
  const id = idAt(buf, s, e, len, what, false);
  memo.at = s;
  memo.id = id;
  return id;
}

export interface WalkNames {
  request: string;
  resourceContainer: string;
  scopeContainer: string;
  /** The item's place as OTLP JSON names it, `resourceSpans`, `scopeSpans`, `spans`: a rejection says which item it was. */
  path: readonly [resources: string, scopes: string, items: string];
}

/**
 * Where the items of a re-encoded request were in the body the client sent. The JSON normaliser
 * leaves out the items (and resources) it rejects, so an item's index in the re-encoding can be
 * another item's in the body, and a rejection must name the place the client can look up.
 */
export interface ItemPlaces {
  /** The body's index of each resource container the re-encoding kept. */
  resources: number[];
  /** For each kept resource and each of its scopes, the body's index of each item kept. */
  items: number[][][];
}

/** An item's place as the client sent it: `places` maps the re-encoding's indices back, null when `buf` is the body itself. */
function itemPlace(path: WalkNames['path'], places: ItemPlaces | null, ri: number, si: number, ii: number): string {
  const [resources, scopes, items] = path;
  if (places === null) return `${resources}[${ri}].${scopes}[${si}].${items}[${ii}]`;
  return `${resources}[${places.resources[ri]}].${scopes}[${si}].${items}[${places.items[ri]?.[si]?.[ii]}]`;
}

/**
 * The one message for the items of a resource or scope rejected for its own fault (`message`
 * names its place and what is wrong), by the decoder or the JSON normaliser alike.
 */
export function containerRejection(message: string, count: number, itemsName: string): string {
  return `${message} (rejects its ${count} ${itemsName})`;
}

/**
 * A resource container's place as the client sent it, as itemPlace. A scope keeps its index in the
 * re-encoding (the normaliser leaves a rejected scope in place, empty), so only the resource's maps.
 */
function resourcePlace(path: WalkNames['path'], places: ItemPlaces | null, ri: number): string {
  return `${path[0]}[${places === null ? ri : places.resources[ri]}]`;
}

/** ` (service "name")` when a resource names its service: a place alone is hard to find in a collector's batch. */
export function serviceNote(serviceName: unknown): string {
  return typeof serviceName === 'string' && serviceName !== '' ? ` (service ${JSON.stringify(serviceName.slice(0, 200))})` : '';
}

/**
 * Calls `decodeItem` for every span or log record with its resource and scope. Structural errors
 * outside an item throw DecodeError (the whole request is bad); errors inside one item go to
 * `reject`, prefixed with the item's place, and the walk goes on. The message is made only when
 * asked for: a request can reject every one of its items, and only a few are reported. A resource
 * or scope that is well-framed but invalid (an attribute the views could not read, a size over a
 * limit) rejects the items under it, one message for all (`count`). `warn` reports a problem of an
 * item that is kept (what decodeItem pushed to its `warnings`), prefixed with its place as a
 * rejection is.
 */
export function walkExportRequest(
  buf: Uint8Array,
  rules: KeyExtractionRules,
  names: WalkNames,
  decodeItem: (r: WireReader, start: number, end: number, resource: DecodedResourceScope, warnings: string[]) => void,
  reject: (message: () => string, count: number) => void,
  places: ItemPlaces | null,
  warn: (message: string) => void = () => {},
): void {
  const r = new WireReader(buf);
  const containers: [number, number][] = [];
  while (!r.done) {
    const tag = r.tag();
    if (tag >>> 3 === 1) {
      expectWire(tag, WIRE_LEN, names.request);
      containers.push(r.delimited());
    } else r.skip(tag & 7);
  }
  // What decodeItem says of the item it kept, prefixed here with the item's place: passing the
  // decoder a function that knew the place made the loop's indices a closure's, slower to reach.
  const [, scopes, itemsName] = names.path;
  const said: string[] = [];
  const tell = (place: string) => {
    for (const message of said) warn(`${place}: ${message}`);
    said.length = 0;
  };
  const refsSaid: string[] = [];
  for (let ri = 0; ri < containers.length; ri++) {
    const [rs, re] = containers[ri]!;
    const { header, children } = splitContainer(r, rs, re, 1, 2, names.resourceContainer);
    const scopeSplits: { header: [number, number] | null; children: number[] }[] = [];
    for (let c = 0; c < children.length; c += 2) scopeSplits.push(splitContainer(r, children[c]!, children[c + 1]!, 1, 2, names.scopeContainer));
    const place = `${resourcePlace(names.path, places, ri)}.resource`;
    let resource: ResourcePart;
    try {
      resource = decodeResource(r, header, rules, said, refsSaid);
      if (said.length > 0) tell(place);
      // Named with the resource's service, as the JSON normaliser names the refs it leaves out.
      for (const message of refsSaid) warn(`${place}${serviceNote(resource.attributes['service.name'])}: ${message}`);
      refsSaid.length = 0;
    } catch (err) {
      if (!(err instanceof ItemRejected || err instanceof DecodeError)) throw err;
      said.length = 0;
      refsSaid.length = 0;
      const count = scopeSplits.reduce((n, split) => n + split.children.length / 2, 0);
      if (count > 0) reject(() => containerRejection(`${place}: ${err.message}`, count, itemsName), count);
      continue;
    }
    for (let c = 0; c < children.length; c += 2) {
      const scopeSplit = scopeSplits[c / 2]!;
      const items = scopeSplit.children;
      let scope;
      try {
        scope = decodeScope(r, scopeSplit.header, rules);
      } catch (err) {
        if (!(err instanceof ItemRejected || err instanceof DecodeError)) throw err;
        const count = items.length / 2;
        if (count > 0) reject(() => containerRejection(`${resourcePlace(names.path, places, ri)}.${scopes}[${c / 2}].scope: ${err.message}`, count, itemsName), count);
        continue;
      }
      const rsc: DecodedResourceScope = { ...resource, scopeName: scope.name, scopeVersion: scope.version };
      for (let i = 0; i < items.length; i += 2) {
        try {
          decodeItem(r, items[i]!, items[i + 1]!, rsc, said);
          if (said.length > 0) tell(itemPlace(names.path, places, ri, c / 2, i / 2));
        } catch (err) {
          if (!(err instanceof ItemRejected || err instanceof DecodeError)) throw err;
          said.length = 0;
          reject(() => `${itemPlace(names.path, places, ri, c / 2, i / 2)}: ${err.message}`, 1);
        }
      }
    }
  }
}
