import { Type, type Static } from 'typebox';
import { QueryString } from './common.js';
import { Correlation } from './correlations.js';
import { Bridge } from './bridges.js';
import { Span, SpanResource, TraceLink, TraceSummary } from './traces.js';

export const TraceIdParams = Type.Object({
  traceId: Type.String({ pattern: '^[0-9a-fA-F]{32}$' }),
});
export type TraceIdParams = Static<typeof TraceIdParams>;

export const TraceDetailQuery = QueryString({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100000, default: 100000, description: 'At most this many spans, the earliest' })),
});
export type TraceDetailQuery = Static<typeof TraceDetailQuery>;

export const TraceDetail = Type.Object(
  {
    summary: TraceSummary,
    spans: Type.Array(Span),
    spanCount: Type.Integer({
      description:
        'Spans the trace has, its bridge spans included; more than spans holds when truncated. The summary counts the spans that arrived, spanCount - bridgeSpanCount',
    }),
    bridgeSpanCount: Type.Integer({ description: 'Of spanCount, the synthetic bridge spans placed in this trace' }),
    truncated: Type.Boolean({ description: 'Whether spans were cut at the limit' }),
    resources: Type.Array(SpanResource, { description: 'The resource and scope of every span, each once' }),
    correlations: Type.Array(Correlation, { description: 'The most recent first, at most 500' }),
    correlationsTruncated: Type.Boolean({ description: 'Whether the trace has more correlations than listed (GET /api/correlations?trace_id= lists up to 10,000, by time range)' }),
    bridges: Type.Array(Bridge),
    linksOut: Type.Array(TraceLink),
    linksIn: Type.Array(TraceLink),
  },
);
export type TraceDetail = Static<typeof TraceDetail>;
