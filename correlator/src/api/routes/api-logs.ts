// The user's existing JSON log API: POST /api/logs (batch) and GET /api/logs (recent logs).
import {
  ErrorResponse,
  LogBatch,
  LogBatchResponse,
  LogListQuery,
  LogListResponse,
} from '@correlation-station/api-schema';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { IngestPipeline } from '../../ingest/pipeline.js';
import { batchResourceProblem, convertLogBatch } from '../../ingest/log-batch.js';
import type { CoreMetrics } from '../../metrics/core-metrics.js';
import type { KeyExtractionRules } from '../../otlp/decoded.js';
import type { Store } from '../../store/store.js';
import { countJsonArrays, type JsonItemKeys } from '../../otlp/item-count.js';
import { errors, ingestRefusal } from '../errors.js';
import { useJsonBodyParser } from '../json-body.js';
import { mediaTypeOf } from '../media-type.js';
import { otherMethods } from '../other-methods.js';
import type { OverloadGuard } from '../overload.js';
import { logPage, pastCursor } from '../log-cursor.js';
import { parseMinSeverity } from '../severity-param.js';
import { parseExactRange } from '../time-params.js';

export interface ApiLogsOptions {
  pipeline: IngestPipeline;
  store: Store;
  rules: KeyExtractionRules;
  guard: OverloadGuard;
  metrics: CoreMetrics;
  maxBatchSize: number;
  /** The server's clock, which records' times are judged by. */
  now: () => number;
}


/** The batch's records: the array under the top-level `records` key. */
const BATCH_RECORDS: JsonItemKeys = { items: ['records'], containers: [], rootOnly: true };

export const apiLogsRoutes: FastifyPluginAsyncTypebox<ApiLogsOptions> = async (app, opts) => {
  // Records are counted before the body is parsed and validated, which costs far more than the
  // count: a batch far over MAX_BATCH_SIZE was parsed whole, and held the event loop, to be refused.
  useJsonBodyParser(app, (_request, text) => {
    const { items } = countJsonArrays(text, BATCH_RECORDS, opts.maxBatchSize);
    return items > opts.maxBatchSize ? errors.tooManyRecords(items, opts.maxBatchSize) : null;
  });

  app.post(
    '/api/logs',
    {
      schema: {
        tags: ['logs'],
        summary: 'Ingest a batch of logs in the JSON batch format',
        description: 'Invalid records are rejected one by one (listed in errors); the valid ones are stored.',
        body: LogBatch,
        response: {
          200: LogBatchResponse,
          400: ErrorResponse,
          405: { ...ErrorResponse, description: 'Not this method: any other than GET, HEAD and POST on /api/logs (PUT, OPTIONS, PROPFIND…) is answered 405 with Allow: GET, HEAD, POST' },
          413: ErrorResponse,
          415: { ...ErrorResponse, description: 'A Content-Type other than application/json, or a Content-Encoding other than gzip or deflate' },
          429: ErrorResponse,
          503: ErrorResponse,
        },
      },
      config: { ingestSignal: 'api_logs' },
      onRequest: opts.guard.admitRequest,
      // fastify parses text/plain too, and the schema then refused the string as "body must be
      // object", which does not tell the client that only the media type was wrong.
      preValidation: async request => {
        if (mediaTypeOf(request) !== 'application/json')
          throw errors.unsupportedMediaType(request.headers['content-type'], ['application/json'], 'CORR_ERR_BAD_CONTENT_TYPE');
        // The schema's "body must be object" did not say what a batch is (RV17: a bare list of records).
        const body: unknown = request.body;
        if (body === null || typeof body !== 'object' || Array.isArray(body))
          throw errors.batchNotObject(Array.isArray(body) ? 'a list (of records?)' : body === null ? 'null' : `a ${typeof body}`);
      },
    },
    async request => {
      const batch = request.body;
      if (batch.records.length > opts.maxBatchSize) throw errors.tooManyRecords(batch.records.length, opts.maxBatchSize);
      const resourceProblem = batchResourceProblem(batch.resource, opts.rules);
      if (resourceProblem) throw errors.batchResourceOverLimit(resourceProblem);
      const converted = convertLogBatch(batch, opts.rules, opts.now());
      const result = await opts.pipeline
        .decodedLogs(
          converted.logs,
          converted.errors.length,
          converted.errors.slice(0, 5).map(e => `records[${e.index}]: ${e.message}`),
        )
        .catch((e: unknown) => {
          throw ingestRefusal(e, request.log) ?? e;
        });
      opts.metrics.ingestRequests.inc({ signal: 'api_logs', outcome: result.rejected > 0 ? 'partial' : 'ok' });
      return {
        accepted: result.accepted,
        duplicates: result.duplicates,
        rejected: converted.errors.length,
        errors: converted.errors,
        warnings: [...result.warnings],
      };
    },
  );

  app.get(
    '/api/logs',
    {
      schema: {
        tags: ['logs'],
        summary: 'Recent logs, newest first (oldest first with direction=forward), optionally for one circuit, trace or service, or of a least severity',
        querystring: LogListQuery,
        response: { 200: LogListResponse, 400: ErrorResponse },
      },
    },
    async request => {
      const { from, to, limit = 100, min_severity, cursor, ...rest } = request.query;
      const minSeverity = parseMinSeverity('min_severity', min_severity);
      const past = pastCursor(cursor);
      return logPage(
        await opts.store.logs({
          ...rest,
          ...parseExactRange(from, to),
          ...(minSeverity ? { minSeverity } : {}),
          ...past,
          limit: limit + 1,
        }),
        limit,
      );
    },
  );

  app.route({
    method: otherMethods(app, ['GET', 'HEAD', 'POST']),
    url: '/api/logs',
    schema: { hide: true },
    handler: async (request, reply) => {
      reply.header('Allow', 'GET, HEAD, POST');
      throw errors.methodNotAllowed(request.method, '/api/logs', ['GET', 'POST']);
    },
  });
};
