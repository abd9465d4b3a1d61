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
      const v = m[1] && !isQuotedPhrase(m[1]) && !isOpenQuoteCut(m[1], body, m.index + m[0].length) ? keyValueText(unquoted(m[1])) : null;
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
 * A captured value without the quotes a line wrote around it: the built-in patterns capture a
 * quoted value whole, quotes and all, as a pattern has one group (key-defaults.ts); an opening
 * quote alone is of a line cut short.
 */
export function unquoted(v: string): string {
  const q = v.charCodeAt(0);
  if (q !== 0x22 && q !== 0x27) return v;
  return v.length > 1 && v.charCodeAt(v.length - 1) === q ? v.slice(1, -1) : v.slice(1);
}

/**
 * Whether a captured value is a quoted phrase, not an id: words with punctuation between them, or
 * words led by a word for no value. `circuit_id="unknown, retrying"` and `circuit_id: "not set
 * (lookup failed)"`, logged alike by every request without the header, were one circuit bridging
 * them all (RV21); a quote left open swallowed the next fields (`"C1 state=ok msg=`).
 */
export function isQuotedPhrase(v: string): boolean {
  const q = v.charCodeAt(0);
  if ((q !== 0x22 && q !== 0x27) || !/\s/.test(v)) return false;
  const inner = unquoted(v).trim();
  return /[,;:()[\]{}<>!?=]/.test(inner) || keyStringProblem(inner.split(/\s/, 1)[0]!) !== null;
}

/**
 * Whether a value opened a quote it did not close and the text goes on (`circuit_id="CKT Q01` cut
 * before its closing quote): only the bare part up to the space was read, `CKT`, a circuit of its
 * own joining every `CKT …` (RV21). At the end of the text or its line, the value is whole.
 */
function isOpenQuoteCut(v: string, body: string, end: number): boolean {
  const q = v.charCodeAt(0);
  if ((q !== 0x22 && q !== 0x27) || (v.length > 1 && v.charCodeAt(v.length - 1) === q)) return false;
  const next = body.charCodeAt(end);
  return end < body.length && next !== 0x0a && next !== 0x0d;
}

/** Whether (key, value) is one of `pairs`, pairs like FoundKeys.more. */
export function pairsName(pairs: readonly string[], key: string, value: string): boolean {
  for (let i = 0; i < pairs.length; i += 2) if (pairs[i] === key && pairs[i + 1] === value) return true;
  return false;
}
