// The correlator as a fastify plugin. Only server.ts listens; tests build the same app and use
// inject() or listen on port 0.
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { ErrorResponse, OtlpStatus } from '@correlation-station/api-schema';
import fp from 'fastify-plugin';
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { OPEN_PATHS, makeAuthHook } from './api/auth.js';
import { decompressBody } from './api/body-decompression.js';
import { OpenExchanges, answerClientErrors } from './api/client-errors.js';
import { decimalQueryHook } from './api/decimal-query.js';
import { ServedMethods, answerOtherMethods } from './api/method-not-allowed.js';
import { answerRouterRefusals } from './api/router-refusals.js';
import { continueIfExpected, deferContinue, refuseDeclaredOverLimit } from './api/expect-continue.js';
import { meteredBody } from './api/metered-body.js';
import { RenderedSpanCache } from './api/rendered-span-cache.js';
import { SpanRenderWorkers } from './api/span-render-workers.js';
import { useJsonBodyParser } from './api/json-body.js';
import { OPERATION_IDS, completeOpenApi } from './api/openapi.js';
import { discardUnreadBody, type LingerBounds } from './api/unread-body.js';
import { AJV_OPTIONS, schemaErrorFormatter } from './api/validation-message.js';
import { CorrelatorError, errors } from './api/errors.js';
import { apiError, otlpErrorEncoding } from './api/error-answers.js';
import { OverloadGuard, heapRefusalText } from './api/overload.js';
import { uploadTimedOut } from './api/timeout-answers.js';
import { apiLogsRoutes } from './api/routes/api-logs.js';
import { circuitRoutes } from './api/routes/circuits.js';
import { correlationRoutes } from './api/routes/correlations.js';
import { OTLP_MEDIA_TYPES, otlpRoutes } from './api/routes/otlp.js';
import { serviceGraphRoutes } from './api/routes/service-graph.js';
import { systemRoutes } from './api/routes/system.js';
import { traceRoutes } from './api/routes/traces.js';
import type { Config } from './config/config.js';
import { correlatingKeys } from './config/key-defaults.js';
import { CorrelationEngine, DEFAULT_LIVE_ENTRIES } from './correlation/engine.js';
import { hotStateBudget, liveTierAllowance } from './correlation/hot-state-budget.js';
import { TempoExporter } from './export/tempo-exporter.js';
import { IngestPipeline } from './ingest/pipeline.js';
import { keyRulesFromConfig } from './ingest/key-rules.js';
import { mdsoPlugin } from './mdso/index.js';
import type { OtlpJsonTraceRequest } from './mdso/ingest-types.js';
import { createCoreMetrics, followTotal, type CoreMetrics } from './metrics/core-metrics.js';
import { CONTENT_TYPE, rpcStatus } from './otlp/responses.js';
import { dataDirRefusal } from './store/sqlite/open-refusal.js';
import { SqliteStore, type SqliteStoreOptions } from './store/sqlite/sqlite-store.js';
import { LOST_SPAN_ATTRIBUTE, LOST_SPAN_NAME } from './store/sqlite/torn-chunks.js';
import { LogGate } from './runtime/log-gate.js';
import { RetentionSweeper } from './runtime/retention-sweeper.js';
import { processOldGenerationLimit } from './runtime/heap-limit.js';
import { HEAP_MARKS, HeapPressure } from './runtime/heap-pressure.js';

export interface AppOptions {
  config: Readonly<Config>;
  /** Injected clock for tests. */
  now?: () => number;
  /** Overrides for tests: fetch used by exporters. */
  fetchImpl?: typeof fetch;
  /** For tests: awaited between slices of a retention sweep, to hold one part-way. */
  retentionBetweenSlices?: () => Promise<void>;
  /** For tests: applied to the store's connection before it is used (a page budget: a full disk). */
  adjustStoreConnection?: SqliteStoreOptions['adjustConnection'];
  /** For tests: how often a store that takes no writes tries one. */
  storeWriteProbeMs?: number;
  /** For tests: the old generation's limit, instead of this process's (runtime/heap-limit.ts). */
  heapLimitBytes?: number;
  /** For tests: the heap in use that pressure is judged on, instead of the old generation's. */
  heapUsedBytes?: () => number;
}

