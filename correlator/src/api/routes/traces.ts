import { ErrorResponse, TraceDetail, TraceDetailQuery, TraceIdParams } from '@correlation-station/api-schema';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Store } from '../../store/store.js';
import { detailCorrelations, DETAIL_CORRELATIONS } from '../detail-correlations.js';
import { errors } from '../errors.js';
import { ViewLookup, type RenderedSpanCache } from '../rendered-span-cache.js';
import { sendWithSpans } from '../span-json.js';
import type { SpanRenderWorkers } from '../span-render-workers.js';

export const traceRoutes: FastifyPluginAsyncTypebox<{
  store: Store;
  /** undefined: SPAN_JSON_CACHE_BYTES=0, every view is rendered. */
  spanJsonCache: RenderedSpanCache | undefined;
  /** Share the rendering of large views; undefined: VIEW_RENDER_WORKERS=0. */
  renderWorkers: SpanRenderWorkers | undefined;
}> = async (app, { store, spanJsonCache, renderWorkers }) => {
  app.get(
    '/api/traces/:traceId',
    {
      schema: {
        tags: ['traces'],
        summary: 'One trace: its spans, correlations, bridges and the links into and out of it',
        params: TraceIdParams,
        querystring: TraceDetailQuery,
        response: { 200: TraceDetail, 400: ErrorResponse, 404: ErrorResponse },
      },
    },
    async (request, reply) => {
      const traceId = request.params.traceId.toLowerCase();
      const [summary] = await store.traceSummaries([traceId]);
      if (!summary) throw errors.traceNotFound(traceId);
      const lookup = new ViewLookup(spanJsonCache);
      const limit = request.query.limit ?? 100000;
      const [{ spans, total, bridgeTotal }, correlations, bridges, links] = await Promise.all([
        store.spansOfTraces([traceId], limit, lookup.bodyNeeded),
        store.correlations({ trace_id: traceId, limit: DETAIL_CORRELATIONS + 1 }),
        store.bridgesOf({ traceId }),
        store.links(traceId),
      ]);
      // Spans are written as JSON straight from their stored bytes, as in the stitched view.
      return sendWithSpans(
        reply,
        { summary, spans: [], spanCount: total, bridgeSpanCount: bridgeTotal, truncated: total > spans.length, ...detailCorrelations(correlations), bridges, linksOut: links.out, linksIn: links.in },
        spans,
        lookup,
        renderWorkers,
      );
    },
  );
};
