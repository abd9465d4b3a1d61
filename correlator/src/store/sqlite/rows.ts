// Row shapes and their mapping to the API's read model.
import type { Bridge, BridgeBasis, BusinessKeyName, CircuitSummary, Correlation, TraceSummary } from '@correlation-station/api-schema';
import { traceErrors, type BridgePlan, type EntrySpan, type TraceState } from '../../correlation/types.js';
import { CandidateSpans } from '../../correlation/candidate-spans.js';
import { forEachKeyValue, traceKeyValuesOf, type TraceKeyValues } from '../trace-key-values.js';

export interface CircuitRow {
  circuit_id: string;
  first_ms: number;
  last_ms: number;
  trace_count: number;
  span_count: number;
  error_count: number;
  log_count: number;
  bridge_count: number;
  services: string;
  keys: string;
}

export interface TraceRow {
  trace_id: string;
  first_ms: number;
  last_ms: number;
  span_count: number;
  /** Its spans with error status. */
  error_count: number;
  /** Its logs of severity ERROR or worse (schema 12; 0 for those stored before). */
  error_log_count: number;
  log_count: number;
  services: string;
  entry: string | null;
  keys: string;
  /** JSON of TraceState.moreKeys. */
  more_keys: string;
  linked: string;
  /** Null for a trace known only from its logs. */
  span_first_ms: number | null;
  span_last_ms: number | null;
}

export interface CorrelationDbRow {
  id: string;
  method: string;
  key: string;
  value: string;
  confidence: number;
  first_ms: number;
  last_ms: number;
  trace_ids: string;
  services: string;
  span_count: number;
  log_count: number;
}

export interface BridgeDbRow {
  span_id: string;
  trace_id: string;
  parent_span_id: string;
  parent_service: string;
  parent_start_ms: number;
  child_trace_id: string;
  child_span_id: string;
  child_service: string;
  child_start_ms: number;
  key: string;
  value: string;
  method: string;
  confidence: number;
  /** '' in rows stored before schema 18: 'unknown'. */
  basis: string;
  created_ms: number;
  /** The resource the bridge's span is served with. */
  resource_id: number;
  /** The traces rows of the parent and child traces (schema.ts, version 4). */
  parent_ref: number;
  child_ref: number;
}

/** traceErrors in SQL, of the traces row `t`. */
export const TRACE_ERRORS_SQL = 'CASE WHEN t.error_count > 0 THEN t.error_count ELSE t.error_log_count END';

/** The members a correlation counts: its traces, and its logs as one. */
export function correlationMembers(traceCount: number, logCount: number): number {
  return traceCount + (logCount > 0 ? 1 : 0);
}

const iso = (ms: number) => new Date(Number.isFinite(ms) ? ms : 0).toISOString();

export function toCircuitSummary(r: CircuitRow): CircuitSummary {
  return {
    circuitId: r.circuit_id,
    status: r.error_count > 0 ? 'error' : 'ok',
    // In name order: stored, they are in the order they arrived in, which a replay changes.
    services: (JSON.parse(r.services) as string[]).sort(),
    traceCount: r.trace_count,
    spanCount: r.span_count,
    errorCount: r.error_count,
    logCount: r.log_count,
    bridgeCount: r.bridge_count,
    bridged: r.bridge_count > 0,
    firstSeen: iso(r.first_ms),
    lastSeen: iso(r.last_ms),
    firstSeenMs: r.first_ms,
    lastSeenMs: r.last_ms,
    keys: JSON.parse(r.keys) as CircuitSummary['keys'],
  };
}

export function toTraceState(r: TraceRow): TraceState {
  return {
    traceId: r.trace_id,
    services: JSON.parse(r.services) as string[],
    firstMs: r.first_ms,
    lastMs: r.last_ms,
    // A row with spans but no span extent (none since schema 10 fills it) has its data's extent;
    // a trace of logs alone has no span to parent a bridge from, whenever its spans come.
    spanLastMs: r.span_last_ms ?? (r.span_count > 0 ? r.last_ms : -Infinity),
    spanCount: r.span_count,
    errorCount: r.error_count,
    errorLogCount: r.error_log_count,
    logCount: r.log_count,
    entry: r.entry ? (JSON.parse(r.entry) as EntrySpan) : null,
    candidates: new CandidateSpans(),
    keys: JSON.parse(r.keys) as TraceState['keys'],
    moreKeys: JSON.parse(r.more_keys) as string[],
    linkedTraceIds: JSON.parse(r.linked) as string[],
  };
}

