import { Type, type Static } from 'typebox';
import { BusinessKeys, LimitParam, MAX_KEY_VALUE_LENGTH, QueryString, TimeParam, TruncatedFlag, timeParam } from './common.js';
import { Bridge } from './bridges.js';
import { Correlation } from './correlations.js';
import { Span, SpanResource, TraceSummary } from './traces.js';

export const CircuitStatus = Type.Union([Type.Literal('ok'), Type.Literal('error')]);
export type CircuitStatus = Static<typeof CircuitStatus>;

export const CircuitSummary = Type.Object(
  {
    circuitId: Type.String(),
    status: Type.Union(CircuitStatus.anyOf, {
      description:
        'error when errorCount is over 0. In GET /api/circuits with from or to, the status in that range: error when it has an error ' +
        'there (a trace of it with a datum in the range whose errors, counted as for errorCount, are over 0, or a log of no trace of ' +
        'severity ERROR or worse in the range); a circuit that failed before and succeeded in the range is ok there. Everywhere else, ' +
        'a detail in a range included, the status is the whole circuit\'s',
    }),
    services: Type.Array(Type.String(), {
      description: 'In alphabetical order: the first 64 seen of its data (a trace and a correlation list as many); the whole circuit\'s, with a range too',
    }),
    traceCount: Type.Integer({
      description:
        'Its traces. This and the other counts, services, keys and firstSeen..lastSeen are the whole circuit\'s, also in a list ' +
        'or a detail for a time range (GET /api/circuits/{id}?from=&to= lists the traces in it)',
    }),
    spanCount: Type.Integer(),
    errorCount: Type.Integer({
      description:
        "Each of its traces' errors (its spans with error status, or when none failed its logs of severity ERROR or worse, 17 and up), " +
        'and its logs of no trace of severity ERROR or worse: status is error when it is over 0',
    }),
    logCount: Type.Integer(),
    bridgeCount: Type.Integer(),
    bridged: Type.Boolean(),
    firstSeen: Type.String({ format: 'date-time' }),
    lastSeen: Type.String({ format: 'date-time' }),
    firstSeenMs: Type.Number(),
    lastSeenMs: Type.Number(),
    keys: Type.Object(BusinessKeys.properties, {
      description:
        'One value of each business key carried by the spans and logs that name the circuit, the least of them ' +
        'when they carried several, so it does not depend on the order the data arrived in. A value beside ' +
        "another circuit's id, or beside none, is not listed: a trace may name several circuits",
    }),
  },
);
export type CircuitSummary = Static<typeof CircuitSummary>;

/**
 * Without a range, every circuit, filtered on its whole life. With from and/or to, the circuits with
 * data in the range, as a circuit's detail, stitched view and logs take it in a range: a trace of it
 * with a datum in the range, or a log naming it in the range; status= and service= are then of
 * those data (an error, a service in the range). Most recent first, by the circuit's last datum.
 */
export const CircuitListQuery = QueryString({
  query: Type.Optional(Type.String({ description: 'Substring of the circuit id (case-insensitive)' })),
  status: Type.Optional(
    Type.Union(CircuitStatus.anyOf, {
      description:
        "The circuits of that status: without a range, by errorCount; with from/to, by their status in the range (error: an error " +
        "in it, as in an 'errors in the last 15 minutes' panel; ok: data in it and no error), which the summaries' status shows",
    }),
  ),
  service: Type.Optional(
    Type.String({
      minLength: 1,
      description:
        "The circuits with data of that service: without a range, in their services; with from/to, a trace of the circuit in the " +
        'range that lists it, or a log of the circuit in the range from it. With status= too, each holds on its own',
    }),
  ),
  from: Type.Optional(
    timeParam('With from and/or to, only the circuits with data in the range: a trace of the circuit with a datum in it, or a log naming it'),
  ),
  to: Type.Optional(timeParam('The end of the range, included (see from)')),
  limit: Type.Optional(LimitParam),
});
export type CircuitListQuery = Static<typeof CircuitListQuery>;

export const CircuitListResponse = Type.Object({
  circuits: Type.Array(CircuitSummary),
  truncated: TruncatedFlag('circuits'),
});
export type CircuitListResponse = Static<typeof CircuitListResponse>;

