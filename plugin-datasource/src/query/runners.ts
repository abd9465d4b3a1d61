import type { DataFrame } from '@grafana/data';
import type {
  CircuitListResponse,
  CorrelationListResponse,
  LogListResponse,
  ServiceGraph,
  StitchedTrace,
  TraceDetail,
} from '@correlation-station/api-schema';
import { segment } from '../api/client';
import { errorStatus } from '../api/errors';
import { DEFAULT_LIMIT, DEFAULT_LOG_LIMIT, TRACE_ID_PATTERN } from '../constants';
import { circuitsFrame } from '../frames/circuitsFrame';
import { correlationsFrame } from '../frames/correlationsFrame';
import { logsFrame } from '../frames/logsFrame';
import { serviceGraphFrames } from '../frames/serviceGraphFrames';
import { stitchedTraceFrame, traceDetailFrame } from '../frames/traceFrame';
import type { CorrelatorQuery, QueryOfType, QueryType } from '../types';
import type { QueryContext } from './context';
import { annotationsRunner, mdsoErrorsRunner, mdsoIssuesRunner } from './mdsoRunners';

export type Runner<T extends QueryType> = (query: QueryOfType<T>, ctx: QueryContext) => Promise<DataFrame[]>;

const circuitTrace: Runner<'circuitTrace'> = async (query, ctx) => {
  const id = query.query.trim();
  if (!id) {
    throw new Error('Enter a circuit id or a trace id.');
  }
  if (TRACE_ID_PATTERN.test(id)) {
    try {
      const detail = await ctx.client.get<TraceDetail>(`/api/traces/${id.toLowerCase()}`);
      return [traceDetailFrame(query.refId, detail, ctx.targets)];
    } catch (err) {
      // A circuit id may look like a trace id; only a missing trace falls through to the circuit.
      if (errorStatus(err) !== 404) {
        throw err;
      }
    }
  }
  const range = query.inTimeRange ? { from: ctx.range.from, to: ctx.range.to } : {};
  const trace = await ctx.client.get<StitchedTrace>(`/api/circuits/${segment(id)}/trace`, { limit: query.limit, ...range });
  return [stitchedTraceFrame(query.refId, trace, ctx.targets, query.inTimeRange ?? false)];
};

const circuitSearch: Runner<'circuitSearch'> = async (query, ctx) => {
  const response = await ctx.client.get<CircuitListResponse>('/api/circuits', {
    query: query.query,
    status: query.status,
    service: query.service,
    from: ctx.range.from,
    to: ctx.range.to,
    limit: query.limit ?? DEFAULT_LIMIT,
  });
  return [circuitsFrame(query.refId, response.circuits, ctx.targets, response.truncated)];
};

const correlations: Runner<'correlations'> = async (query, ctx) => {
  const response = await ctx.client.get<CorrelationListResponse>('/api/correlations', {
    circuit_id: query.circuitId,
    trace_id: query.traceId,
    service: query.service,
    method: query.method,
    from: ctx.range.from,
    to: ctx.range.to,
    limit: query.limit ?? DEFAULT_LIMIT,
  });
  return [correlationsFrame(query.refId, response.correlations, ctx.targets, response.truncated)];
};

const logs: Runner<'logs'> = async (query, ctx) => {
  const response = await ctx.client.get<LogListResponse>('/api/logs', {
    circuit_id: query.circuitId,
    trace_id: query.traceId,
    service: query.service,
    search: query.search,
    min_severity: query.minSeverity,
    from: ctx.range.from,
    to: ctx.range.to,
    limit: query.limit ?? DEFAULT_LOG_LIMIT,
  });
  return [logsFrame(query.refId, response.logs, ctx.targets, query.search ? [query.search] : [], response.truncated)];
};

const serviceGraph: Runner<'serviceGraph'> = async (query, ctx) => {
  const graph = await ctx.client.get<ServiceGraph>('/api/service-graph', {
    from: ctx.range.from,
    to: ctx.range.to,
    circuit_id: query.circuitId,
  });
  return serviceGraphFrames(query.refId, graph);
};

/** One runner per query type: request the correlator, turn the answer into frames. */
export const runners: { [K in QueryType]: Runner<K> } = {
  circuitTrace,
  circuitSearch,
  correlations,
  logs,
  serviceGraph,
  mdsoErrors: mdsoErrorsRunner,
  mdsoIssues: mdsoIssuesRunner,
  annotations: annotationsRunner,
};

/** Runs one query with the runner of its type. */
export function runQuery(query: CorrelatorQuery, ctx: QueryContext): Promise<DataFrame[]> {
  // TypeScript cannot tie a union member to the runner indexed by its own discriminator.
  const runner = runners[query.queryType] as Runner<QueryType>;
  return runner(query, ctx);
}
