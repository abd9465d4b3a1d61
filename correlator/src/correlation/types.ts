import type { BridgeBasis, BusinessKeyName } from '@correlation-station/api-schema';
import type { CallDestination } from '../otlp/call-destination.js';
import type { KeyValues } from '../otlp/decoded.js';
import type { CandidateSpans } from './candidate-spans.js';

export interface EntrySpan {
  spanId: string;
  service: string;
  name: string;
  startMs: number;
  endMs: number;
  hasParent: boolean;
}

/** A span that may parent a bridge to a later trace (clients, producers, internal steps). */
export interface CandidateSpan {
  spanId: string;
  service: string;
  startMs: number;
  endMs: number;
  kind: number;
  /** Where a call went, when its span says (call-destination.ts): absent for other spans. */
  destination?: CallDestination;
}

export interface TraceState {
  traceId: string;
  services: string[];
  /** Its first and last datum, spans and logs: what places it in an episode of its keys. */
  firstMs: number;
  lastMs: number;
  /**
   * Its spans' last end (-Infinity before its first span): what makes it a bridge parent. A log
   * line says the trace's work left a trace of itself then, not which span was running, and the
   * bridge's parent is one of its spans (chooseParentSpan).
   */
  spanLastMs: number;
  spanCount: number;
  /** Its spans with error status. */
  errorCount: number;
  /** Its logs of severity ERROR or worse: they count as its errors only when no span failed (traceErrors). */
  errorLogCount: number;
  logCount: number;
  entry: EntrySpan | null;
  candidates: CandidateSpans;
  /** The first value of each key the trace carries. */
  keys: KeyValues;
  /**
   * Further values of its keys, as key, value pairs (at most MAX_MORE_KEYS): a batch job or an
   * hourly report names many circuits in one trace, and belongs to each one's group.
   */
  moreKeys: string[];
  /** Traces this one links to or is linked from through OTLP span links. */
  linkedTraceIds: string[];
}

/**
 * A trace's errors, as its circuits count them: its error spans, or when none failed, its ERROR
 * lines. A failure is usually both an error span and its ERROR line, one error, not two; but a
 * handler that logs a failure and answers 200 has only the line, and counted for nothing its
 * circuit was listed ok. Taking the larger of the two instead would count a trace with one error
 * span and two ERROR lines of it as two. The SQL of the same rule is TRACE_ERRORS_SQL (rows.ts).
 */
export function traceErrors(errorSpans: number, errorLogs: number): number {
  return errorSpans > 0 ? errorSpans : errorLogs;
}

/** Pairs a trace keeps in `moreKeys`: a report over thousands of circuits keeps the first ones. */
export const MAX_MORE_KEYS = 256;

export interface BridgePlan {
  spanId: string;
  traceId: string;
  parentSpanId: string;
  parentService: string;
  parentStartMs: number;
  childTraceId: string;
  childSpanId: string;
  childService: string;
  childStartMs: number;
  key: BusinessKeyName;
  value: string;
  method: string;
  confidence: number;
  /** What of the parent trace the bridge hangs from (chooseParentSpan); 'unknown' for rows stored before it was kept. */
  basis: BridgeBasis;
}

/** A key group's `mapKey`: how hot state, the store and the writes in flight name one group. */
export function groupMapKey(key: string, value: string): string {
  return `${key}\u0000${value}`;
}

/** A group of traces and logs joined by one key (or one trace id) within the window. */
export interface KeyGroup {
  mapKey: string;
  id: string;
  method: string;
  key: BusinessKeyName | 'trace_id';
  value: string;
  confidence: number;
  firstMs: number;
  lastMs: number;
  traceIds: string[];
  /** The same ids as traceIds, for O(1) membership checks on every span. */
  traceSet: Set<string>;
  services: string[];
  spanCount: number;
  /** Logs of its member traces, and looseLogs. */
  logCount: number;
  /** Logs that carry the key and belong to no trace: together, one member of the correlation. */
  looseLogs: number;
  bridges: Map<string, BridgePlan> | null;
  persistedMembers: number;
  /**
   * Its id and member count when its correlation row last went to the store with its traceIds, which
   * only grow: the same two mean the stored row lists them. Unset for a group read back, decoded
   * or new, whose next row is written whole. Two fields: the id is the group's own string.
   */
  idsWrittenAs?: string;
  idsWrittenCount?: number;
  /**
   * Its bridges are those planBridges gives its members, as restitch left them: a batch then plans
   * again only the children around what it changed. False for a group read back, merged, new, or
   * planned in parts around changes (stitchWithin): its next restitch plans every member.
   */
  planned: boolean;
  /**
   * Its last look for episodes near it ran out of merge rounds (engine.ts mergeEpisodes): the next
   * one looks through its whole reach. Kept on the group, so it is bounded and evicted with it.
   */
  reachUnmerged: boolean;
}

export const KEY_CONFIDENCE: Readonly<Record<BusinessKeyName | 'trace_id', number>> = {
  trace_id: 1,
  request_id: 0.95,
  circuit_id: 0.9,
  resource_id: 0.85,
  product_id: 0.5,
  resource_type_id: 0.3,
};

export const SPAN_KIND_CLIENT = 3;
export const SPAN_KIND_PRODUCER = 4;
export const STATUS_ERROR = 2;
