import {
  ErrorResponse,
  MAX_GRAPH_TRACES,
  ServiceGraph,
  ServiceGraphQuery,
  ServiceList,
  ServiceListQuery,
} from '@correlation-station/api-schema';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Store } from '../../store/store.js';
import { parseRange } from '../time-params.js';

export const serviceGraphRoutes: FastifyPluginAsyncTypebox<{ store: Store }> = async (app, { store }) => {
  app.get(
    '/api/service-graph',
    {
      schema: {
        tags: ['service-graph'],
        summary:
          'Services and the calls between them; edges that exist only through bridges are marked bridged, ' +
          'and span links between its traces are edges marked linked',
        description:
          `Without circuit_id, the graph is drawn from at most the ${MAX_GRAPH_TRACES} most recent traces of the range: ` +
          'truncated says when the range held more (older services and calls are then missing and counts low; narrow the range ' +
          "or ask for one circuit). With circuit_id, from all of the circuit's traces in the range.",
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

  app.get(
    '/api/services',
    {
      schema: {
        tags: ['service-graph'],
        summary: 'The services with data in a time range, by name',
        description:
          'Every service, however many traces the range holds (the service graph draws from the most recent only). ' +
          "Kept per hour: the range's first and last hours count whole.",
        querystring: ServiceListQuery,
        response: { 200: ServiceList, 400: ErrorResponse },
      },
    },
    async request => ({ services: await store.services(parseRange(request.query.from, request.query.to)) }),
  );
};
