import { keyValueText, type AttrMap } from './any-value.js';
import type { DecodedResourceScope, KeyExtractionRules, KeyValues } from './decoded.js';
import type { FoundKeys } from './found-keys.js';
import { keysFromAttributes } from './resource-decoder.js';

export interface LogKeys extends FoundKeys {
  /** Those of `keys` found only by the patterns over the body text: mentions, not the line's fields. */
  textKeys: KeyValues | null;
}

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
    textKeys: null,
  };
  if (bodyEntries) keysFromAttributes(bodyEntries, rules, found);
  keysFromAttributes(attributes, rules, found, warnings);
  if (body) {
    for (const { key, regex } of rules.logPatterns) {
      if (found.keys?.[key] !== undefined) continue;
      const m = regex.exec(body);
      const v = m?.[1] ? keyValueText(m[1]) : null;
      if (v !== null) (found.keys ??= {})[key] = (found.textKeys ??= {})[key] = v;
    }
  }
  return found;
}

/** `keys` but those `other` names (null when none is left). */
export function withoutKeys(keys: KeyValues, other: KeyValues): KeyValues | null {
  let out: KeyValues | null = null;
  for (const k in keys) {
    const key = k as keyof KeyValues;
    if (other[key] === undefined) (out ??= {})[key] = keys[key];
  }
  return out;
}
