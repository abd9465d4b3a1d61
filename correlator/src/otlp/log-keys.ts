import type { AttrMap } from './any-value.js';
import type { KeyExtractionRules, KeyValues } from './decoded.js';
import { keysFromAttributes } from './resource-decoder.js';

/**
 * Keys of a log line: resource attributes, then record attributes, then patterns over the body
 * (MDSO writes `resource_id=<uuid> circuit_id=<id>` into message text). Attributes win over text.
 */
export function extractLogKeys(
  body: string,
  attributes: AttrMap,
  resourceKeys: KeyValues | null,
  rules: KeyExtractionRules,
): KeyValues | null {
  let keys: KeyValues | null = resourceKeys ? { ...resourceKeys } : null;
  const attrKeys = keysFromAttributes(attributes, rules);
  if (attrKeys) keys = { ...(keys ?? {}), ...attrKeys };
  if (body) {
    for (const { key, regex } of rules.logPatterns) {
      if (keys?.[key] !== undefined) continue;
      const m = regex.exec(body);
      if (m?.[1]) (keys ??= {})[key] = m[1];
    }
  }
  return keys;
}
