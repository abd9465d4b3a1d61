// Everything correlation derives from one batch of fresh data, written in the same transaction
// as the data itself so a crash never leaves one without the other.
import type { KeyValues } from '../otlp/decoded.js';
import type { BridgePlan, EntrySpan } from '../correlation/types.js';

export interface TraceUpsert {
  traceId: string;
  firstMs: number;
  lastMs: number;
  spanDelta: number;
  /** Its spans with error status, as TraceState.errorCount. */
  errorDelta: number;
  /** Its logs of severity ERROR or worse, as TraceState.errorLogCount. */
  errorLogDelta: number;
  logDelta: number;
  services: string[];
  entry: EntrySpan | null;
  keys: KeyValues;
  /** TraceState.moreKeys. */
  moreKeys: string[];
  linkedTraceIds: string[];
  /**
   * When the batch's spans of the trace start and end; null when it brought none. Its summary's
   * extent is its spans', while firstMs and lastMs take in its logs too (they place it in episodes).
   */
  spanFirstMs: number | null;
  spanLastMs: number | null;
  /**
   * A trace stored before gained a key value: the bridge spans from and into it carry its keys,
   * so their copies already exported go again.
   */
  keysGained: boolean;
  /**
   * Its entry span is its root since this batch and had a parent before: its bridges already
   * queued may be settled now (BridgeRow.settled), and due at the export delay.
   */
  entryBecameRoot: boolean;
}

export interface MembershipRow {
  key: string;
  value: string;
  traceId: string;
  firstMs: number;
  lastMs: number;
}

/**
 * A log of no trace that carries a correlating key value: together they are one member of the
 * value's episode at their times. Stored so an episode of such logs survives a restart or an
 * eviction as its traces' membership rows do.
 */
export interface LooseLogRow {
  key: string;
  value: string;
  timeMs: number;
  service: string;
}

/**
 * The logs of no trace, naming no circuit, that carry (key, value) within [fromMs, toMs]: logs of
 * one episode of the key value, whose member traces name these circuits. Each such log is those
 * circuits' (listed and counted), as one that names them is. The writer files each log under each
 * circuit once (log_circuits) and counts it for the circuits it was not filed under yet, so a
 * claim made again (a later trace, a merge, a retry) counts nothing twice.
 */
export interface LooseLogClaim {
  key: string;
  value: string;
  fromMs: number;
  toMs: number;
  circuitIds: string[];
}

export interface CircuitDelta {
  circuitId: string;
  firstMs: number;
  lastMs: number;
  spanDelta: number;
  errorDelta: number;
  logDelta: number;
  services: string[];
  keys: KeyValues;
}

export interface CorrelationRow {
  id: string;
  method: string;
  key: string;
  value: string;
  confidence: number;
  firstMs: number;
  lastMs: number;
  traceIds: string[];
  /**
   * The stored row of this id lists traceIds already (the engine wrote them, and has added none
   * since): the writer leaves them, where rewriting a full episode's 500 ids took a fifth of a
   * span's cost for every batch that only widened it (a circuit polled past the cap).
   */
  traceIdsStored?: true;
  services: string[];
  spanCount: number;
  logCount: number;
}

export interface BridgeRow extends BridgePlan {
  createdAtMs: number;
  /**
   * Both its traces' entry spans are their roots. Until then the child's root, coming later,
   * gives the bridge another id, and the parent's can bring the call span that should parent it:
   * a copy exported before stays in Tempo beside the new one, so it waits for the roots, or for
   * BRIDGE_EXPORT_MAX_HOLD_SECONDS when they never come.
   */
  settled: boolean;
}

/** A span link carried by received data; bridge links are the bridge rows themselves. */
export interface LinkRow {
  sourceTraceId: string;
  sourceSpanId: string;
  targetTraceId: string;
  targetSpanId: string;
  origin: 'otlp';
}

export interface DerivedWrites {
  traces: TraceUpsert[];
  memberships: MembershipRow[];
  /**
   * Traces that name a key value whose episode is full (MAX_TRACES_PER_CIRCUIT): the circuit lists
   * them, but they are no member, so correlation never reads them back as one.
   */
  refusals: MembershipRow[];
  /**
   * Members a merge past MAX_TRACES_PER_CIRCUIT left out of the merged episode: refused from now
   * on, as if they had come after it was full, so their later data finds the episode.
   */
  demotions: MembershipRow[];
  looseLogs: LooseLogRow[];
  /** Written after looseLogs and circuits, which they read and add to. */
  looseLogClaims: LooseLogClaim[];
  circuits: CircuitDelta[];
  correlations: CorrelationRow[];
  /** Correlations merged into another (late data joined two episodes) or stored under an id since changed. */
  correlationsRemoved: string[];
  bridgesAdded: BridgeRow[];
  bridgesRemoved: BridgePlan[];
  links: LinkRow[];
}

export function emptyDerivedWrites(): DerivedWrites {
  return { traces: [], memberships: [], refusals: [], demotions: [], looseLogs: [], looseLogClaims: [], circuits: [], correlations: [], correlationsRemoved: [], bridgesAdded: [], bridgesRemoved: [], links: [] };
}
