import { ErrorResponse, TraceDetail, TraceIdParams } from '@correlation-station/api-schema';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Store } from '../../store/store.js';
import { errors } from '../errors.js';
import { orderForTimeline, toApiSpans } from '../span-view.js';

export const traceRoutes: FastifyPluginAsyncTypebox<{ store: Store }> = async (app, { store }) => {
  app.get(
    '/api/traces/:traceId',
    {
      schema: {
        tags: ['traces'],
        summary: 'One trace: its spans, correlations, bridges and the links into and out of it',
        params: TraceIdParams,
        response: { 200: TraceDetail, 404: ErrorResponse },
      },
    },
    async request => {
      const traceId = request.params.traceId.toLowerCase();
      const [summary] = await store.traceSummaries([traceId]);
      if (!summary) throw errors.traceNotFound(traceId);
      const [{ spans }, correlations, bridges, links] = await Promise.all([
        store.spansOfTraces([traceId], 100000),
        store.correlations({ trace_id: traceId, limit: 500 }),
        store.bridgesOf({ traceId }),
        store.links(traceId),
      ]);
      return {
        summary,
        spans: orderForTimeline(toApiSpans(spans)),
        correlations,
        bridges,
        linksOut: links.out,
        linksIn: links.in,
      };
    },
  );
};