export interface CorrelatorHandles {
  store: SqliteStore;
  engine: CorrelationEngine;
  pipeline: IngestPipeline;
  metrics: CoreMetrics;
  exporter: TempoExporter | null;
  /** Ingest admission: requests, event loop delay and body bytes in flight. */
  overload: OverloadGuard;
}

declare module 'fastify' {
  interface FastifyInstance {
    correlator: CorrelatorHandles;
    /** Retention sweeps run in the background: `idle()` settles when none runs. */
    retention: RetentionSweeper;
  }
  interface FastifyContextConfig {
    otlpSignal?: 'traces' | 'logs';
    /** An ingest route that is not OTLP: its refusals are counted like OTLP's, answered as any route's. */
    ingestSignal?: 'api_logs';
    /** What a 415 names as taken, when not OTLP's types nor only JSON. */
    acceptedMediaTypes?: readonly string[];
  }
}

export async function buildApp(opts: AppOptions): Promise<FastifyInstance> {
  const { config } = opts;
  const exchanges = new OpenExchanges();
  const app = Fastify({
    logger: {
      level: config.logLevel,
      // Credentials can arrive in headers; they never reach the log. A request node's parser refuses
      // is logged with the bytes it read (client-errors.ts), headers and all.
      redact: ['req.headers.authorization', 'req.headers.cookie', 'err.rawPacket'],
    },
    bodyLimit: config.limits.maxBodyBytes,
    requestTimeout: config.limits.requestTimeoutMs,
    // node enforces requestTimeout (and headersTimeout) only when it checks its connections, every
    // 30 s by default: a stalled request could outlive its timeout by that much. Ingest requests
    // have their own timer (OverloadGuard); this bounds the others.
    //
    // headersTimeout as node would derive it from requestTimeout: fastify sets requestTimeout after
    // the server is made, when headersTimeout is already its 60 s default, and node takes the lower
    // of the two as the headers' bound and the higher as the request's: with REQUEST_TIMEOUT_MS
    // under 60 s, a body stalled after its headers was cut only after 60 s.
    http: {
      connectionsCheckingInterval: Math.min(30_000, Math.max(250, Math.floor(config.limits.requestTimeoutMs / 4))),
      headersTimeout: Math.min(60_000, config.limits.requestTimeoutMs),
    },
    // Circuit ids may be up to 512 characters (CircuitIdParams), percent-encoded up to 3× that; fastify's default is 100.
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    frameworkErrors: answerRouterRefusals(MAX_PARAM_LENGTH),
    // Per-request lines would dominate the log at ingest rates; failures are logged by the error handler.
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
    // A 431 (or 400) for a request pipelined after others comes after their answers (client-errors.ts).
    clientErrorHandler: answerClientErrors(exchanges, config.limits.requestTimeoutMs),
    ajv: { customOptions: AJV_OPTIONS },
    schemaErrorFormatter,
  }).withTypeProvider<TypeBoxTypeProvider>();
  exchanges.watch(app.server);
  app.addHook('onRequest', exchanges.noteRoute);
  // fastify-plugin: the `correlator` decoration must be visible on the instance buildApp returns.
  await app.register(fp(correlatorApp, { name: 'correlation-station-correlator' }), opts);
  return app;
}

