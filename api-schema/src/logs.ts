import { Type, type Static } from 'typebox';
import { AttributeMap, BusinessKeys, QueryString, timeParam, TruncatedFlag } from './common.js';

// A log keeps its own nanoseconds, and paging by time (as Loki pages: backward, the next `to` one
// nanosecond before the oldest line seen; forward, the next `from` one after the newest) needs
// them compared exactly.
const LogFromParam = timeParam('Lines at or after it, to the nanosecond');
const LogToParam = timeParam('Lines at or before it, to the nanosecond');

const LogDirectionParam = Type.Union([Type.Literal('backward'), Type.Literal('forward')], {
  default: 'backward',
  description:
    'backward: newest first, the limit keeping the newest (the default); forward: oldest first, the limit keeping the oldest, ' +
    'so a client can page or tail forwards from a time. Lines of one nanosecond follow the order of their content hash, not arrival',
});

/** Opaque to clients: the position of the last line of a page (log-cursor.ts in the correlator). */
const LogCursorParam = Type.String({
  minLength: 1,
  maxLength: 512,
  description:
    "A page's nextCursor: lists the lines after that page's last one, in this request's direction, with this request's filters. " +
    'Unlike a time bound it pages through any number of lines of one nanosecond, none repeated or skipped. ' +
    'Given with direction reversed, it lists the lines before that page (backward from it, or forward from it)',
});

/** The user's existing JSON log batch format (POST /api/logs). */
export const LogBatchRecord = Type.Object({
  timestamp: Type.String({
    description:
      'RFC 3339 time of the record: after 2000-01-01T00:00:00Z (to the microsecond; at or before it is a clock ' +
      "not yet set) and at most a day ahead of the server's clock, or the record is rejected (errors)",
  }),
  severity: Type.Optional(
    Type.String({
      description: "The record's severity as text (ERROR, warning, crit...); over MAX_NAME_BYTES (4096) UTF-8 bytes rejects the record",
    }),
  ),
  message: Type.String(),
  trace_id: Type.Optional(Type.String({ pattern: '^[0-9a-fA-F]{32}$' })),
  span_id: Type.Optional(Type.String({ pattern: '^[0-9a-fA-F]{16}$' })),
  circuit_id: Type.Optional(Type.String()),
  product_id: Type.Optional(Type.String()),
  resource_id: Type.Optional(Type.String()),
  resource_type_id: Type.Optional(Type.String()),
  request_id: Type.Optional(Type.String()),
  labels: Type.Optional(Type.Record(Type.String(), Type.String())),
});
export type LogBatchRecord = Static<typeof LogBatchRecord>;

export const LogBatch = Type.Object(
  {
    resource: Type.Object({
      service: Type.String({ minLength: 1 }),
      host: Type.Optional(Type.String()),
      env: Type.Optional(Type.String()),
    }),
    records: Type.Array(Type.Unknown(), {
      description: 'LogBatchRecord items; invalid ones are rejected individually',
    }),
  },
);
export type LogBatch = Static<typeof LogBatch>;

export const LogBatchResponse = Type.Object({
  accepted: Type.Integer({ description: 'Records taken: stored now, or already stored (duplicates)' }),
  duplicates: Type.Integer({
    description: 'Of the accepted, those already stored by an earlier request (a client retry or replay): not stored again',
  }),
  rejected: Type.Integer(),
  errors: Type.Array(Type.Object({ index: Type.Integer(), message: Type.String() })),
  warnings: Type.Array(Type.String(), {
    description: 'About records stored all the same: older than retention (deleted at the next sweep) or dated over an hour ahead',
  }),
});
export type LogBatchResponse = Static<typeof LogBatchResponse>;

/** One stored log line, from OTLP or from the JSON batch API. */
export const LogEntry = Type.Object(
  {
    id: Type.String(),
    timeUnixNano: Type.String(),
    timeMs: Type.Number(),
    severityText: Type.String(),
    severityNumber: Type.Integer(),
    body: Type.String(),
    serviceName: Type.String(),
    traceId: Type.String({ description: 'Empty when the record carries no trace id' }),
    spanId: Type.String(),
    keys: BusinessKeys,
    attributes: AttributeMap,
    resource: AttributeMap,
    source: Type.Union([Type.Literal('otlp'), Type.Literal('api')]),
  },
);
export type LogEntry = Static<typeof LogEntry>;

/** Checked by the handler, which takes numbers and names alike and names what it refused. */
const MinSeverityParam = Type.String({
  minLength: 1,
  maxLength: 16,
  description:
    'Only logs of this severity or worse: an OTLP severity number 1-24 or a name (TRACE, DEBUG, INFO, WARN, ERROR, FATAL, warning, critical...), ' +
    'case-insensitive; logs of no severity are left out',
});

export const LogListQuery = QueryString({
  circuit_id: Type.Optional(Type.String({ minLength: 1 })),
  trace_id: Type.Optional(Type.String({ pattern: '^[0-9a-fA-F]{32}$' })),
  service: Type.Optional(Type.String({ minLength: 1 })),
  search: Type.Optional(Type.String({ description: 'Case-insensitive substring of the body' })),
  min_severity: Type.Optional(MinSeverityParam),
  from: Type.Optional(LogFromParam),
  to: Type.Optional(LogToParam),
  direction: Type.Optional(LogDirectionParam),
  cursor: Type.Optional(LogCursorParam),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000, default: 100 })),
});
export type LogListQuery = Static<typeof LogListQuery>;

/** A circuit's logs: one activation of a circuit polled for days is a time range of them. */
export const CircuitLogQuery = QueryString({
  search: Type.Optional(Type.String({ description: 'Case-insensitive substring of the body' })),
  min_severity: Type.Optional(MinSeverityParam),
  from: Type.Optional(LogFromParam),
  to: Type.Optional(LogToParam),
  direction: Type.Optional(LogDirectionParam),
  cursor: Type.Optional(LogCursorParam),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000, default: 500 })),
});
export type CircuitLogQuery = Static<typeof CircuitLogQuery>;

export const LogListResponse = Type.Object({
  logs: Type.Array(LogEntry),
  truncated: TruncatedFlag('logs'),
  nextCursor: Type.Optional(
    Type.String({ description: "Present when truncated: the cursor to give for the next page, the lines after this page's last" }),
  ),
});
export type LogListResponse = Static<typeof LogListResponse>;
