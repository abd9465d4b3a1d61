import { readKeyValueList, type AttrMap } from './any-value.js';
import { checkAttributes, checkNameLength } from './attribute-checks.js';
import { canonicalResource } from './canonical-resource.js';
import { refsLeftOut } from './entity-refs.js';
import type { DecodedResourceScope, KeyExtractionRules } from './decoded.js';
import { takeKeyValue, type FoundKeys } from './found-keys.js';
import { nameTextProblem } from './item-limits.js';
import { ItemRejected } from './item-rejected.js';
import type { WireReader} from './wire-reader.js';
import { WIRE_LEN, expectWire, utf8 } from './wire-reader.js';

const EMPTY = new Uint8Array(0);

/**
 * Takes the business keys the attributes name into `found`, over what it holds (takeKeyValue).
 * `warnings` gets a value an alias names that is no key (too long, control characters), or an
 * array's members that are none: the item is kept, and without a word it would just have no
 * circuit.
 */
export function keysFromAttributes(attrs: AttrMap, rules: KeyExtractionRules, found: FoundKeys, warnings?: string[]): FoundKeys {
  for (const name in attrs) {
    const key = rules.aliases.get(name);
    if (key === undefined) continue;
    const problem = takeKeyValue(found, key, attrs[name]!);
    if (problem && warnings) warnings.push(keyWarning(name, key, problem));
  }
  return found;
}

export function keyWarning(attribute: string, key: string, problem: string): string {
  return `attribute "${attribute.slice(0, 200)}" value ${problem}: kept, but not taken as the ${key}`;
}

/** What a Resource gives the items under it, beside their scope. */
export type ResourcePart = Pick<DecodedResourceScope, 'serviceName' | 'keys' | 'moreKeys' | 'attributes' | 'resourceBytes'>;

/**
 * Decodes a Resource (attributes fully: there are few and they are shared by many spans). Throws
 * ItemRejected or DecodeError for one its items cannot be stored with: an attribute over a limit
 * or that cannot be read, a service.name over the name limit (it is listed everywhere). An entity
 * ref the spec does not allow is left out of the stored form, and `refWarnings` told why.
 */
export function decodeResource(
  r: WireReader,
  range: [number, number] | null,
  rules: KeyExtractionRules,
  warnings?: string[],
  refWarnings?: string[],
): ResourcePart {
  if (range === null) return { serviceName: 'unknown_service', keys: null, moreKeys: null, attributes: {}, resourceBytes: EMPTY };
  checkAttributes(r, range[0], range[1], 1, rules, 'resource', -1);
  const attributes = readKeyValueList(r, range[0], range[1], 1);
  const sn = attributes['service.name'];
  if (typeof sn === 'string') {
    const problem = nameTextProblem('resource attribute "service.name" value', sn, rules.maxNameBytes);
    if (problem) throw new ItemRejected(problem);
  }
  const found = keysFromAttributes(attributes, rules, { keys: null, more: null }, warnings);
  const leftOut = refsLeftOut(r.buf, range[0], range[1], key => Object.hasOwn(attributes, key));
  if (leftOut) refWarnings?.push(...leftOut.problems);
  return {
    serviceName: typeof sn === 'string' && sn ? sn : 'unknown_service',
    keys: found.keys,
    moreKeys: found.more,
    attributes,
    // The same resource from any encoder is the same bytes, stored once (canonical-resource.ts).
    resourceBytes: canonicalResource(r.buf, range[0], range[1], leftOut?.fields),
  };
}

/** The scope's name and version; throws as decodeResource does for a name or an attribute its items cannot be stored with. */
export function decodeScope(r: WireReader, range: [number, number] | null, rules: KeyExtractionRules): { name: string; version: string } {
  if (range === null) return { name: '', version: '' };
  checkAttributes(r, range[0], range[1], 3, rules, 'scope', -1);
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
        const s = r.delimitedStart();
        checkNameLength(s, r.pos, rules, 'scope name');
        name = utf8(r.buf, s, r.pos);
      } else if (tag >>> 3 === 2) {
        expectWire(tag, WIRE_LEN, 'InstrumentationScope.version');
        const s = r.delimitedStart();
        checkNameLength(s, r.pos, rules, 'scope version');
        version = utf8(r.buf, s, r.pos);
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
        if ((tag & 7) !== WIRE_LEN) expectWire(tag, WIRE_LEN, `${what} field ${headerField}`);
        header = r.delimited();
      } else if (f === childField) {
        // Guarded: the message is a string built per span or log record otherwise.
        if ((tag & 7) !== WIRE_LEN) expectWire(tag, WIRE_LEN, `${what} field ${childField}`);
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
