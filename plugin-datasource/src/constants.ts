import type {
  API_VERSION as SCHEMA_API_VERSION,
  CORRELATOR_SERVICE_NAME as SCHEMA_SERVICE_NAME,
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

export const DEFAULT_LOOKBACK = '24h';
export const DEFAULT_LIMIT = 100;
export const DEFAULT_LOG_LIMIT = 1000;

/** Matches the correlator's trace-id pattern. */
export const TRACE_ID_PATTERN = /^[0-9a-fA-F]{32}$/;
