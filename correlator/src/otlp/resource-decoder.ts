import { attrValueToKeyString, readKeyValueList, type AttrMap } from './any-value.js';
import type { DecodedResourceScope, KeyExtractionRules, KeyValues } from './decoded.js';
import type { WireReader} from './wire-reader.js';
import { WIRE_LEN, expectWire } from './wire-reader.js';

const EMPTY = new Uint8Array(0);

export function keysFromAttributes(attrs: AttrMap, rules: KeyExtractionRules): KeyValues | null {
  let keys: KeyValues | null = null;
  for (const name in attrs) {
    const key = rules.aliases.get(name);
    if (key === undefined) continue;
    const v = attrValueToKeyString(attrs[name]!);
    if (v === null) continue;
    (keys ??= {})[key] = v;
  }
  return keys;
}

/** Decodes a Resource (attributes fully: there are few and they are shared by many spans). */
export function decodeResource(
  r: WireReader,
  range: [number, number] | null,
  rules: KeyExtractionRules,
): Pick<DecodedResourceScope, 'serviceName' | 'keys' | 'attributes' | 'resourceBytes'> {
  if (range === null) return { serviceName: 'unknown_service', keys: null, attributes: {}, resourceBytes: EMPTY };
  const attributes = readKeyValueList(r, range[0], range[1], 1);
  const sn = attributes['service.name'];
  return {
    serviceName: typeof sn === 'string' && sn ? sn : 'unknown_service',
    keys: keysFromAttributes(attributes, rules),
    attributes,
    resourceBytes: r.buf.subarray(range[0], range[1]),
  };
}

export function decodeScope(r: WireReader, range: [number, number] | null): { name: string; version: string } {
  if (range === null) return { name: '', version: '' };
  const save = r.end;
  r.pos = range[0];
  r.end = range[1];
  let name = '';
  let version = '';
  try {
    while (!r.done) {
      const tag = r.tag();
      if (tag >>> 3 === 1) {
        expectWire(tag, WIRE_LEN, 'InstrumentationScope.name');
        name = r.string();
      } else if (tag >>> 3 === 2) {
        expectWire(tag, WIRE_LEN, 'InstrumentationScope.version');
        version = r.string();
      } else r.skip(tag & 7);
    }
  } finally {
    r.end = save;
    r.pos = range[1];
  }
  return { name, version };
}

/**
 * Splits a ResourceSpans/ResourceLogs (or ScopeSpans/ScopeLogs) into its header field and its
 * repeated children, whatever order they arrived in. The children are [start, end) offsets back to
 * back in one array (child i at 2i and 2i + 1): a scope holds hundreds of spans, and a pair each
 * was an allocation per span.
 */
export function splitContainer(
  r: WireReader,
  start: number,
  end: number,
  headerField: number,
  childField: number,
  what: string,
): { header: [number, number] | null; children: number[] } {
  const save = r.end;
  r.pos = start;
  r.end = end;
  let header: [number, number] | null = null;
  const children: number[] = [];
  try {
    while (!r.done) {
      const tag = r.tag();
      const f = tag >>> 3;
      if (f === headerField) {
        expectWire(tag, WIRE_LEN, `${what} field ${headerField}`);
        header = r.delimited();
      } else if (f === childField) {
        expectWire(tag, WIRE_LEN, `${what} field ${childField}`);
        const childStart = r.delimitedStart();
        children.push(childStart, r.pos);
      } else r.skip(tag & 7);
    }
  } finally {
    r.end = save;
    r.pos = end;
  }
  return { header, children };
}
