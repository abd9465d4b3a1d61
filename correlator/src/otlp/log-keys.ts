import { keyValueText, type AttrMap } from './any-value.js';
import type { KeyExtractionRules, KeyValues } from './decoded.js';
import { keysFromAttributes } from './resource-decoder.js';

/**
 * Keys of a log line: resource attributes, then the entries of a structured (key-value list) body,
 * then record attributes, then patterns over the body text (MDSO writes `resource_id=<uuid>
 * circuit_id=<id>` into message text). Attributes win over text. A structured body is what
 * structured loggers send: as JSON text, `"circuit_id":"X"` matches no pattern.
 */
export function extractLogKeys(
  body: string,
  attributes: AttrMap,
  resourceKeys: KeyValues | null,
  rules: KeyExtractionRules,
  bodyEntries: AttrMap | null = null,
  warnings?: string[],
): KeyValues | null {
  let keys: KeyValues | null = resourceKeys ? { ...resourceKeys } : null;
  const bodyKeys = bodyEntries ? keysFromAttributes(bodyEntries, rules) : null;
  if (bodyKeys) keys = { ...(keys ?? {}), ...bodyKeys };
  const attrKeys = keysFromAttributes(attributes, rules, warnings);
  if (attrKeys) keys = { ...(keys ?? {}), ...attrKeys };
  if (body) {
    for (const { key, regex } of rules.logPatterns) {
      if (keys?.[key] !== undefined) continue;
      const m = regex.exec(body);
      const v = m?.[1] ? keyValueText(m[1]) : null;
      if (v !== null) (keys ??= {})[key] = v;
    }
  }
  return keys;
}
