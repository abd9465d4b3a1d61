import {
  API_VERSION,
  CORRELATOR_SERVICE_NAME,
  HealthResponse,
  NoQuery,
  InfoResponse,
  ReadyResponse,
} from '@correlation-station/api-schema';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Config } from '../../config/config.js';
import type { CoreMetrics } from '../../metrics/core-metrics.js';
import type { Store } from '../../store/store.js';

export interface SystemRoutesOptions {
  config: Readonly<Config>;
  store: Store;
  metrics: CoreMetrics;
  startedAtMs: number;
  /** Refreshes gauges that are read rather than counted (hot state, queue depth). */
  refreshGauges: () => void;
  /** Why every ingest request is refused for now (the heap is nearly full), or null. */
  ingestRefusal: () => string | null;
}

export const systemRoutes: FastifyPluginAsyncTypebox<SystemRoutesOptions> = async (app, opts) => {
  app.get(
    '/health',
    { schema: { tags: ['system'], summary: 'Liveness', response: { 200: HealthResponse } } },
    async () => ({ status: 'healthy' as const, uptimeSeconds: (Date.now() - opts.startedAtMs) / 1000 }),
  );

  app.get(
    '/ready',
    {
      schema: {
        tags: ['system'],
        summary: 'Readiness: the store answers and takes writes, and ingest is not refused for a nearly full heap',
        response: { 200: ReadyResponse, 503: ReadyResponse },
      },
    },
    async (_request, reply) => {
      let storeOk = false;
      let detail = '';
      try {
        storeOk = opts.store.ping();
        // Reads alone are not ready: a store that refuses every write (disk full) must send ingest
        // elsewhere, as its clients would only be refused.
        const trouble = storeOk ? opts.store.writeTrouble() : null;
        if (trouble !== null) {
          storeOk = false;
          detail = trouble;
        }
      } catch (e) {
        detail = (e as Error).message;
      }
      // A heap kept nearly full refuses all ingest for tens of seconds (RV7): as with a store
      // that takes no writes, a balancer should send it elsewhere meanwhile. Queries are still
      // answered. Its marks are apart (85%, 75%), so readiness does not flap with each request.
      const refusal = opts.ingestRefusal();
      const ready = storeOk && refusal === null;
      const body = {
        status: ready ? ('ready' as const) : ('not_ready' as const),
        checks: {
          store: storeOk ? { ok: true } : { ok: false, detail: detail || 'no answer' },
          heap: refusal === null ? { ok: true } : { ok: false, detail: refusal },
        },
      };
      if (!ready) reply.code(503);
      return body;
    },
  );

  app.get(
    '/api/info',
    {
      schema: {
        tags: ['system'],
        summary: 'What this service is, so clients (the Grafana datasource) can check they talk to the right one',
        querystring: NoQuery,
        response: { 200: InfoResponse },
      },
    },
    async () => ({
      service: CORRELATOR_SERVICE_NAME,
      version: opts.config.version,
      apiVersion: API_VERSION,
      authMode: opts.config.auth.mode,
      correlationWindowSeconds: opts.config.correlationWindowSeconds,
      features: { mdso: opts.config.mdso.url !== null, tempoExport: opts.config.tempo.endpoint !== null },
    }),
  );

  let refreshFailure: string | null = null;
  app.get(
    '/metrics',
    {
      schema: {
        tags: ['system'],
        summary: 'Prometheus metrics',
        produces: ['text/plain'],
        response: { 200: Type.String() },
      },
    },
    async (request, reply) => {
      try {
        opts.refreshGauges();
        refreshFailure = null;
      } catch (e) {
        // A gauge that cannot be read must not hide the others: they are served, it keeps its last
        // value, and the failure is logged when it first comes (a scrape every 15 s would repeat it).
        const why = (e as Error).message;
        if (why !== refreshFailure) request.log.error({ err: e }, 'a /metrics gauge could not be refreshed; it keeps its last value');
        refreshFailure = why;
      }
      reply.type(opts.metrics.registry.contentType);
      return opts.metrics.registry.metrics();
    },
  );
};
