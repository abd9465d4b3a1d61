import { Type, type Static } from 'typebox';
import { AttributeMap } from './common.js';

export const SpanKindName = Type.Union([
  Type.Literal('unspecified'),
  Type.Literal('internal'),
  Type.Literal('server'),
  Type.Literal('client'),
  Type.Literal('producer'),
  Type.Literal('consumer'),
]);
export type SpanKindName = Static<typeof SpanKindName>;

export const SpanStatus = Type.Object({
  code: Type.Union([Type.Literal('unset'), Type.Literal('ok'), Type.Literal('error')]),
  message: Type.Optional(Type.String()),
});
export type SpanStatus = Static<typeof SpanStatus>;

export const SpanEvent = Type.Object({
  timeUnixNano: Type.String(),
  name: Type.String(),
  attributes: AttributeMap,
});
export type SpanEvent = Static<typeof SpanEvent>;

export const SpanLink = Type.Object({
  traceId: Type.String(),
  spanId: Type.String(),
  attributes: AttributeMap,
});
export type SpanLink = Static<typeof SpanLink>;

/** OTLP's EntityRef (resource.proto): an entity the resource is made of, by the attributes that identify and describe it. */
export const EntityRef = Type.Object({
  type: Type.String({ description: 'The entity type, e.g. host, service, k8s.pod' }),
  schemaUrl: Type.Optional(Type.String()),
  idKeys: Type.Array(Type.String(), { description: "The resource attributes that identify the entity" }),
  descriptionKeys: Type.Array(Type.String(), { description: 'The resource attributes that describe it' }),
});
export type EntityRef = Static<typeof EntityRef>;

/**
 * A resource and instrumentation scope that spans came from. A reply with spans lists each of
 * theirs once: the same resource attributes on every span were a quarter of a stitched view.
 */
export const SpanResource = Type.Object(
  {
    id: Type.Integer({ description: 'What the spans from this resource and scope give as resourceId' }),
    attributes: AttributeMap,
    entityRefs: Type.Optional(
      Type.Array(EntityRef, {
        description:
          'The entity refs the resource came with (OTLP 1.x), as they were sent, less any that was malformed or that the ' +
          'spec does not allow (told in partial_success); absent when it had none. Resources whose attributes are alike ' +
          'and whose refs differ are two resources',
      }),
    ),
    scope: Type.Object({ name: Type.String(), version: Type.String() }),
  },
);
export type SpanResource = Static<typeof SpanResource>;

/** One span as the query API returns it, whether received over OTLP or synthesised as a bridge. */
export const Span = Type.Object(
  {
    traceId: Type.String({ description: '32 lowercase hex characters' }),
    spanId: Type.String({ description: '16 lowercase hex characters' }),
    parentSpanId: Type.String({ description: 'Empty for a root span' }),
    serviceName: Type.String(),
    name: Type.String(),
    kind: SpanKindName,
    startTimeUnixNano: Type.String({ description: 'Exact nanoseconds as a decimal string' }),
    endTimeUnixNano: Type.String(),
    startTimeMs: Type.Number({ description: 'Epoch milliseconds (float), for plotting' }),
    durationMs: Type.Number({
      description: 'End minus start from the exact nanoseconds, rounded to the microsecond; 0 when the end is not after the start',
    }),
    status: SpanStatus,
    attributes: AttributeMap,
    resourceId: Type.Integer({ description: "The id of its resource and scope in the reply's resources" }),
    events: Type.Array(SpanEvent),
    links: Type.Array(SpanLink),
    synthetic: Type.Boolean({ description: 'True for bridge spans made by the correlator' }),
  },
);
export type Span = Static<typeof Span>;

export const TraceSummary = Type.Object(
  {
    traceId: Type.String(),
    rootService: Type.String(),
    rootName: Type.String(),
    services: Type.Array(Type.String(), { description: 'Services of its spans and of its logs' }),
    spanCount: Type.Integer(),
    errorCount: Type.Integer({
      description: 'Spans with error status, or when none failed its logs of severity ERROR or worse: what it counts for its circuits',
    }),
    logCount: Type.Integer({
      description: 'Its log records (those carrying its trace id), listed by `GET /api/logs?trace_id=`',
    }),
    errorLogCount: Type.Integer({ description: 'Of its log records, those of severity ERROR or worse' }),
    startTimeMs: Type.Number({
      description: "When its first span starts; for a trace known only from logs that name it, the first log's time",
    }),
    endTimeMs: Type.Number({ description: "When its last span ends; for a trace known only from logs, the last log's time" }),
    durationMs: Type.Number({
      description:
        'endTimeMs - startTimeMs: its spans, not its logs, which can come long after (traces stored before schema 10 keep the extent of all their data)',
    }),
    circuitIds: Type.Array(Type.String(), { description: 'Every circuit id its spans and logs name, sorted' }),
  },
);
export type TraceSummary = Static<typeof TraceSummary>;

export const TraceLinkOrigin = Type.Union([Type.Literal('otlp'), Type.Literal('bridge')]);

/** A directed link between spans of two traces, indexed both ways. */
export const TraceLink = Type.Object(
  {
    sourceTraceId: Type.String(),
    sourceSpanId: Type.String(),
    targetTraceId: Type.String(),
    targetSpanId: Type.String(),
    origin: TraceLinkOrigin,
  },
);
export type TraceLink = Static<typeof TraceLink>;
