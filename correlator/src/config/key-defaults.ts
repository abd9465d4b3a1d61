import type { BusinessKeyName } from '@correlation-station/api-schema';
import type { LogKeyPattern } from './config.js';

/** Keys whose matches create bridge spans, unless BRIDGE_KEYS says otherwise. */
export const DEFAULT_BRIDGE_KEYS: readonly BusinessKeyName[] = Object.freeze(['circuit_id']);

/**
 * Keys whose matches form correlations, unless CORRELATION_KEYS says otherwise. product_id and
 * resource_type_id name a product type, shared by every circuit of it: as correlation keys they
 * would join unrelated activations into one huge group.
 */
export const DEFAULT_CORRELATION_KEYS: readonly BusinessKeyName[] = Object.freeze(['circuit_id', 'resource_id', 'request_id']);

/** The keys whose values form groups: a key that bridges must also correlate, as bridges are planned per group. */
export function correlatingKeys(keys: {
  correlationKeys: readonly BusinessKeyName[];
  bridgeKeys: readonly BusinessKeyName[];
}): BusinessKeyName[] {
  return [...new Set([...keys.correlationKeys, ...keys.bridgeKeys])];
}

/** correlatingKeys of the default configuration. */
export const DEFAULT_CORRELATING_KEYS: readonly BusinessKeyName[] = Object.freeze(
  correlatingKeys({ correlationKeys: DEFAULT_CORRELATION_KEYS, bridgeKeys: DEFAULT_BRIDGE_KEYS }),
);

/**
 * The same key arrives under many names: SENSE spans use bare names, MDSO-side spans the
 * `mdso.` prefix, HTTP instrumentation captures `X-Circuit-Id` as `http.request.header.x_circuit_id`
 * (an array of one string), and baggage-to-attribute processors add `baggage.` prefixes.
 */
export const DEFAULT_KEY_ALIASES: Readonly<Record<string, BusinessKeyName>> = Object.freeze({
  circuit_id: 'circuit_id',
  'circuit.id': 'circuit_id',
  circuitId: 'circuit_id',
  'mdso.circuit_id': 'circuit_id',
  'sense.circuit_id': 'circuit_id',
  'baggage.circuit_id': 'circuit_id',
  'http.request.header.x-circuit-id': 'circuit_id',
  'http.request.header.x_circuit_id': 'circuit_id',
  'x-circuit-id': 'circuit_id',
  circuit_name: 'circuit_id',
  product_id: 'product_id',
  'product.id': 'product_id',
  productId: 'product_id',
  'mdso.product_id': 'product_id',
  'baggage.product_id': 'product_id',
  'http.request.header.x-product-id': 'product_id',
  'http.request.header.x_product_id': 'product_id',
  resource_id: 'resource_id',
  'resource.id': 'resource_id',
  resourceId: 'resource_id',
  'mdso.resource_id': 'resource_id',
  'baggage.resource_id': 'resource_id',
  'http.request.header.x-resource-id': 'resource_id',
  'http.request.header.x_resource_id': 'resource_id',
  resource_type_id: 'resource_type_id',
  resourceTypeId: 'resource_type_id',
  'mdso.resource_type_id': 'resource_type_id',
  'mdso.resource_type': 'resource_type_id',
  request_id: 'request_id',
  'request.id': 'request_id',
  requestId: 'request_id',
  'http.request.header.x-request-id': 'request_id',
  'http.request.header.x_request_id': 'request_id',
});

/** Latin, Greek and Cyrillic letters past ASCII, without × ÷ and the Greek question mark (RV21). */
const LETTERS = '\\u00c0-\\u00d6\\u00d8-\\u00f6\\u00f8-\\u024f\\u0386-\\u03ff\\u0400-\\u04ff';
const KEY_VALUE = `("[^"\\n]+"|'[^'\\n]+'|["']?[A-Za-z0-9._/${LETTERS}-]+[A-Za-z0-9_${LETTERS}-])`;

/**
 * `key=value` and `key: value` as text logs write them, and `"key": "value"` (JSON lines, which
 * BP2 and plan-script logs tailed by Alloy often are) or `'key': 'value'` (a Python dict printed):
 * `circuit_id[=:]` did not match `"circuit_id":`, and such a line stayed uncorrelated. The key is
 * read as structured bodies and aliases write it too (circuitId, circuit.id, CIRCUIT_ID): a body
 * `{circuitId: X}` keyed its line, the same JSON as text did not. Spelt out, not case-folded: the
 * linear-time engine cannot fold case (log-pattern.ts).
 *
 * A quoted value is read to its closing quote (the quotes are taken off, log-keys.ts): read as
 * far as a space, `"circuit_id": "CKT Q01"` was circuit `CKT`, which then joined every circuit
 * named `CKT …` in one group, bridged across activations (RV20). A bare value may hold slashes
 * (CLCI-style `12/KFFN/123456/TWCC`) and Latin, Greek and Cyrillic letters past ASCII, which cut
 * it short before. A quoted phrase is no key (log-keys.ts, capturedValue).
 */
export const DEFAULT_LOG_KEY_PATTERNS: readonly LogKeyPattern[] = Object.freeze([
  { key: 'circuit_id', pattern: `\\b(?:circuit[_.]id|circuitId|CircuitId|CIRCUIT_ID|Circuit_ID)["']?\\s*[=:]\\s*${KEY_VALUE}` },
  // A bare name: prose about a circuit ("port shared with 80.L1XX..."), which may be another's.
  { key: 'circuit_id', pattern: '\\b(\\d{2}\\.[A-Z0-9]{4}\\.\\d{6}\\.{2}(?:CHTR|TWCC))\\b', mention: true },
  {
    key: 'resource_id',
    pattern: '\\b(?:resource[_.]id|resourceId|ResourceId|RESOURCE_ID)["\']?\\s*[=:]\\s*["\']?([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})',
  },
  { key: 'product_id', pattern: `\\b(?:product[_.]id|productId|ProductId|PRODUCT_ID)["']?\\s*[=:]\\s*${KEY_VALUE}` },
  { key: 'request_id', pattern: `\\b(?:request[_.]id|requestId|RequestId|REQUEST_ID)["']?\\s*[=:]\\s*${KEY_VALUE}` },
]);