export function toTraceSummary(r: TraceRow): TraceSummary {
  const entry = r.entry ? (JSON.parse(r.entry) as EntrySpan) : null;
  // Its spans' extent; a trace known only from its logs spans those.
  const spanned = r.span_first_ms !== null && r.span_last_ms !== null;
  const from = spanned ? r.span_first_ms! : r.first_ms;
  const to = spanned ? r.span_last_ms! : r.last_ms;
  const first = Number.isFinite(from) ? from : 0;
  const last = Number.isFinite(to) ? to : first;
  return {
    traceId: r.trace_id,
    rootService: entry?.service ?? '',
    rootName: entry?.name ?? '',
    // In name order, as circuits and correlations list theirs: stored, they are in arrival order.
    services: (JSON.parse(r.services) as string[]).sort(),
    spanCount: r.span_count,
    // What it counts for its circuits.
    errorCount: traceErrors(r.error_count, r.error_log_count),
    logCount: r.log_count,
    errorLogCount: r.error_log_count,
    startTimeMs: first,
    endTimeMs: last,
    durationMs: Math.max(0, last - first),
    circuitIds: circuitIdsOf(traceKeyValuesOf(r.keys, r.more_keys)),
  };
}

/** Every circuit a trace names, in name order: its first value is the one that arrived first. */
function circuitIdsOf(t: TraceKeyValues): string[] {
  const ids: string[] = [];
  forEachKeyValue(t, (key, value) => key === 'circuit_id' && value !== '' && ids.push(value));
  return ids.sort();
}

export function toCorrelation(r: CorrelationDbRow): Correlation {
  return {
    id: r.id,
    method: r.method,
    key: r.key,
    value: r.value,
    confidence: r.confidence,
    traceIds: JSON.parse(r.trace_ids) as string[],
    services: JSON.parse(r.services) as string[],
    spanCount: r.span_count,
    logCount: r.log_count,
    firstSeen: iso(r.first_ms),
    lastSeen: iso(r.last_ms),
    firstSeenMs: r.first_ms,
    lastSeenMs: r.last_ms,
  };
}

export function toBridgePlan(b: BridgeDbRow): BridgePlan {
  return {
    spanId: b.span_id,
    traceId: b.trace_id,
    parentSpanId: b.parent_span_id,
    parentService: b.parent_service,
    parentStartMs: b.parent_start_ms,
    childTraceId: b.child_trace_id,
    childSpanId: b.child_span_id,
    childService: b.child_service,
    childStartMs: b.child_start_ms,
    key: b.key as BusinessKeyName,
    value: b.value,
    method: b.method,
    confidence: b.confidence,
    basis: basisOf(b),
  };
}

function basisOf(r: BridgeDbRow): BridgeBasis {
  return r.basis === '' ? 'unknown' : (r.basis as BridgeBasis);
}

export function toBridge(r: BridgeDbRow): Bridge {
  return {
    spanId: r.span_id,
    traceId: r.trace_id,
    parentSpanId: r.parent_span_id,
    childTraceId: r.child_trace_id,
    childSpanId: r.child_span_id,
    parentService: r.parent_service,
    childService: r.child_service,
    key: r.key,
    value: r.value,
    method: r.method,
    confidence: r.confidence,
    basis: basisOf(r),
    // To the microsecond the times have: their difference leaves float residue (19.9990234375).
    gapMs: Math.max(0, Math.round((r.child_start_ms - r.parent_start_ms) * 1000) / 1000),
    createdAt: iso(r.created_ms),
  };
}

/**
 * One row per bridge span: two groups that plan the same hop have a row each (schema.ts, version
 * 7), and the span they share is the row of the first group in key, value order, whichever
 * planned first. Rows keep their order otherwise.
 */
export function oneRowPerHop<R extends Pick<BridgeDbRow, 'trace_id' | 'span_id' | 'key' | 'value'>>(rows: readonly R[]): R[] {
  const first = new Map<string, R>();
  for (const r of rows) {
    const hop = `${r.trace_id}:${r.span_id}`;
    const kept = first.get(hop);
    if (!kept || r.key < kept.key || (r.key === kept.key && r.value < kept.value)) first.set(hop, r);
  }
  if (first.size === rows.length) return [...rows];
  const kept = new Set(first.values());
  return rows.filter(r => kept.has(r));
}
