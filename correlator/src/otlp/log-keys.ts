import { keyStringProblem, keyValueText, type AttrMap } from './any-value.js';
import type { DecodedResourceScope, KeyExtractionRules } from './decoded.js';
import { MAX_MORE_KEYS } from '../correlation/types.js';
import type { FoundKeys } from './found-keys.js';
import { keysFromAttributes } from './resource-decoder.js';

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
  traced = false,
): FoundKeys {
  // Copies: a later source replaces the resource's values of a key it names (takeKeyValue).
  const found: FoundKeys = {
    keys: resource?.keys ? { ...resource.keys } : null,
    more: resource?.moreKeys ? [...resource.moreKeys] : null,
  };
  if (bodyEntries) keysFromAttributes(bodyEntries, rules, found);
  keysFromAttributes(attributes, rules, found, warnings);
  if (body) textKeys(body, rules, found, traced, warnings);
  return found;
}

/**
 * The values the patterns find in the text, for the keys no field named: every distinct one, in
 * the patterns' order, then the text's, as an attribute array names several (a line about two
 * circuits is listed under both). The first is the key's value, the others its further values,
 * within MAX_MORE_KEYS pairs in all. In a line of a trace, a mention pattern's values (a bare
 * circuit name in prose) are none: the line is its trace's, and "port shared with 80.L1XX..."
 * inside one circuit's request made that request a member of the other circuit, bridged into it,
 * claiming its lines. A `circuit_id=X` the line writes is a field of it, and keys its trace.
 */
function textKeys(body: string, rules: KeyExtractionRules, found: FoundKeys, traced: boolean, warnings?: string[]): void {
  const named = found.keys ? new Set(Object.keys(found.keys)) : null;
  let room = MAX_MORE_KEYS - (found.more?.length ?? 0) / 2;
  let read: string[] | null = null;
  for (const { key, regex, mention } of rules.logPatterns) {
    if (named?.has(key) || (traced && mention)) continue;
    regex.lastIndex = 0;
    for (let n = 0; n < MAX_TEXT_MATCHES; n++) {
      const m = regex.exec(body);
      if (!m) break;
      // An empty match would be found again where it is.
      if (m[0] === '') regex.lastIndex++;
      const v = m[1] ? capturedValue(m[1], body, m.index + m[0].length) : null;
      if (v !== null && !(read !== null && pairsName(read, key, v))) {
        if (found.keys?.[key] === undefined) (found.keys ??= {})[key] = v;
        else if (room > 0) {
          (found.more ??= []).push(key, v);
          room--;
        } else {
          // As an attribute array's members past the bound are (found-keys.ts): said, not dropped unseen.
          warnings?.push(`body names more than the ${MAX_MORE_KEYS} further key values a record names: ${key} ${JSON.stringify(v).slice(0, 80)} and any after it not taken`);
          break;
        }
        (read ??= []).push(key, v);
      }
      if (!regex.global) break;
    }
  }
}

/**
 * The key value a pattern captured, ending at `end` of `body`, or null. The built-in patterns
 * capture a quoted value whole, quotes and all, as a pattern has one group (key-defaults.ts): the
 * quotes are taken off. A quoted phrase is no id: words with punctuation between them, or led by
 * a word for no value (`circuit_id="unknown, retrying"`, `"not set (lookup failed)"`), logged
 * alike by every request without the header, were one circuit bridging them all (RV21). Nor is a
 * quote left open where the text goes on (`circuit_id="CKT Q01` cut short): only the bare part up
 * to the space was read, `CKT`. At the end of the text or its line, an open quote's value is whole.
 */
export function capturedValue(capture: string, body: string, end: number): string | null {
  const q = capture.charCodeAt(0);
  if (q !== 0x22 && q !== 0x27) return keyValueText(capture);
  const closed = capture.length > 1 && capture.charCodeAt(capture.length - 1) === q;
  if (!closed) {
    const next = body.charCodeAt(end);
    if (end < body.length && next !== 0x0a && next !== 0x0d) return null;
  }
  const inner = (closed ? capture.slice(1, -1) : capture.slice(1)).trim();
  if (/\s/.test(inner) && (/[,;:()[\]{}<>!?=]/.test(inner) || keyStringProblem(inner.split(/\s/, 1)[0]!) !== null)) return null;
  return keyValueText(inner);
}

/** Whether (key, value) is one of `pairs`, pairs like FoundKeys.more. */
export function pairsName(pairs: readonly string[], key: string, value: string): boolean {
  for (let i = 0; i < pairs.length; i += 2) if (pairs[i] === key && pairs[i + 1] === value) return true;
  return false;
}
