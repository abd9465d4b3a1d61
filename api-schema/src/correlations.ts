import { Type, type Static } from 'typebox';
import { BUSINESS_KEY_NAMES, LimitParam, QueryString, TimeParam, TruncatedFlag, type BusinessKeyName } from './common.js';

/** The method of a correlation (and a bridge) joined by a business key. */
export function keyMatchMethod<K extends BusinessKeyName>(key: K): `${K}_match` {
  return `${key}_match`;
}

/**
 * Every method the correlator gives a correlation, from the keys it can extract: the query filter
 * accepts these only, so a misspelt method is a 400 that lists them instead of an empty answer.
 */
export const CORRELATION_METHODS = ['trace_id', ...BUSINESS_KEY_NAMES.map(keyMatchMethod)] as const;
export type CorrelationMethodName = (typeof CORRELATION_METHODS)[number];

export const CorrelationMethod = Type.String({
  description:
    "How the members were joined: 'trace_id' (logs and spans sharing a trace) or '<key>_match' (e.g. circuit_id_match)",
});

/** A group of traces and logs joined by one key within the correlation window. */
export const Correlation = Type.Object(
  {
    id: Type.String(),
    method: CorrelationMethod,
    key: Type.String({ description: "The key that joined the members: 'trace_id' or a business key name" }),
    value: Type.String(),
    confidence: Type.Number({ minimum: 0, maximum: 1 }),
    traceIds: Type.Array(Type.String()),
    services: Type.Array(Type.String(), { description: 'Services of its member traces, and of its logs of no trace' }),
    spanCount: Type.Integer({ description: 'Spans of its member traces: all of them, not only those that carry the key' }),
    logCount: Type.Integer({ description: 'Logs of its member traces, and logs of no trace that carry the key' }),
    firstSeen: Type.String({ format: 'date-time', description: 'The earliest datum of its member traces (and of its logs of no trace)' }),
    lastSeen: Type.String({ format: 'date-time', description: 'The latest datum of its member traces (and of its logs of no trace)' }),
    firstSeenMs: Type.Number(),
    lastSeenMs: Type.Number(),
  },
);
export type Correlation = Static<typeof Correlation>;

export const CorrelationListQuery = QueryString({
  circuit_id: Type.Optional(Type.String({ minLength: 1 })),
  trace_id: Type.Optional(Type.String({ pattern: '^[0-9a-fA-F]{32}$' })),
  service: Type.Optional(Type.String({ minLength: 1 })),
  // Unsafe for the static type only: a union built from an array (not a tuple) is typed never.
  method: Type.Optional(
    Type.Unsafe<CorrelationMethodName>(Type.Union(CORRELATION_METHODS.map(m => Type.Literal(m)), { description: 'How the members were joined' })),
  ),
  from: Type.Optional(TimeParam),
  to: Type.Optional(TimeParam),
  limit: Type.Optional(LimitParam),
});
export type CorrelationListQuery = Static<typeof CorrelationListQuery>;

export const CorrelationListResponse = Type.Object({
  correlations: Type.Array(Correlation),
  truncated: TruncatedFlag('correlations'),
});
export type CorrelationListResponse = Static<typeof CorrelationListResponse>;
