import type {
  API_VERSION as SCHEMA_API_VERSION,
  CORRELATOR_SERVICE_NAME as SCHEMA_SERVICE_NAME,
  CorrelationMethodName,
} from '@correlation-station/api-schema';

export const PLUGIN_ID = 'seefa-correlation-datasource';

/** The Correlation Station app plugin; its Circuit Explorer page is the target of circuit-id links. */
export const APP_PLUGIN_ID = 'seefa-correlation-app';
export const CIRCUIT_EXPLORER_PATH = `/a/${APP_PLUGIN_ID}/circuits`;

/**
 * Mirror `CORRELATOR_SERVICE_NAME` and `API_VERSION` of `@correlation-station/api-schema` (src/system.ts).
 * Copied because importing the package's values would bundle TypeBox into module.js; the literal
 * types make the compiler (and `constants.test.ts`) reject a copy that drifted.
 */
export const CORRELATOR_SERVICE_NAME: typeof SCHEMA_SERVICE_NAME = 'correlation-station-correlator';
export const EXPECTED_API_VERSION: typeof SCHEMA_API_VERSION = 1;

/**
 * Mirror of `CORRELATION_METHODS` (src/correlations.ts), for the same reason: a method the schema
 * does not have fails `satisfies`, and one it has that is missing here fails `noMethodMissing`.
 */
export const CORRELATION_METHODS = [
  'trace_id',
  'circuit_id_match',
  'product_id_match',
  'resource_id_match',
  'resource_type_id_match',
  'request_id_match',
] as const satisfies readonly CorrelationMethodName[];
type MissingMethod = Exclude<CorrelationMethodName, (typeof CORRELATION_METHODS)[number]>;
export const noMethodMissing: [MissingMethod] extends [never] ? true : MissingMethod = true;

export const DEFAULT_LOOKBACK = '24h';
export const DEFAULT_LIMIT = 100;
export const DEFAULT_LOG_LIMIT = 1000;

/** Matches the correlator's trace-id pattern. */
export const TRACE_ID_PATTERN = /^[0-9a-fA-F]{32}$/;
