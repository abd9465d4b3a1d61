// The storage boundary. The SQLite implementation is the default (embedded, file-backed); the
// interface is what a PostgreSQL implementation for multi-replica deployments must provide.
import type {
  Bridge,
  CircuitListQuery,
  CircuitSummary,
  Correlation,
  CorrelationListQuery,
  LogEntry,
  LogListQuery,
  ServiceGraph,
  TraceLink,
  TraceSummary,
} from '@correlation-station/api-schema';
import type { ServiceCall } from '../stitching/clock-skew.js';
import type { StateLoader, ThinnedEpisode, TouchedState } from '../correlation/engine.js';
import type { DecodedLog, DecodedSpan } from '../otlp/decoded.js';
import type { DerivedWrites } from './derived-writes.js';
import type { SweepPacing } from './slice-pace.js';

export interface StoredSpan {
  traceId: string;
  spanId: string;
  /** '' for a root: the timeline puts a parent before the children that start with it. */
  parentSpanId: string;
  service: string;
  startMs: number;
  synthetic: boolean;
  body: Buffer;
  resource: StoredResource;
  /**
   * Names the bytes as stored: while this store is open, a later read that gives the span the same
   * stamp gives it the same bytes, so a reader that keeps what it made of them need not read them
   * again. `null` where the store makes no such promise (bridge spans, replaced in place): compare
   * the bytes.
   */
  stamp: number | null;
  /**
   * The span's place among the spans of its stamp, from 0: while this store is open, the stamp and
   * slot name the span and everything a read gives of it (ids, service, resource and bytes). -1
   * without a stamp.
   */
  slot: number;
}

/** A span of a view; `body` is `null` only for a stamped span the reader said it did not need. */
export interface ViewSpan extends Omit<StoredSpan, 'body'> {
  body: Buffer | null;
}

/**
 * Asked once for each span a view returns, in timeline order, after the limit, with the very object
 * returned (a reader may key what it found by it): whether its bytes are needed. Spans without a
 * stamp come with their bytes whatever the answer.
 */
export type BodyNeeded = (span: ViewSpan) => boolean;

/**
 * A line's place in the logs' total order: its time, then its nanoseconds, then its content hash,
 * which is unique. Its time is the stored one, the nanoseconds rounded to the microsecond.
 */
export interface LogPosition {
  timeMs: number;
  timeUnixNano: string;
  dedupe: string;
}

/** A listed line and its place, for a cursor to the lines after it. */
export interface ListedLog extends LogEntry {
  position: LogPosition;
}

export interface StoredResource {
  /** The store's id for this resource and scope, which the API gives spans as their resourceId. */
  id: number;
  serviceName: string;
  scopeName: string;
  scopeVersion: string;
  body: Buffer;
}

export interface IngestOutcome {
  fresh: number;
  duplicates: number;
  /**
   * Of the duplicates, spans whose stored copy differs from them (parent, times, kind or status):
   * not a retry but another span under ids already taken. Not stored either; the sender is told.
   */
  conflicting?: number;
}

/** Derives correlation writes from the items that were not already stored. */
export type Derive<T> = (fresh: T[]) => DerivedWrites;

export interface ExportItem {
  ref: string;
  /**
   * When it was due as read: an entry made due anew while its copy was being sent (a trace of its
   * bridge gained a key) is not done with when that copy is (completeExports).
   */
  dueMs: number;
  attempts: number;
  span: StoredSpan | null;
}

/** What a correlation query asks for, its time range as ms. */
export type CorrelationQuery = Omit<CorrelationListQuery, 'from' | 'to' | 'limit'> & TimeRange & { limit: number };

/** What a sweep deleted, and the summaries it counted again. */
export interface PruneCounts {
  spans: number;
  logs: number;
  traces: number;
  circuits: number;
  correlations: number;
}

export interface PruneResult extends PruneCounts {
  /** What hot state may still hold of the deleted data, for the engine to forget. */
  touched: TouchedState;
}

export interface TimeRange {
  fromMs?: number;
  toMs?: number;
}

/** A range also kept to the nanosecond, for rows that keep their own nanoseconds (logs). */
export interface ExactTimeRange extends TimeRange {
  fromNs?: bigint;
  toNs?: bigint;
}

export interface Store extends StateLoader {
  /** Atomic: spans (duplicates ignored) and what `derive` makes of the fresh ones, or nothing. */
  ingestSpans(spans: DecodedSpan[], derive: Derive<DecodedSpan>, receivedMs: number): Promise<IngestOutcome>;
  ingestLogs(logs: DecodedLog[], derive: Derive<DecodedLog>, receivedMs: number): Promise<IngestOutcome>;
  /**
   * What `derive` makes of no new items (bridges planned again after retention), written as an
   * ingest batch's are, after the batches in flight; false, and derive not called, while the
   * storage refuses writes.
   */
  storeDerived(derive: () => DerivedWrites, receivedMs: number): Promise<boolean>;

