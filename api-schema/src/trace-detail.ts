import { Type, type Static } from 'typebox';
import { Correlation } from './correlations.js';
import { Bridge } from './bridges.js';
import { Span, SpanResource, TraceLink, TraceSummary } from './traces.js';

export const TraceIdParams = Type.Object({
  traceId: Type.String({ pattern: '^[0-9a-fA-F]{32}$' }),
});
export type TraceIdParams = Static<typeof TraceIdParams>;

export const TraceDetail = Type.Object(
  {
    summary: TraceSummary,
    spans: Type.Array(Span),
    resources: Type.Array(SpanResource, { description: 'The resource and scope of every span, each once' }),
    correlations: Type.Array(Correlation),
    bridges: Type.Array(Bridge),
    linksOut: Type.Array(TraceLink),
    linksIn: Type.Array(TraceLink),
  },
);
export type TraceDetail = Static<typeof TraceDetail>;
