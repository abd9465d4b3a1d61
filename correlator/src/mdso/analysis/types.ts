// The facade's input and output shapes, fixed by the MDSO integration contract (helper A calls them).
import type { Database } from 'better-sqlite3';
import type { FastifyBaseLogger } from 'fastify';
import type { Registry } from 'prom-client';
import type { MdsoConfig } from '../../config/config.js';

/** One item of a TraceLog's properties.orchestration_trace. */
export interface OrchTraceEntry {
  timestamp?: string;
  resource_type?: string;
  resource_id?: string;
  process?: string;
  log_file?: string;
  message?: string;
  state?: string;
  elapsed_time?: number;
  categorized_error?: string;
  resource_name?: string;
}

export interface FailureInput {
  resourceId: string;
  resourceTypeId: string;
  /** short product name, e.g. 'ServiceMapper' */
  product: string;
  label: string;
  circuitId: string | null;
  orchState: string;
  reason: string;
  occurredAtMs: number;
  orchTrace: { traceLogId: string; startTimeSec: number | null; entries: OrchTraceEntry[] } | null;
  properties?: Record<string, unknown>;
}

export interface RecordedFailure {
  errorId: string;
  created: boolean;
  defectCode: string | null;
  issueId: string;
}

export interface MdsoAnalysisOptions {
  db: Database;
  config: Readonly<MdsoConfig>;
  registry: Registry;
  logger: FastifyBaseLogger;
  now?: () => number;
  fetchImpl?: typeof fetch;
}
