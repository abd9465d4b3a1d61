import { keyValueText, type AttrMap } from './any-value.js';
import type { DecodedResourceScope, KeyExtractionRules, KeyValues } from './decoded.js';
import { MAX_MORE_KEYS } from '../correlation/types.js';
import type { FoundKeys } from './found-keys.js';
import { keysFromAttributes } from './resource-decoder.js';

export interface LogKeys extends FoundKeys {
  /**
   * The (key, value) pairs of `keys` and `more` found only by the patterns over the body text, as
   * pairs like `more`: mentions, not the line's fields.
   */
  textValues: string[] | null;
}

/** Matches of one pattern read from one body: a body is at most 256 KiB, and this bounds the loop. */
const MAX_TEXT_MATCHES = 1024;

/**
 * Keys of a log line: resource attributes, then the entries of a structured (key-value list) body,
 * then record attributes, then patterns over the body text (MDSO writes `resource_id=<uuid>
 * circuit_id=<id>` into message text). Attributes win over text. A structured body is what
 * structured loggers send: as JSON text, `"circuit_id":"X"` matches no pattern.
 */
export function extractLogKeys(
  body: string,
  attributes: AttrMap,
  resource: Pick<DecodedResourceScope, 'keys' | 'moreKeys'> | null,
  rules: KeyExtractionRules,
  bodyEntries: AttrMap | null = null,
  warnings?: string[],
): LogKeys {
  // Copies: a later source replaces the resource's values of a key it names (takeKeyValue).
  const found: LogKeys = {
    keys: resource?.keys ? { ...resource.keys } : null,
    more: resource?.moreKeys ? [...resource.moreKeys] : null,
    textValues: null,
  };
  if (bodyEntries) keysFromAttributes(bodyEntries, rules, found);
  keysFromAttributes(attributes, rules, found, warnings);
  if (body) textKeys(body, rules, found);
  return found;
}

/**
 * The values the patterns find in the text, for the keys no field named: every distinct one, in
 * the patterns' order, then the text's, as an attribute array names several (a line about two
 * circuits is listed under both). The first is the key's value, the others its further values,
 * within MAX_MORE_KEYS pairs in all.
 */
function textKeys(body: string, rules: KeyExtractionRules, found: LogKeys): void {
  const named = found.keys ? new Set(Object.keys(found.keys)) : null;
  let room = MAX_MORE_KEYS - (found.more?.length ?? 0) / 2;
  for (const { key, regex } of rules.logPatterns) {
    if (named?.has(key)) continue;
    regex.lastIndex = 0;
    for (let n = 0; n < MAX_TEXT_MATCHES; n++) {
      const m = regex.exec(body);
      if (!m) break;
      // An empty match would be found again where it is.
      if (m[0] === '') regex.lastIndex++;
      const v = m[1] ? keyValueText(m[1]) : null;
      if (v !== null && !textNames(found, key, v)) {
        if (found.keys?.[key] === undefined) (found.keys ??= {})[key] = v;
        else if (room > 0) {
          (found.more ??= []).push(key, v);
          room--;
        } else break;
        (found.textValues ??= []).push(key, v);
      }
      if (!regex.global) break;
    }
  }
}

function textNames(found: LogKeys, key: string, value: string): boolean {
  return found.textValues !== null && pairsName(found.textValues, key, value);
}

/** Whether (key, value) is one of `pairs`, pairs like FoundKeys.more. */
export function pairsName(pairs: readonly string[], key: string, value: string): boolean {
  for (let i = 0; i < pairs.length; i += 2) if (pairs[i] === key && pairs[i + 1] === value) return true;
  return false;
}

/** `keys` but the values `mentions` names (null when none is left). */
export function keysBesides(keys: KeyValues, mentions: readonly string[]): KeyValues | null {
  let out: KeyValues | null = null;
  for (const k in keys) {
    const key = k as keyof KeyValues;
    if (!pairsName(mentions, key, keys[key]!)) (out ??= {})[key] = keys[key];
  }
  return out;
}

/** The pairs of `pairs` but those `mentions` names (null when none is left). */
export function pairsBesides(pairs: readonly string[], mentions: readonly string[]): string[] | null {
  let out: string[] | null = null;
  for (let i = 0; i < pairs.length; i += 2) if (!pairsName(mentions, pairs[i]!, pairs[i + 1]!)) (out ??= []).push(pairs[i]!, pairs[i + 1]!);
  return out;
}