  listCircuits(q: CircuitListQuery & TimeRange & { limit: number }): Promise<CircuitSummary[]>;
  getCircuit(circuitId: string): Promise<CircuitSummary | null>;
  /** The circuit's traces by first datum; in a range, those with a datum in it. */
  circuitTraceIds(circuitId: string, range?: TimeRange): Promise<string[]>;
  /** The most recent `limit` of those (by first datum, still oldest first), and whether it has more. */
  recentCircuitTraceIds(circuitId: string, range: TimeRange, limit: number): Promise<{ traceIds: string[]; truncated: boolean }>;
  /**
   * How many traces circuitTraceIds lists: without a range the circuit row's count (its summary's
   * traceCount); in one, counted, which reads every trace of the circuit in it.
   */
  circuitTraceCount(circuitId: string, range: TimeRange): Promise<number>;
  traceSummaries(traceIds: readonly string[]): Promise<TraceSummary[]>;
  /**
   * The traces' spans and bridge spans by start time then span id, the first `limit` of `total`,
   * `bridgeTotal` of which are bridge spans. The bridges are the given group's (a circuit's view),
   * else every hop from the traces once.
   */
  spansOfTraces(traceIds: readonly string[], limit: number): Promise<{ spans: StoredSpan[]; total: number; bridgeTotal: number }>;
  spansOfTraces(
    traceIds: readonly string[],
    limit: number,
    bodyNeeded: BodyNeeded,
    bridgesOf?: { key: string; value: string },
  ): Promise<{ spans: ViewSpan[]; total: number; bridgeTotal: number }>;
  /**
   * A circuit's bridges (with `fromTraceIds`, only those from these traces: a time range's), or a
   * trace's bridge spans in and out.
   */
  bridgesOf(filter: { circuitId?: string; fromTraceIds?: readonly string[]; traceId?: string }): Promise<Bridge[]>;
  /** The calls between services within these traces (client spans and their server children). */
  serviceCallsOf(traceIds: readonly string[]): Promise<ServiceCall[]>;
  correlations(q: CorrelationQuery): Promise<Correlation[]>;
  links(traceId: string): Promise<{ out: TraceLink[]; in: TraceLink[] }>;
  /**
   * `minSeverity`: OTLP severity numbers, a log sent with a name only counting by its name's.
   * `after`: only the lines past that one in the list's order (a page's last, for the next page).
   */
  logs(
    q: Omit<LogListQuery, 'from' | 'to' | 'limit' | 'min_severity' | 'cursor'> &
      ExactTimeRange & { minSeverity?: number; after?: LogPosition; limit: number },
  ): Promise<ListedLog[]>;
  /** Services with data in the hours the range touches, by name (service-hours.ts). */
  services(range: TimeRange): Promise<string[]>;
  /** A range's graph is drawn from its maxTraces most recent traces; `truncated` says it held more. */
  serviceGraph(q: TimeRange & { circuitId?: string; maxTraces: number }): Promise<ServiceGraph>;

  dueExports(nowMs: number, limit: number): ExportItem[];
  /** Removes the entries sent, unless one was made due again since it was read. */
  completeExports(items: readonly Pick<ExportItem, 'ref' | 'dueMs'>[]): void;
  retryExports(refs: readonly string[], error: string, dueMs: number): void;
  exportQueueDepth(): number;

  /**
   * Retention: deletes what is older than the cutoff, a slice per step, for a caller that yields
   * between them; each step gives what hot state may still hold of the slice's data, to forget.
   * Slices are sized to take about `pacing`'s budget each (slice-pace.ts).
   */
  pruneStepwise(cutoffMs: number, pacing?: Partial<SweepPacing>): Generator<TouchedState, PruneCounts>;
  /**
   * Episodes slices thinned (TouchedState.thinned) whose bridges were not planned again since: kept
   * with the slice's deletes, so a process killed before planning them plans them at its next sweep.
   */
  replansPending(): ThinnedEpisode[];
  /** The episodes replansPending gave, and those of the slices since, are planned again. */
  replansDone(): void;
  ping(): boolean;
  /**
   * null while writes succeed; after a write failed on the storage (disk full, I/O, locked), why,
   * until a write succeeds again (this call tries one then).
   */
  writeTrouble(): string | null;
  close(): Promise<void>;
}
