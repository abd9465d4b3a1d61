import { CorrelationListQuery, CorrelationListResponse, ErrorResponse } from '@correlation-station/api-schema';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Store } from '../../store/store.js';
import { firstOfLimit } from '../list-limit.js';
import { parseRange } from '../time-params.js';

export const correlationRoutes: FastifyPluginAsyncTypebox<{ store: Store }> = async (app, { store }) => {
  app.get(
    '/api/correlations',
    {
      schema: {
        tags: ['correlations'],
        summary: 'Correlation events, most recent first',
        querystring: CorrelationListQuery,
        response: { 200: CorrelationListResponse, 400: ErrorResponse },
      },
    },
    async request => {
      const { from, to, limit = 100, ...rest } = request.query;
      const { items, truncated } = firstOfLimit(await store.correlations({ ...rest, ...parseRange(from, to), limit: limit + 1 }), limit);
      return { correlations: items, truncated };
    },
  );
};