export const CircuitIdParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: MAX_KEY_VALUE_LENGTH }),
});
export type CircuitIdParams = Static<typeof CircuitIdParams>;

/**
 * A circuit's traces in a time range: those with a datum in it. A circuit polled or reactivated for
 * days has thousands of traces; the range picks one activation out of them.
 */
export const CircuitTimeRange = QueryString({
  from: Type.Optional(TimeParam),
  to: Type.Optional(TimeParam),
});
export type CircuitTimeRange = Static<typeof CircuitTimeRange>;

/** A circuit's traces listed by its detail, or covered by its stitched view, at most, unless the query says otherwise. */
export const DETAIL_TRACES_DEFAULT = 1000;

/** How many of a circuit's most recent traces a detail or a stitched view takes. */
function recentTracesParam(description: string) {
  return Type.Integer({ minimum: 1, maximum: 100000, default: DETAIL_TRACES_DEFAULT, description });
}

export const CircuitDetailQuery = QueryString({
  ...CircuitTimeRange.properties,
  limit: Type.Optional(recentTracesParam('Traces listed at most: the most recent by first datum')),
});
export type CircuitDetailQuery = Static<typeof CircuitDetailQuery>;

export const CircuitDetail = Type.Object(
  {
    summary: CircuitSummary,
    traces: Type.Array(TraceSummary, {
      description: 'Its traces with a datum in from..to (all of them without a range), oldest first; past limit, the most recent limit of them',
    }),
    tracesTruncated: Type.Boolean({
      description: 'Whether it has more traces (in the range) than limit: summary.traceCount counts them all, and a range picks out older ones',
    }),
    correlations: Type.Array(Correlation, { description: 'The most recent first, at most 500; in a range, those reaching into it' }),
    correlationsTruncated: Type.Boolean({ description: 'Whether the circuit has more correlations than listed (GET /api/correlations?circuit_id= lists up to 10,000, by time range)' }),
    bridges: Type.Array(Bridge, { description: 'Its bridges from the traces listed' }),
  },
);
export type CircuitDetail = Static<typeof CircuitDetail>;

export const StitchedTraceQuery = QueryString({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100000, default: 20000, description: 'Spans shown at most: the earliest of the timeline' })),
  traces: Type.Optional(
    recentTracesParam(
      "Traces the view covers at most: the most recent by first datum, as the detail's limit takes them. " +
        'A circuit polled for days has tens of thousands; a range picks out older ones',
    ),
  ),
  ...CircuitTimeRange.properties,
});
export type StitchedTraceQuery = Static<typeof StitchedTraceQuery>;

/**
 * Every span of a circuit's traces (in from..to; past `traces`, its most recent ones) plus the
 * bridge spans from them, ordered by start time so that one timeline shows the whole activation.
 */
export const StitchedTrace = Type.Object(
  {
    circuitId: Type.String(),
    traceIds: Type.Array(Type.String(), {
      description: 'The traces the view covers: those with a datum in from..to (all without a range), oldest first; past traces, the most recent traces of them',
    }),
    tracesTruncated: Type.Boolean({
      description:
        'Whether the circuit has more traces (in the range) than traces: their spans and bridges are not in the view. ' +
        'traceCount says how many it has, and a range picks out older ones',
    }),
    traceCount: Type.Integer({
      minimum: 0,
      description:
        'The traces the view would cover without the traces limit: without a range, all the circuit\'s, as ' +
        'GET /api/circuits/{id} counts them (summary.traceCount); with from/to, those with a datum in the range only. ' +
        'tracesTruncated: it is more than traceIds lists',
    }),
    spans: Type.Array(Span),
    resources: Type.Array(SpanResource, { description: 'The resource and scope of every span, each once' }),
    bridges: Type.Array(Bridge),
    spanCount: Type.Integer({
      description:
        'Spans in the view, bridge spans included, and any cut by the limit: the summary counts the spans that arrived, spanCount - bridgeSpanCount',
    }),
    bridgeSpanCount: Type.Integer({ description: 'Of spanCount, the synthetic bridge spans' }),
    truncated: Type.Boolean({ description: 'Whether the view holds more spans than limit (spanCount): the earliest limit are listed' }),
  },
);
export type StitchedTrace = Static<typeof StitchedTrace>;
