// Taking the value an alias names as business key values. An array names one value per member: a
// bulk activation's span carries every circuit it activates, and belongs to each one's group, as a
// trace whose spans name several circuits does (TraceState.moreKeys).
import type { BusinessKeyName } from '@correlation-station/api-schema';
import { MAX_MORE_KEYS } from '../correlation/types.js';
import { attrValueToKeyString, keyValueProblem, type AttrValue } from './any-value.js';
import type { KeyValues } from './decoded.js';

/** An item's business keys as its attributes are read. */
export interface FoundKeys {
  /** The first value of each key. */
  keys: KeyValues | null;
  /**
   * Further values, as (key, value) pairs like TraceState.moreKeys, at most MAX_MORE_KEYS pairs.
   * Null unless an array named several: spans without one allocate nothing.
   */
  more: string[] | null;
}

/** Members of a refusal a warning lists by place; the rest are counted. */
const LISTED_MEMBERS = 3;

/**
 * Takes `value` as values of `key`, replacing those an earlier attribute gave it (the last wins,
 * as it always has for one value): a scalar as its one value, an array's members each as one.
 * Returns what the sender should hear of what was not taken (keyWarning words it), or null.
 */
export function takeKeyValue(found: FoundKeys, key: BusinessKeyName, value: AttrValue): string | null {
  if (Array.isArray(value)) return takeKeyArray(found, key, value);
  const v = attrValueToKeyString(value);
  if (v === null) return keyValueProblem(value);
  if (found.more !== null) found.more = pairsWithout(found.more, key);
  (found.keys ??= {})[key] = v;
  return null;
}

function takeKeyArray(found: FoundKeys, key: BusinessKeyName, items: readonly AttrValue[]): string | null {
  const others = (found.more && pairsWithout(found.more, key)) ?? [];
  // The first value goes to `keys`, so `room` further ones fit beside the other keys' pairs.
  const room = MAX_MORE_KEYS - others.length / 2;
  const values: string[] = [];
  const refused: string[] = [];
  let beyond = 0;
  for (let i = 0; i < items.length; i++) {
    const v = memberValue(items[i]!);
    if (v === null) refused.push(`[${i}] ${memberProblem(items[i]!)}`);
    else if (values.includes(v)) continue;
    else if (values.length > room) beyond++;
    else values.push(v);
  }
  if (values.length > 0) {
    (found.keys ??= {})[key] = values[0]!;
    for (let i = 1; i < values.length; i++) others.push(key, values[i]!);
    found.more = others.length > 0 ? others : null;
  }
  const problems: string[] = [];
  if (refused.length > 0) {
    const listed = refused.slice(0, LISTED_MEMBERS).join(', ');
    problems.push(refused.length > LISTED_MEMBERS ? `${listed} and ${refused.length - LISTED_MEMBERS} more` : listed);
  }
  if (beyond > 0) problems.push(`has ${beyond} more values than the ${MAX_MORE_KEYS} further key values an item names`);
  return problems.length > 0 ? problems.join('; ') : null;
}

/** A member as a single value is taken: a string (keyValueText) or a number. */
function memberValue(item: AttrValue): string | null {
  return typeof item === 'string' || typeof item === 'number' ? attrValueToKeyString(item) : null;
}

function memberProblem(item: AttrValue): string {
  if (typeof item !== 'string') return 'is not a string or a number';
  return keyValueProblem(item) ?? 'is empty';
}

/** The pairs of keys other than `key`, or null when there are none. */
function pairsWithout(pairs: readonly string[], key: BusinessKeyName): string[] | null {
  const out: string[] = [];
  for (let i = 0; i < pairs.length; i += 2) if (pairs[i] !== key) out.push(pairs[i]!, pairs[i + 1]!);
  return out.length > 0 ? out : null;
}

/**
 * The further values of an item whose own attributes win over its resource's: the resource's
 * pairs of keys the item does not name, then the item's, within MAX_MORE_KEYS pairs. Null when
 * there are none.
 */
export function moreOverResource(resourceMore: readonly string[] | null | undefined, own: FoundKeys): string[] | null {
  if (!resourceMore) return own.more;
  const out: string[] = [];
  for (let i = 0; i < resourceMore.length; i += 2) if (own.keys?.[resourceMore[i] as BusinessKeyName] === undefined) out.push(resourceMore[i]!, resourceMore[i + 1]!);
  if (own.more) for (const v of own.more) out.push(v);
  if (out.length > 2 * MAX_MORE_KEYS) out.length = 2 * MAX_MORE_KEYS;
  return out.length > 0 ? out : null;
}