export async function correlatorApp(app: FastifyInstance, opts: AppOptions): Promise<void> {
  const { config } = opts;
  const now = opts.now ?? Date.now;
  const startedAtMs = Date.now();
  const metrics = createCoreMetrics();
  const queueFullLog = new LogGate(QUEUE_FULL_LOG_INTERVAL_MS);
  const store = openStore(config.dataDir, () =>
    new SqliteStore({
      dataDir: config.dataDir,
      exportBridges: config.tempo.endpoint
        ? {
            delayMs: config.tempo.bridgeExportDelaySeconds * 1000,
            maxHoldMs: config.tempo.bridgeExportMaxHoldSeconds * 1000,
            maxDepth: config.tempo.queueMax,
          }
        : null,
      onExportDropped: n => {
        metrics.exportDropped.inc({ reason: 'queue_full' }, n);
        // Only counted, an operator reading the log of a Tempo outage never learned spans were lost.
        const before = queueFullLog.pass(Date.now(), n);
        if (before !== null) {
          app.log.warn(
            { dropped: before + n, exportQueueMax: config.tempo.queueMax },
            'bridge export queue full (EXPORT_QUEUE_MAX): the oldest bridges were dropped and will not reach Tempo',
          );
        }
      },
      onCheckpointError: e => app.log.error({ err: e }, 'WAL checkpoint worker failed; falling back to in-line checkpoints'),
      writerThread: config.limits.storeWriterThread,
      rebuildLostSpans: config.limits.storeRebuildLostSpans,
      seenFilterBytes: config.limits.storeSeenFilterBytes,
      correlatingKeys: correlatingKeys(config.keys),
      onWriterError: e => app.log.error({ err: e }, 'store writer thread failed; ingest rows are written on the main thread from now on'),
      onWritesRestored: () => {
        app.log.info({ dataDir: config.dataDir }, 'the store takes writes again; ingest is accepted');
        retention.sweepIfStarted();
      },
      ...(opts.adjustStoreConnection ? { adjustConnection: opts.adjustStoreConnection } : {}),
      ...(opts.storeWriteProbeMs ? { writeProbeMs: opts.storeWriteProbeMs } : {}),
      dataDirEvents: {
        onLost: why => app.log.error({ dataDir: config.dataDir }, `${why} (DATA_DIR is ${config.dataDir})`),
        onRelocked: () =>
          app.log.warn({ dataDir: config.dataDir }, `the lock file of DATA_DIR (${config.dataDir}) was removed or replaced; the lock was taken again`),
      },
    }),
  );
  const refusedAtOpen = store.writesRefused;
  const repaired = store.repairedOnOpen;
  metrics.storeSpansRebuiltOnOpen.set(repaired?.lostSpans ?? 0);
  if (repaired)
    app.log.warn(
      { segments: repaired.segments, chunks: repaired.chunks, lostSpans: repaired.lostSpans, keptSpans: repaired.keptSpans },
      `the bytes of ${repaired.lostSpans} stored spans were missing from their segment files (a power cut or system crash, or STORE_REBUILD_LOST_SPANS); ` +
        `they are kept with their ids, parents, times, kind and status, named "${LOST_SPAN_NAME}" and marked ${LOST_SPAN_ATTRIBUTE}=true`,
    );
  const heapLimitBytes = opts.heapLimitBytes ?? processOldGenerationLimit();
  const hotState = hotStateBudget(
    { traces: config.limits.maxTrackedTraces, keys: config.limits.maxTrackedKeys, liveEntries: DEFAULT_LIVE_ENTRIES },
    heapLimitBytes,
  );
  if (hotState.lowered) logHotStateLowered(app, hotState, heapLimitBytes, config.limits);
  metrics.hotStateLimit.set({ kind: 'traces' }, hotState.bounds.traces);
  metrics.hotStateLimit.set({ kind: 'keys' }, hotState.bounds.keys);
  // The engine's own default for the live tier's bytes, shown beside what it holds.
  const liveAllowance = liveTierAllowance(hotState.bounds);
  metrics.hotStateLiveLimitBytes.set({ kind: 'traces' }, liveAllowance.traces);
  metrics.hotStateLiveLimitBytes.set({ kind: 'keys' }, liveAllowance.keys);
  const engine = new CorrelationEngine(
    {
      windowMs: config.correlationWindowSeconds * 1000,
      maxTrackedTraces: hotState.bounds.traces,
      maxTrackedKeys: hotState.bounds.keys,
      liveEntries: hotState.bounds.liveEntries,
      maxTracesPerCircuit: config.limits.maxTracesPerCircuit,
      bridgeKeys: config.keys.bridgeKeys,
      correlationKeys: config.keys.correlationKeys,
      now,
    },
    store,
  );
  const rules = keyRulesFromConfig(config);
  const pipeline = new IngestPipeline(store, engine, metrics, rules, now, { retentionDays: config.retentionDays });
  const spanJsonCache = spanJsonCacheFor(app, config.limits.spanJsonCacheBytes, heapLimitBytes);
  metrics.spanJsonCacheLimit.set(spanJsonCache?.maxBytes ?? 0);
  const heapPressure = watchHeap(app, engine, spanJsonCache, metrics, heapLimitBytes, opts.heapUsedBytes);
  const guard = new OverloadGuard(
    config.limits.maxInflightRequests,
    config.limits.maxEventLoopDelayMs,
    config.limits.maxInflightBytes,
    { totalMs: config.limits.requestTimeoutMs, idleMs: config.limits.requestIdleTimeoutMs },
    heapPressure,
  );
  const exporter = config.tempo.endpoint
    ? new TempoExporter({
        endpoint: config.tempo.endpoint,
        headers: config.tempo.headers,
        batchSize: config.tempo.batchSize,
        store,
        metrics,
        logger: app.log,
        ...(opts.fetchImpl ? { fetchImpl: opts.fetchImpl } : {}),
      })
    : null;
  app.decorate('correlator', { store, engine, pipeline, metrics, exporter, overload: guard });

  const renderWorkers =
    config.limits.viewRenderWorkers > 0
      ? new SpanRenderWorkers(config.limits.viewRenderWorkers, e => app.log.error({ err: e }, 'view render worker failed; its shares are rendered on the main thread'))
      : undefined;
  // Engine and cache keep running totals; the counters follow them when /metrics is scraped.
  const tracesEvicted = followTotal(metrics.hotStateEvictions, { kind: 'traces' });
  const keysEvicted = followTotal(metrics.hotStateEvictions, { kind: 'keys' });
  const demoted = {
    traces: { entries: followTotal(metrics.hotStateDemotions, { kind: 'traces', reason: 'entries' }), bytes: followTotal(metrics.hotStateDemotions, { kind: 'traces', reason: 'bytes' }) },
    keys: { entries: followTotal(metrics.hotStateDemotions, { kind: 'keys', reason: 'entries' }), bytes: followTotal(metrics.hotStateDemotions, { kind: 'keys', reason: 'bytes' }) },
  };
  const cacheHits = followTotal(metrics.spanJsonCacheLookups, { outcome: 'hit' });
  const cacheMisses = followTotal(metrics.spanJsonCacheLookups, { outcome: 'miss' });
  const workerSpans = followTotal(metrics.renderWorkerSpans, {});
  const inFlightWaits = followTotal(metrics.storeInFlightWaits, {});
  const commits = followTotal(metrics.storeCommits, {});
  const seenFilterBuilds = followTotal(metrics.storeSeenFilterBuilds, {});
  const lookupsSkipped = followTotal(metrics.storeLookupsSkipped, {});
  const refreshGauges = () => {
    const s = engine.stats();
    metrics.hotStateSize.set({ kind: 'traces' }, s.trackedTraces);
    metrics.hotStateSize.set({ kind: 'keys' }, s.trackedKeys);
    tracesEvicted(s.traceEvictions);
    keysEvicted(s.keyEvictions);
    metrics.hotStateLiveBytes.set({ kind: 'traces' }, s.liveTraceBytes);
    metrics.hotStateLiveBytes.set({ kind: 'keys' }, s.liveKeyBytes);
    metrics.hotStateNamingIndexBytes.set(s.namingIndexBytes);
    demoted.traces.entries(s.traceDemotions.entries);
    demoted.traces.bytes(s.traceDemotions.bytes);
    demoted.keys.entries(s.keyDemotions.entries);
    demoted.keys.bytes(s.keyDemotions.bytes);
    metrics.exportQueueDepth.set(store.exportQueueDepth());
    const w = store.writeStats();
    metrics.storeWritesInFlight.set(w.inFlight);
    metrics.storeWriterThread.set(w.writerThread ? 1 : 0);
    inFlightWaits(w.waits);
    commits(w.commits);
    const segments = store.spanSegmentStats();
    metrics.storeSpanSegments.set(segments.segments);
    metrics.storeSpanSegmentBytes.set(segments.bytes);
    const seen = store.seenFilterStats();
    metrics.storeSeenFilterBytes.set(seen.bytes);
    metrics.storeSeenFilterEntries.set(seen.entries);
    seenFilterBuilds(seen.builds);
    lookupsSkipped(seen.skipped);
    metrics.ingestInflight.set(guard.current);
    metrics.ingestBodyBytesInFlight.set(guard.bodyBytes.held);
    if (spanJsonCache) {
      metrics.spanJsonCacheBytes.set(spanJsonCache.bytes);
      metrics.spanJsonCacheEntries.set(spanJsonCache.size);
      cacheHits(spanJsonCache.hits);
      cacheMisses(spanJsonCache.misses);
    }
    if (renderWorkers) workerSpans(renderWorkers.spansRendered);
  };

  // Before the documentation's routes, so they are answered 405 for other methods too.
  const servedMethods = new ServedMethods();
  app.addHook('onRoute', route => servedMethods.note(route));
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Correlation Station correlator',
        description: 'OTLP ingest, circuit correlation, stitched traces and MDSO health for Grafana',
        version: config.version,
      },
      tags: [
        { name: 'otlp', description: 'OTLP/HTTP receivers' },
        { name: 'circuits', description: 'Circuits and their stitched traces' },
        { name: 'traces' },
        { name: 'correlations' },
        { name: 'logs' },
        { name: 'service-graph' },
        { name: 'mdso', description: 'MDSO health: errors, issues, defect catalogue, poller' },
        { name: 'system' },
      ],
    },
    transformObject: document =>
      'openapiObject' in document ? completeOpenApi(document.openapiObject as Record<string, unknown>, config.auth) : document.swaggerObject,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  // Every route documents the errors every route can give: 401 with auth on, 400 for bad input.
  // OTLP routes answer errors as google.rpc.Status in the request's encoding, not as ErrorResponse,
  // and document their own 400s; those without responses are the hidden method-not-allowed ones.
  app.addHook('onRoute', route => {
    if (!route.schema || route.url.startsWith('/docs')) return;
    if (typeof route.method === 'string') route.schema.operationId ??= OPERATION_IDS[`${route.method} ${route.url}`];
    const otlp = route.config?.otlpSignal !== undefined;
    if (otlp && !route.schema.response) return;
    const response = (route.schema.response ??= {}) as Record<string, unknown>;
    if (!OPEN_PATHS.has(route.url)) {
      response[401] ??= { ...(otlp ? OtlpStatus : ErrorResponse), description: 'Credentials missing or wrong (AUTH_MODE basic or bearer)' };
    }
    // A body is parsed whenever one is sent, even to a route that reads none (POST /api/mdso/collect):
    // invalid JSON is a 400, another content type a 415.
    const takesBody = [route.method].flat().some(m => m === 'POST' || m === 'PUT' || m === 'PATCH');
    if (!otlp && (route.schema.params || route.schema.querystring || route.schema.body || takesBody)) response[400] ??= ErrorResponse;
    const decimal = decimalQueryHook(route.schema.querystring);
    if (decimal) route.preValidation = [...[route.preValidation ?? []].flat(), decimal];
    if (!otlp && (route.schema.body || takesBody)) {
      response[415] ??= { ...ErrorResponse, description: 'A Content-Type the route does not take, or a Content-Encoding other than gzip or deflate' };
    }
  });
  useJsonBodyParser(app);
  app.addHook('onRequest', makeAuthHook(config.auth));
  app.addHook('onRequest', refuseDeclaredOverLimit);
  deferContinue(app.server);
  app.addHook('preParsing', async (request, reply, payload) => {
    continueIfExpected(request, reply);
    const body = await decompressBody(request, payload);
    return body === payload ? meteredBody(request, payload) : body;
  });
  // Two seconds without a byte is many round trips even on a slow WAN: a client that has read the
  // answer and stopped. The byte bound allows for what is already in flight (socket buffers alone
  // hold MiBs); the time bound keeps a client that trickles on from holding the connection.
  const linger: LingerBounds = {
    idleMs: 2000,
    maxMs: 30_000,
    maxBytes: Math.max(config.limits.maxBodyBytes, 16 * 1024 * 1024),
  };
  app.setErrorHandler((error: FastifyError | CorrelatorError, request, reply) =>
    sendError(error, request, reply, metrics, linger),
  );
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({
      statusCode: 404,
      error: 'Not Found',
      code: 'CORR_ERR_NO_ROUTE',
      message: `no route ${request.method} ${request.url.split('?')[0]}; see /docs`,
    });
  });

  await app.register(otlpRoutes, {
    pipeline,
    guard,
    metrics,
    maxItemsPerRequest: config.limits.maxItemsPerRequest,
    maxAttributesPerRequest: config.limits.maxAttributesPerRequest,
  });
  await app.register(apiLogsRoutes, { pipeline, store, rules, guard, metrics, maxBatchSize: config.limits.maxBatchSize, now });
  await app.register(circuitRoutes, { store, spanJsonCache, renderWorkers });
  await app.register(traceRoutes, { store, spanJsonCache, renderWorkers });
  await app.register(correlationRoutes, { store });
  await app.register(serviceGraphRoutes, { store });
  await app.register(systemRoutes, {
    config,
    store,
    metrics,
    startedAtMs,
    refreshGauges,
    ingestRefusal: () => (heapPressure.active ? heapRefusalText(heapPressure) : null),
  });
  await app.register(mdsoPlugin, {
    config: config.mdso,
    db: store.db,
    registry: metrics.registry,
    ingestTraces: async (request: OtlpJsonTraceRequest) => {
      const r = await pipeline.tracesFromJson(request, 'mdso_poller');
      return { accepted: r.accepted, duplicates: r.duplicates, rejected: r.rejected, errorMessage: r.message };
    },
    ...(opts.now ? { now: opts.now } : {}),
  });
  answerOtherMethods(app, servedMethods, url => url.startsWith('/api/') || SERVICE_PATHS.has(url));

  const retention = new RetentionSweeper({
    store,
    retentionDays: config.retentionDays,
    now,
    forget: touched => engine.forget(touched),
    replan: episodes => pipeline.replanThinned(episodes),
    log: app.log,
    ...(opts.retentionBetweenSlices ? { betweenSlices: opts.retentionBetweenSlices } : {}),
  });
  app.decorate('retention', retention);
  app.addHook('onReady', async () => {
    // Once, as the app starts: ingest refused for it is not logged again (ingestRefusal).
    if (refusedAtOpen !== null)
      app.log.error(
        { dataDir: config.dataDir },
        `DATA_DIR (${config.dataDir}) has no room for writes (${refusedAtOpen}): the stored data is served, but ingest is ` +
          'refused (503 with Retry-After) and /ready is 503 until a write succeeds again, tried every 5 s',
      );
    guard.reset();
    exporter?.start();
  });
  // Once listening, not when ready: the start-up sweep's slices ran between the steps of listen
  // and kept a start with a backlog from listening for seconds. An app that is only injected
  // (tests) sweeps when told (app.retention).
  app.addHook('onListen', async () => retention.start());
  app.addHook('onClose', async () => {
    retention.stop();
    await exporter?.stop();
    await renderWorkers?.close();
    guard.close();
    heapPressure.close();
    await store.close();
    // prom-client's default GC metric observes GC for the life of the process and keeps its
    // registry: emptied, the registry no longer holds this app's metrics and what their collect
    // callbacks close over (the store, the MDSO catalogue), which every app built and closed in
    // one process (tests, the fuzz harness) kept, about 3 MB each.
    metrics.registry.clear();
  });
}

