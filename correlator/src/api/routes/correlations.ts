import { CorrelationListQuery, CorrelationListResponse, ErrorResponse } from '@correlation-station/api-schema';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Store } from '../../store/store.js';
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
      const { from, to, limit, ...rest } = request.query;
      return { correlations: await store.correlations({ ...rest, ...parseRange(from, to), limit: limit ?? 100 }) };
    },
  );
};
