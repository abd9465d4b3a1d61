import {
  CircuitDetail,
  CircuitDetailQuery,
  DETAIL_TRACES_DEFAULT,
  CircuitIdParams,
  CircuitListQuery,
  CircuitListResponse,
  CircuitLogQuery,
  ErrorResponse,
  LogListResponse,
  StitchedTrace,
  StitchedTraceQuery,
} from '@correlation-station/api-schema';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Store, TimeRange } from '../../store/store.js';
import { detailCorrelations, DETAIL_CORRELATIONS } from '../detail-correlations.js';
import { firstOfLimit } from '../list-limit.js';
import { logPage, pastCursor } from '../log-cursor.js';
import { errors } from '../errors.js';
import { ViewLookup, type RenderedSpanCache } from '../rendered-span-cache.js';
import { sendWithSpans } from '../span-json.js';
import type { SpanRenderWorkers } from '../span-render-workers.js';
import { parseMinSeverity } from '../severity-param.js';
import { parseExactRange, parseRange } from '../time-params.js';
import { withClockChecks } from '../../stitching/clock-skew.js';

export const circuitRoutes: FastifyPluginAsyncTypebox<{
  store: Store;
  /** undefined: SPAN_JSON_CACHE_BYTES=0, every view is rendered. */
  spanJsonCache: RenderedSpanCache | undefined;
  /** Share the rendering of large views; undefined: VIEW_RENDER_WORKERS=0. */
  renderWorkers: SpanRenderWorkers | undefined;
}> = async (app, { store, spanJsonCache, renderWorkers }) => {
  app.get(
    '/api/circuits',
    {
      schema: {
        tags: ['circuits'],
        summary: 'Circuits seen, most recent first, with a summary of each',
        querystring: CircuitListQuery,
        response: { 200: CircuitListResponse, 400: ErrorResponse },
      },
    },
    async request => {
      const { from, to, limit = 100, ...rest } = request.query;
      const { items, truncated } = firstOfLimit(await store.listCircuits({ ...rest, ...parseRange(from, to), limit: limit + 1 }), limit);
      return { circuits: items, truncated };
    },
  );

  app.get(
    '/api/circuits/:id',
    {
      schema: {
        tags: ['circuits'],
        summary: "One circuit's summary, its traces, correlations and bridges",
        params: CircuitIdParams,
        querystring: CircuitDetailQuery,
        response: { 200: CircuitDetail, 400: ErrorResponse, 404: ErrorResponse },
      },
    },
    async request => {
      const { id } = request.params;
      const range = parseRange(request.query.from, request.query.to);
      const summary = await store.getCircuit(id);
      if (!summary) throw errors.circuitNotFound(id);
      // A circuit polled or reactivated for days has thousands of traces: a detail of all of them
      // was megabytes. The most recent are the ones looked for; a range picks out older ones.
      const { traceIds, truncated: cut } = await store.recentCircuitTraceIds(id, range, request.query.limit ?? DETAIL_TRACES_DEFAULT);
      const [traces, correlations, bridges] = await Promise.all([
        store.traceSummaries(traceIds),
        store.correlations({ circuit_id: id, ...range, limit: DETAIL_CORRELATIONS + 1 }),
        store.bridgesOf(bridgesInView(id, traceIds, range, cut)),
      ]);
      return { summary, traces, tracesTruncated: cut, ...detailCorrelations(correlations), bridges };
    },
  );

  app.get(
    '/api/circuits/:id/trace',
    {
      schema: {
        tags: ['circuits'],
        summary: "The stitched view: every span of the circuit's most recent traces plus bridge spans, on one timeline",
        params: CircuitIdParams,
        querystring: StitchedTraceQuery,
        response: { 200: StitchedTrace, 400: ErrorResponse, 404: ErrorResponse },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const range = parseRange(request.query.from, request.query.to);
      // As the detail lists them: a circuit polled for days has tens of thousands of traces, whose
      // ids alone made a view megabytes and whose spans were all read to show the first `limit`.
      const { traceIds, truncated: tracesTruncated } = await store.recentCircuitTraceIds(id, range, request.query.traces ?? DETAIL_TRACES_DEFAULT);
      // A circuit seen only in logs so far has a view, an empty one.
      if (traceIds.length === 0 && !(await store.getCircuit(id))) throw errors.circuitNotFound(id);
      const limit = request.query.limit ?? 20000;
      const lookup = new ViewLookup(spanJsonCache);
      const [{ spans, total, bridgeTotal }, bridges, calls, traceCount] = await Promise.all([
        store.spansOfTraces(traceIds, limit, lookup.bodyNeeded, { key: 'circuit_id', value: id }),
        store.bridgesOf(bridgesInView(id, traceIds, range, tracesTruncated)),
        store.serviceCallsOf(traceIds),
        // "1,000 of 40,000 traces" says what "some were cut" did not. Counted only when cut: in a
        // range that reads all the circuit's traces in it, ~15 ms for 40,000.
        tracesTruncated ? store.circuitTraceCount(id, range) : traceIds.length,
      ]);
      // Spans are written as JSON straight from their stored bytes (span-json-writer.ts): the same
      // bytes the schema serializer makes of API Span objects at a fraction of the cost.
      return sendWithSpans(
        reply,
        {
          circuitId: id,
          traceIds,
          tracesTruncated,
          traceCount,
          spans: [],
          bridges: withClockChecks(bridges, calls),
          spanCount: total,
          bridgeSpanCount: bridgeTotal,
          truncated: total > spans.length,
        },
        spans,
        lookup,
        renderWorkers,
      );
    },
  );

  app.get(
    '/api/circuits/:id/logs',
    {
      schema: {
        tags: ['circuits'],
        summary:
          "The circuit's logs, newest first (oldest first with direction=forward): by their own circuit key, through the circuit's traces, or through key episodes of the circuit's traces",
        params: CircuitIdParams,
        querystring: CircuitLogQuery,
        response: { 200: LogListResponse, 400: ErrorResponse, 404: ErrorResponse },
      },
    },
    async request => {
      const { id } = request.params;
      const { from, to, limit = 500, search, min_severity, direction, cursor } = request.query;
      const range = parseExactRange(from, to);
      const minSeverity = parseMinSeverity('min_severity', min_severity);
      const past = pastCursor(cursor);
      if (!(await store.getCircuit(id))) throw errors.circuitNotFound(id);
      return logPage(
        await store.logs({
          circuit_id: id,
          ...range,
          limit: limit + 1,
          ...(search ? { search } : {}),
          ...(minSeverity ? { minSeverity } : {}),
          ...(direction ? { direction } : {}),
          ...past,
        }),
        limit,
      );
    },
  );
};

/**
 * In a time range, or when not all the circuit's traces are listed (`cut`), the bridges whose
 * spans the traces listed hold: those from them.
 */
function bridgesInView(
  circuitId: string,
  traceIds: readonly string[],
  range: TimeRange,
  cut = false,
): { circuitId: string; fromTraceIds?: readonly string[] } {
  return range.fromMs === undefined && range.toMs === undefined && !cut ? { circuitId } : { circuitId, fromTraceIds: traceIds };
}