const MiB = 2 ** 20;

/** The router's bound on a path parameter: ids are at most 512 characters, percent-encoded up to 3× that. */
const MAX_PARAM_LENGTH = 2048;

/** The service's own paths outside /api, answered 405 with Allow for another method as /api's are. */
const SERVICE_PATHS = new Set(['/health', '/ready', '/metrics', '/docs', '/docs/', '/docs/json', '/docs/yaml', '/docs/static/*']);

/** At most one line a minute of bridges dropped from a full export queue. */
const QUEUE_FULL_LOG_INTERVAL_MS = 60_000;

function logHotStateLowered(app: FastifyInstance, budget: ReturnType<typeof hotStateBudget>, heapLimitBytes: number, limits: Config['limits']): void {
  const { traces, keys } = budget.bounds;
  const heapNeededMiB = Math.ceil(budget.heapNeededBytes / MiB);
  app.log.warn(
    { maxTrackedTraces: limits.maxTrackedTraces, maxTrackedKeys: limits.maxTrackedKeys, trackedTraces: traces, trackedKeys: keys, heapLimitBytes },
    `the heap is too small for hot state as configured: MAX_TRACKED_TRACES=${limits.maxTrackedTraces} and ` +
      `MAX_TRACKED_KEYS=${limits.maxTrackedKeys} need ~${Math.ceil(budget.neededBytes / MiB)} MiB, over the ` +
      `${Math.round(budget.budgetBytes / MiB)} MiB hot state may take of the ${Math.round(heapLimitBytes / MiB)} MiB heap, so at most ` +
      `${traces} traces and ${keys} keys are tracked (hot_state_limit in /metrics); to track them all, start node with ` +
      `--max-old-space-size=${heapNeededMiB} or more (e.g. in NODE_OPTIONS)`,
  );
}

