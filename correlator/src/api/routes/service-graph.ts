import { ErrorResponse, ServiceGraph, ServiceGraphQuery } from '@correlation-station/api-schema';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Store } from '../../store/store.js';
import { parseRange } from '../time-params.js';

/** Traces examined for one graph; recent ones first, so a wide range stays answerable. */
const MAX_GRAPH_TRACES = 5000;

export const serviceGraphRoutes: FastifyPluginAsyncTypebox<{ store: Store }> = async (app, { store }) => {
  app.get(
    '/api/service-graph',
    {
      schema: {
        tags: ['service-graph'],
        summary: 'Services and the calls between them; edges that exist only through bridges are marked bridged',
        querystring: ServiceGraphQuery,
        response: { 200: ServiceGraph, 400: ErrorResponse },
      },
    },
    async request => {
      const { from, to, circuit_id } = request.query;
      return store.serviceGraph({
        ...parseRange(from, to),
        ...(circuit_id ? { circuitId: circuit_id } : {}),
        maxTraces: MAX_GRAPH_TRACES,
      });
    },
  );
};
