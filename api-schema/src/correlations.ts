import { Type, type Static } from 'typebox';
import { LimitParam, QueryString, TimeParam } from './common.js';

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
  method: Type.Optional(Type.String({ minLength: 1 })),
  from: Type.Optional(TimeParam),
  to: Type.Optional(TimeParam),
  limit: Type.Optional(LimitParam),
});
export type CorrelationListQuery = Static<typeof CorrelationListQuery>;

export const CorrelationListResponse = Type.Object({
  correlations: Type.Array(Correlation),
});
export type CorrelationListResponse = Static<typeof CorrelationListResponse>;