/**
 * The span JSON cache, held to an eighth of the heap: at its 64 MiB default on a 64 MiB heap it
 * filled the heap after a flood (a review: 140,896 spans held, ~1,600 full collections while a
 * client read its traces back, each pass taking 15–25 minutes).
 */
function spanJsonCacheFor(app: FastifyInstance, configuredBytes: number, heapLimitBytes: number): RenderedSpanCache | undefined {
  if (configuredBytes <= 0) return undefined;
  const bytes = Math.min(configuredBytes, Math.floor(heapLimitBytes / 8));
  if (bytes < configuredBytes)
    app.log.info(
      { spanJsonCacheBytes: configuredBytes, heldTo: bytes, heapLimitBytes },
      `the span JSON cache is held to ${Math.round(bytes / MiB)} MiB, an eighth of the heap, below SPAN_JSON_CACHE_BYTES (${Math.round(configuredBytes / MiB)} MiB)`,
    );
  return new RenderedSpanCache(bytes);
}

/**
 * Refuses ingest while the heap is nearly full (through the OverloadGuard), and makes room:
 * hot state drops its oldest half each time, which the store gives back when a trace comes again.
 */
function watchHeap(
  app: FastifyInstance,
  engine: CorrelationEngine,
  spanJsonCache: RenderedSpanCache | undefined,
  metrics: CoreMetrics,
  limitBytes: number,
  usedBytes?: () => number,
): HeapPressure {
  const mib = (n: number) => Math.round(n / MiB);
  let warned = false;
  return new HeapPressure({
    limitBytes,
    ...(usedBytes ? { usedBytes } : {}),
    onPressure: ({ usedBytes }) => {
      const before = engine.stats();
      engine.shrink(0.5);
      // A cache first of all: what it held is rendered again from the store when asked.
      spanJsonCache?.clear();
      const after = engine.stats();
      metrics.heapPressure.set(1);
      const evicted = { traces: before.trackedTraces - after.trackedTraces, keys: before.trackedKeys - after.trackedKeys };
      const line = `the heap is nearly full (${mib(usedBytes)} of ${mib(limitBytes)} MiB in use after garbage collection): ingest is refused with 503 ` +
        `until it is below ${Math.round(HEAP_MARKS.low * 100)}%; hot state evicted its oldest ${evicted.traces} traces and ${evicted.keys} keys`;
      if (warned) app.log.debug({ heapUsedBytes: usedBytes, evicted }, line);
      else app.log.warn({ heapUsedBytes: usedBytes, heapLimitBytes: limitBytes, evicted }, line);
      warned = true;
    },
    onRelief: ({ usedBytes }) => {
      warned = false;
      metrics.heapPressure.set(0);
      app.log.info({ heapUsedBytes: usedBytes, heapLimitBytes: limitBytes }, `the heap is below ${Math.round(HEAP_MARKS.low * 100)}% again (${mib(usedBytes)} of ${mib(limitBytes)} MiB): ingest is taken again`);
    },
  });
}

