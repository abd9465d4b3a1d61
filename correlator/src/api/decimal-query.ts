// Ajv coerces a query string's integer as Number() reads it: `limit=0x10` was 16, `0b11` 3, `1e1`
// 10, `+5`, ` 5` and `5.0` 5. A client that sends such a value has a bug the answer hid (a limit of
// 16 where it meant 10); the API's integers are written in decimal digits, and anything else is a
// 400 that names the parameter, as a value of the wrong type is.
import type { preValidationAsyncHookHandler } from 'fastify';
import { CorrelatorError } from './errors.js';

const DECIMAL = /^-?[0-9]+$/;

/** The names of a query schema's integer properties. */
export function integerParams(querystring: unknown): string[] {
  const properties = (querystring as { properties?: Record<string, { type?: unknown }> } | undefined)?.properties ?? {};
  return Object.entries(properties)
    .filter(([, s]) => s.type === 'integer')
    .map(([name]) => name);
}

/**
 * Why a query's integer parameter is refused, or null. A parameter given more than once (an
 * array) is left to the schema, whose message says how many times it was given.
 */
export function nonDecimalParam(query: Readonly<Record<string, unknown>>, names: readonly string[]): string | null {
  for (const name of names) {
    const v = query[name];
    if (typeof v === 'string' && !DECIMAL.test(v)) {
      return `querystring/${name} must be an integer in decimal digits, not ${JSON.stringify(v)}`;
    }
  }
  return null;
}

/** The hook that refuses such a value before the schema coerces it, or null for a route with no integer in its query. */
export function decimalQueryHook(querystring: unknown): preValidationAsyncHookHandler | null {
  const names = integerParams(querystring);
  if (names.length === 0) return null;
  return async request => {
    const why = nonDecimalParam(request.query as Record<string, unknown>, names);
    if (why !== null) throw new CorrelatorError('FST_ERR_VALIDATION', 400, why);
  };
}