function sendError(
  error: FastifyError | CorrelatorError,
  request: FastifyRequest,
  reply: FastifyReply,
  metrics: CoreMetrics,
  linger: LingerBounds,
): void {
  discardUnreadBody(request, reply, linger);
  let status = error.statusCode ?? 500;
  if (status < 400) status = 500;
  const code = error.code ?? 'CORR_ERR_INTERNAL';
  let message = error.message;
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    // Only a compressed body's limit is on what it inflates to; saying so for a plain body suggested it was compressed.
    const encoding = String(request.headers['content-encoding'] ?? '').trim().toLowerCase();
    const compressed = encoding !== '' && encoding !== 'identity';
    message = `request body is larger than the limit (MAX_BODY_BYTES, ${request.routeOptions.bodyLimit} bytes)${compressed ? ' after decompression' : ''}`;
  }
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    // fastify's own message does not say what would have been taken.
    const config = request.routeOptions.config;
    const accepted = config?.acceptedMediaTypes ?? (config?.otlpSignal ? OTLP_MEDIA_TYPES : ['application/json']);
    message = errors.unsupportedMediaType(request.headers['content-type'], accepted).message;
  }
  if (code === 'FST_ERR_VALIDATION') message = `invalid request: ${error.message}`;
  if (status >= 500 && !(error instanceof CorrelatorError)) {
    request.log.error({ err: error, url: request.url }, 'request failed');
    message = 'internal error; see the correlator log';
  } else if (status >= 400 && status !== 404) {
    request.log.debug({ code, url: request.url, message }, 'request refused');
  }
  if (error instanceof CorrelatorError && error.retryAfterSeconds !== undefined) {
    reply.header('Retry-After', String(error.retryAfterSeconds));
    metrics.overloadRefusals.inc({ reason: code });
  }
  const ingestSignal = request.routeOptions.config?.ingestSignal;
  // The answer the client got: an upload cut at a request timeout was answered 408 on its socket.
  const outcome = String(uploadTimedOut(request.raw) ? 408 : status);
  if (ingestSignal) metrics.ingestRequests.inc({ signal: ingestSignal, outcome });
  const signal = request.routeOptions.config?.otlpSignal;
  if (signal) metrics.ingestRequests.inc({ signal, outcome });
  const encoding = otlpErrorEncoding(request);
  if (encoding) reply.code(status).type(CONTENT_TYPE[encoding]).send(rpcStatus(status, message, encoding));
  else reply.code(status).send(apiError(status, code, message));
}

/** Opens the store; a directory it cannot use is refused as a setting (exit 2, one line), not a crash. */
function openStore(dataDir: string, open: () => SqliteStore): SqliteStore {
  try {
    return open();
  } catch (e) {
    throw dataDirRefusal(dataDir, e) ?? e;
  }
}
