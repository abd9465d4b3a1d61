// Correlation as data arrives. Holds bounded hot state (traces, key groups) indexed by id and by
// key value, so the cost of a span depends on the span, never on how many traces are tracked.
// The window bounds state and separates episodes of the same key; it never delays results.
import { keyMatchMethod, type BusinessKeyName } from '@correlation-station/api-schema';
import type { DecodedLog, DecodedSpan, KeyValues } from '../otlp/decoded.js';
import { correlatingKeys } from '../config/key-defaults.js';
import { planBridge, planBridges } from '../stitching/bridge-planner.js';
import { PlanOrder } from '../stitching/plan-order.js';
import { PlanOrders } from '../stitching/plan-orders.js';
import {
  emptyDerivedWrites,
  type BridgeRow,
  type CircuitDelta,
  type DerivedWrites,
  type TraceUpsert,
} from '../store/derived-writes.js';
import { keepLeastKeys } from './circuit-keys.js';
import { CandidateSpans } from './candidate-spans.js';
import { correlationId } from './ids.js';
import { keyGroupCodec, traceStateCodec } from './state-codec.js';
import { HOT_STATE_COSTS, liveTierAllowance } from './hot-state-budget.js';
import { keyGroupBytes, traceStateBytes } from './live-entry-bytes.js';
import { TieredMap } from './tiered-map.js';
import {
  KEY_CONFIDENCE,
  MAX_MORE_KEYS,
  STATUS_ERROR,
  groupMapKey,
  type BridgePlan,
  type KeyGroup,
  traceErrors,
  type TraceState,
} from './types.js';
import { anchorShape } from '../runtime/shape-anchors.js';
import { SEVERITY_ERROR } from '../otlp/severity.js';
import { addService } from './service-list.js';
import { circuitClaims, claimsLogs, looseLogTimes, namesACircuit, spanWithin } from './loose-log-claims.js';

/**
 * Traces and key groups kept as live objects between batches; older ones are kept encoded
 * (tiered-map.ts). Several batches' worth of new traces: data for a trace mostly arrives within a
 * few batches, and a trace read back from the encoded tier costs one decode per batch.
 */
export const DEFAULT_LIVE_ENTRIES = 8192;

/** Reads state the hot maps no longer (or not yet) hold: after a restart or an eviction. */
export interface StateLoader {
  loadTraces(traceIds: readonly string[]): TraceState[];
  /**
   * The group for (key, value) whose span overlaps [fromMs, toMs], with its member traces and
   * bridges: the one holding trace `holding` if one does, else the latest.
   */
  loadGroup(key: string, value: string, fromMs: number, toMs: number, maxTraces: number, holding?: string): KeyGroup | null;
  /** The members a stored correlation already counted (traces, and its logs as one), 0 if none. */
  persistedMembers(correlationId: string): number;
  /**
   * The stored correlations and member traces of (key, value) that reach [fromMs, toMs]: the
   * episodes late data may have joined. Its logs of no trace are those in the range outside
   * `counted`, the span whose logs the asking episode has counted already (all of them when null).
   * Null when there are none. `maxTraces` bounds the members listed, the first by time; Infinity
   * lists them all. `reached`: a range within which
   * the asking episode has merged every stored one already; the store may then leave out the
   * members and correlations that reach no further (which the engine would skip as its own).
   * `ownId`: the asking episode's correlation id, whose row is left out (the engine skips it, and
   * a full episode's row, read and parsed each time it widened, was most of the answer).
   */
  episodesNear(
    key: string,
    value: string,
    fromMs: number,
    toMs: number,
    maxTraces: number,
    counted: TimeSpan | null,
    reached: TimeSpan | null,
    ownId?: string,
  ): NearbyEpisodes | null;
  /** The stored logs of no trace that carry (key, value) within [fromMs, toMs]; null if none. */
  looseLogs(key: string, value: string, fromMs: number, toMs: number): LooseLogSpan | null;
  /**
   * How the store holds the trace under (key, value): as a member of one of its episodes, as one a
   * full episode refused (DerivedWrites.refusals), or not at all.
   */
  membershipOf(key: string, value: string, traceId: string): 'member' | 'refused' | null;
  /**
   * The traces of (key, value) whose span reaches [fromMs, toMs], at most `limit`: members of its
   * episodes, and those a full episode refused.
   */
  tracesNear(key: string, value: string, fromMs: number, toMs: number, limit: number): string[];
  /** Whether a full episode of (key, value) refused a trace whose span reaches [fromMs, toMs]. */
  refusalsNear(key: string, value: string, fromMs: number, toMs: number): boolean;
  /** The stored bridges of (key, value) into these traces. */
  bridgesInto(key: string, value: string, childTraceIds: readonly string[]): BridgePlan[];
  /** Stored span links of other traces into these, as [source trace, target trace] pairs. */
  linkSourcesInto(traceIds: readonly string[]): [source: string, target: string][];
}

/** A closed time range, in ms. */
export interface TimeSpan {
  firstMs: number;
  lastMs: number;
}

/** Logs of no trace of one key value in a time range: how many, when, and from which services. */
export interface LooseLogSpan {
  count: number;
  firstMs: number;
  lastMs: number;
  services: string[];
}

/** See StateLoader.episodesNear. */
export interface NearbyEpisodes {
  correlations: {
    id: string;
    confidence: number;
    traceIds: string[];
    services: string[];
    spanCount: number;
    logCount: number;
    firstMs: number;
    lastMs: number;
    /** Members it counted: traces, and its logs as one. */
    members: number;
  }[];
  members: { traceId: string; firstMs: number; lastMs: number }[];
  /**
   * The logs of no trace in the range and not in the span asked to leave out, which may make an
   * episode of their own or widen one.
   */
  looseLogs: LooseLogSpan | null;
}

export interface EngineOptions {
  windowMs: number;
  maxTrackedTraces: number;
  maxTrackedKeys: number;
  maxTracesPerCircuit: number;
  bridgeKeys: readonly BusinessKeyName[];
  /** Keys that form correlations; the others are recorded on traces and circuits only. */
  correlationKeys: readonly BusinessKeyName[];
  now?: () => number;
  /** Traces, and key groups, kept as live objects between batches (default 8192 each). */
  liveEntries?: number;
  /**
   * What the live groups' naming indexes may hold between batches, in bytes (default: liveEntries
   * × HOT_STATE_COSTS.namingIndex); past it, the least recently used planning orders are dropped.
   */
  namingIndexBytes?: number;
  /**
   * What the live traces, and the live key groups, may hold in bytes of heap as estimated
   * (live-entry-bytes.ts); default liveTierAllowance (hot-state-budget.ts). Past it the longest live
   * entries are encoded, as past liveEntries.
   */
  liveBytes?: { traces: number; keys: number };
}

export interface EngineStats {
  trackedTraces: number;
  trackedKeys: number;
  traceEvictions: number;
  keyEvictions: number;
  /** What the kept planning orders' naming indexes hold, estimated (NamingIndex.bytes). */
  namingIndexBytes: number;
  planOrders: number;
  /** Orders dropped to keep namingIndexBytes within its allowance. */
  planOrdersDropped: number;
  /** What the live traces and key groups hold, estimated (live-entry-bytes.ts). */
  liveTraceBytes: number;
  liveKeyBytes: number;
  /** Live entries encoded past liveEntries, and within it past the live tier's bytes. */
  traceDemotions: { entries: number; bytes: number };
  keyDemotions: { entries: number; bytes: number };
}

export interface ObserveResult {
  writes: DerivedWrites;
  /** Correlation events by method: a member (trace or logs) joined a correlation. */
  events: Map<string, number>;
  /** The hot-state entries the batch changed: to forget if its writes are not stored. */
  touched: TouchedState;
}

export interface TouchedState {
  traceIds: string[];
  groupKeys: string[];
  /** Episodes retention took traces from that kept two or more: to plan their bridges again. */
  thinned?: ThinnedEpisode[];
}

/** An episode of (key, value) that still holds `traceId`, spanning [firstMs, lastMs] once thinned. */
export interface ThinnedEpisode {
  key: string;
  value: string;
  traceId: string;
  firstMs: number;
  lastMs: number;
}

/** The state of a trace seen for the first time: no timed datum yet, so its times are infinite. */
export function newTraceState(traceId: string): TraceState {
  return {
    traceId,
    services: [],
    firstMs: Infinity,
    lastMs: -Infinity,
    spanLastMs: -Infinity,
    spanCount: 0,
    errorCount: 0,
    errorLogCount: 0,
    logCount: 0,
    entry: null,
    candidates: new CandidateSpans(),
    keys: {},
    moreKeys: [],
    linkedTraceIds: [],
  };
}

/** A trace's key values, first and further: they only grow, so a larger count is a value gained. */
function keyValueCount(t: TraceState): number {
  let n = t.moreKeys.length / 2;
  for (const _ in t.keys) n++;
  return n;
}

/** Records `value` of `key` on the trace: its first value in `keys`, any other in `moreKeys`. */
function noteKey(t: TraceState, key: BusinessKeyName, value: string): void {
  const first = t.keys[key];
  if (first === undefined) {
    t.keys[key] = value;
    return;
  }
  if (first === value || hasMoreKey(t, key, value)) return;
  if (t.moreKeys.length < 2 * MAX_MORE_KEYS) t.moreKeys.push(key, value);
}

export class CorrelationEngine {
  private readonly traces: TieredMap<TraceState>;
  /** Span links into traces not seen yet, by the linked trace (rememberLinkInto). */
  private readonly pendingLinkSources = new Map<string, string[]>();
  private readonly groups: TieredMap<KeyGroup>;
  /** Each live planned group's members in planning order; an encoded group builds its order again. */
  private readonly planOrders: PlanOrders<KeyGroup>;
  private readonly now: () => number;
  private readonly correlating: ReadonlySet<BusinessKeyName>;

  constructor(
    private readonly opts: EngineOptions,
    private readonly loader: StateLoader,
  ) {
    const live = opts.liveEntries ?? DEFAULT_LIVE_ENTRIES;
    const liveBytes = opts.liveBytes ?? liveTierAllowance({ traces: opts.maxTrackedTraces, keys: opts.maxTrackedKeys, liveEntries: live });
    this.traces = new TieredMap(opts.maxTrackedTraces, live, traceStateCodec, undefined, { of: traceStateBytes, allowance: liveBytes.traces });
    this.planOrders = new PlanOrders(opts.namingIndexBytes ?? Math.min(live, opts.maxTrackedKeys) * HOT_STATE_COSTS.namingIndex, 2 * live);
    this.groups = new TieredMap(opts.maxTrackedKeys, live, keyGroupCodec, key => this.planOrders.forget(key), {
      of: keyGroupBytes,
      allowance: liveBytes.keys,
    });
    this.now = opts.now ?? Date.now;
    this.correlating = new Set(correlatingKeys(opts));
  }

  stats(): EngineStats {
    return {
      trackedTraces: this.traces.size,
      trackedKeys: this.groups.size,
      traceEvictions: this.traces.evictions,
      keyEvictions: this.groups.evictions,
      namingIndexBytes: this.planOrders.bytes,
      planOrders: this.planOrders.size,
      planOrdersDropped: this.planOrders.dropped,
      liveTraceBytes: this.traces.liveByteCount,
      liveKeyBytes: this.groups.liveByteCount,
      traceDemotions: { entries: this.traces.demotedForEntries, bytes: this.traces.demotedForBytes },
      keyDemotions: { entries: this.groups.demotedForEntries, bytes: this.groups.demotedForBytes },
    };
  }

  /**
   * Evicts the oldest traces and key groups until `fraction` of each is left, counted as
   * evictions; called between batches, when the heap runs short (runtime/heap-pressure.ts).
   */
  shrink(fraction: number): void {
    this.traces.shrinkTo(Math.floor(this.traces.size * fraction));
    this.groups.shrinkTo(Math.floor(this.groups.size * fraction));
  }

  /** Seeds hot state directly (benchmarks pre-fill it to a given size). */
  warm(traces: readonly TraceState[]): void {
    for (const t of traces) this.traces.set(t.traceId, t);
    this.traces.settle();
  }

  observe(spans: readonly DecodedSpan[], logs: readonly DecodedLog[]): ObserveResult {
    const batch = new BatchContext();
    this.ensureTracesLoaded(spans, logs, batch);
    for (const span of spans) this.observeSpan(span, batch);
    for (const log of logs) this.observeLog(log, batch);
    // Links into traces the batch brought after the linking span.
    if (this.pendingLinkSources.size > 0) {
      const linked = [...batch.traceDeltas.keys()].filter(id => this.pendingLinkSources.has(id));
      if (linked.length > 0) this.takeLinksInto(linked, batch, false);
    }
    this.relinkPartnersOfChanged(batch);
    const result = this.finish(batch);
    this.endBatch(batch);
    return result;
  }

  /**
   * The batch's state objects are done with: those it changed are counted again for the live tier's
   * bytes, and older ones go back to (or into) their encoded form.
   */
  private endBatch(batch: BatchContext): void {
    for (const id of batch.traceDeltas.keys()) this.traces.noteChanged(id);
    batch.noteChangedGroups(this.groups);
    this.traces.settle();
    this.groups.settle();
    this.planOrders.fit();
  }

  private ensureTracesLoaded(spans: readonly DecodedSpan[], logs: readonly DecodedLog[], batch: BatchContext): void {
    const missing = new Set<string>();
    for (const s of spans) if (!this.traces.has(s.traceId)) missing.add(s.traceId);
    for (const l of logs) if (l.traceId && !this.traces.has(l.traceId)) missing.add(l.traceId);
    if (missing.size === 0) return;
    const ids = [...missing];
    for (const t of this.loader.loadTraces(ids)) this.traces.set(t.traceId, t);
    this.takeLinksInto(ids, batch, true);
  }

  /**
   * The span links other traces hold into these traces, which were not in hot state: those the
   * store has, and those of requests it may not have written yet. Each side learns of the other,
   * and the linking trace plans again: a span link stops a guessed bridge into the later of two
   * traces only if both are known when it is planned, and the linked trace may come last.
   */
  private takeLinksInto(traceIds: readonly string[], batch: BatchContext, stored: boolean): void {
    const pairs: [string, string][] = [];
    for (const id of traceIds) {
      const sources = this.pendingLinkSources.get(id);
      if (!sources) continue;
      this.pendingLinkSources.delete(id);
      for (const source of sources) pairs.push([source, id]);
    }
    if (stored) pairs.push(...this.loader.linkSourcesInto(traceIds));
    for (const [source, target] of pairs) {
      const [s] = this.memberStates([source]);
      if (!s) continue;
      // A trace read back knows the links its row kept: only news plans again.
      const learnt = noteLinked(this.trace(target, batch), source);
      if (noteLinked(s, target) || learnt) this.relink(source, batch);
    }
  }

  /**
   * A linked trace's episodes plan with this trace as the other side of the link: whether it
   * names their key value decides whether the link counts there, and its entry which of the two
   * is the later. When a batch changes either, they plan again: else the guess planned into the
   * partner while this trace named no key or had no span yet stayed, though this trace came
   * whole first stopped it.
   */
  private relinkPartnersOfChanged(batch: BatchContext): void {
    let partners: Set<string> | undefined;
    for (const d of batch.traceDeltas.values()) {
      const t = d.state;
      if (t.linkedTraceIds.length === 0) continue;
      if (!d.entryChanged && !(d.keyValuesBefore >= 0 && keyValueCount(t) > d.keyValuesBefore)) continue;
      // One not seen yet plans with this trace when it comes (takeLinksInto): no store lookup.
      for (const id of t.linkedTraceIds) if (!this.pendingLinkSources.has(id)) (partners ??= new Set()).add(id);
    }
    if (partners) for (const p of this.memberStates([...partners])) this.relink(p.traceId, batch);
  }

  /** A trace, in hot state, whose links changed: its row is written and its episodes plan again. */
  private relink(traceId: string, batch: BatchContext): void {
    this.trace(traceId, batch);
    batch.traceDeltas.get(traceId)!.linksChanged = true;
  }

  /** A link into a trace not seen yet, for when it comes: bounded, the oldest forgotten first. */
  private rememberLinkInto(target: string, source: string): void {
    const sources = this.pendingLinkSources.get(target);
    if (sources) {
      pushOnce(sources, source);
      return;
    }
    if (this.pendingLinkSources.size >= MAX_PENDING_LINK_TARGETS) this.pendingLinkSources.delete(this.pendingLinkSources.keys().next().value!);
    this.pendingLinkSources.set(target, [source]);
  }

  private trace(traceId: string, batch: BatchContext): TraceState {
    let t = this.traces.get(traceId);
    if (!t) {
      t = newTraceState(traceId);
      this.traces.set(traceId, t);
    }
    let delta = batch.traceDeltas.get(traceId);
    if (!delta) {
      delta = {
        state: t,
        spans: 0,
        errors: 0,
        errorLogs: 0,
        logs: 0,
        entryChanged: false,
        candidatesChanged: false,
        linksChanged: false,
        spanFirstMs: Infinity,
        spanLastMs: -Infinity,
        spanLastMsBefore: t.spanLastMs,
        keyValuesBefore: t.spanCount + t.logCount > 0 ? keyValueCount(t) : -1,
        entryHadParent: t.entry?.hasParent === true,
      };
      batch.traceDeltas.set(traceId, delta);
    }
    return t;
  }

  private observeSpan(span: DecodedSpan, batch: BatchContext): void {
    const t = this.trace(span.traceId, batch);
    const d = batch.traceDeltas.get(span.traceId)!;
    const service = span.resource.serviceName;
    const errorsBefore = traceErrors(t.errorCount, t.errorLogCount);
    d.spans++;
    t.spanCount++;
    if (span.statusCode === STATUS_ERROR) {
      d.errors++;
      t.errorCount++;
    }
    if (span.startMs < t.firstMs) t.firstMs = span.startMs;
    if (span.endMs > t.lastMs) t.lastMs = span.endMs;
    if (span.endMs > t.spanLastMs) t.spanLastMs = span.endMs;
    if (span.startMs < d.spanFirstMs) d.spanFirstMs = span.startMs;
    if (span.endMs > d.spanLastMs) d.spanLastMs = span.endMs;
    addService(t.services, service);

    const hasParent = span.parentSpanId !== '';
    const e = t.entry;
    if (!e || (!hasParent && e.hasParent) || (hasParent === e.hasParent && (span.startMs < e.startMs || (span.startMs === e.startMs && span.spanId < e.spanId)))) {
      t.entry = { spanId: span.spanId, service, name: span.name, startMs: span.startMs, endMs: span.endMs, hasParent };
      d.entryChanged = true;
    }
    // The same ones whatever order spans arrive in (CandidateSpans.offer; the store reloads them so).
    if (t.candidates.offer(span.spanId, service, span.startMs, span.endMs, span.kind, span.destination ?? null)) d.candidatesChanged = true;
    if (span.links) {
      for (const link of span.links) {
        if (link.traceId === span.traceId) continue;
        batch.writes.links.push({
          sourceTraceId: span.traceId,
          sourceSpanId: span.spanId,
          targetTraceId: link.traceId,
          targetSpanId: link.spanId,
          origin: 'otlp',
        });
        noteLinked(t, link.traceId);
        // The linked trace learns of the link, in its stored row too, and plans again: it may be
        // the later of the two, whose guessed bridge the link replaces. Not seen yet, it learns
        // when it comes (takeLinksInto).
        const [target] = this.memberStates([link.traceId]);
        if (!target) this.rememberLinkInto(link.traceId, span.traceId);
        else if (noteLinked(target, span.traceId)) this.relink(link.traceId, batch);
      }
    }
    const circuitBefore = t.keys.circuit_id;
    const moreBefore = t.moreKeys.length;
    if (span.keys) {
      for (const k in span.keys) this.observeSpanKey(k as BusinessKeyName, span.keys[k as BusinessKeyName]!, t, service, span, batch);
    }
    // The further values an array named: the span is of each one's group, as a trace whose spans name several is.
    const more = span.moreKeys;
    if (more) for (let i = 0; i < more.length; i += 2) this.observeSpanKey(more[i] as BusinessKeyName, more[i + 1]!, t, service, span, batch);
    // The trace's first error span replaces its ERROR lines as its errors (traceErrors): the
    // difference, which may be below 0, whichever of them came first.
    const errors = traceErrors(t.errorCount, t.errorLogCount) - errorsBefore;
    const ownErrors = span.statusCode === STATUS_ERROR ? 1 : 0;
    const datum: CircuitDatum = { service, startMs: span.startMs, endMs: span.endMs, spans: 1, errors, ownErrors, logs: 0, keys: span.keys, moreKeys: more ?? null };
    this.countInCircuits(t, circuitBefore, moreBefore, datum, batch);
  }

  private observeSpanKey(key: BusinessKeyName, value: string, t: TraceState, service: string, span: DecodedSpan, batch: BatchContext): void {
    noteKey(t, key, value);
    if (this.correlating.has(key)) this.joinGroup(key, value, t, service, span.startMs, span.endMs, 1, 0, batch);
  }

  /**
   * A circuit's summary describes its traces, not only their spans and logs that carry its id:
   * usually only a trace's root span does, and its errors are in the others. A datum counts for
   * its own circuit id and for its trace's; a trace that joins a circuit brings what it had. Key
   * values are the exception: only those of data naming the circuit count (countForTraceCircuit).
   */
  private countInCircuits(
    t: TraceState | null,
    circuitBefore: string | undefined,
    moreBefore: number,
    datum: CircuitDatum,
    batch: BatchContext,
  ): void {
    const own = datum.keys?.circuit_id;
    if (own !== undefined) this.countForOwnCircuit(t, own, datum, batch);
    const ownMore = datum.moreKeys;
    if (ownMore) for (let i = 0; i < ownMore.length; i += 2) if (ownMore[i] === 'circuit_id') this.countForOwnCircuit(t, ownMore[i + 1]!, datum, batch);
    const ofTrace = t?.keys.circuit_id;
    if (ofTrace === undefined || t === null) return;
    countForTraceCircuit(t, ofTrace, circuitBefore !== undefined, datum, batch);
    // The further circuits a trace names (a report over many circuits) are its circuits as much.
    const more = t.moreKeys;
    for (let i = 0; i < more.length; i += 2)
      if (more[i] === 'circuit_id') countForTraceCircuit(t, more[i + 1]!, i < moreBefore, datum, batch);
  }

  /**
   * A datum counts for a circuit id it names unless the trace has it too (countForTraceCircuit
   * counts it, once). A trace's datum gets here only when its further key values are full: that
   * circuit never takes the trace in whole, so it counts the datum's own error, not what it
   * changes the trace's by.
   */
  private countForOwnCircuit(t: TraceState | null, circuitId: string, datum: CircuitDatum, batch: BatchContext): void {
    if (t && namesValue(t, 'circuit_id', circuitId)) return;
    addToCircuit(circuitDelta(batch, circuitId, datum.startMs, datum.endMs), { ...datum, errors: datum.ownErrors }, keysForCircuit(datum, circuitId));
  }

  private observeLog(log: DecodedLog, batch: BatchContext): void {
    const service = log.resource.serviceName;
    // An error log of no trace is an error of its circuit, as an error span is: a circuit known
    // only from the logs of scripts that report MDSO failures was listed as ok. A trace's error
    // logs count as its errors only while none of its spans failed (traceErrors).
    const isError = log.severityNumber >= SEVERITY_ERROR;
    let errors = !log.traceId && isError ? 1 : 0;
    let t: TraceState | null = null;
    if (log.traceId) {
      t = this.trace(log.traceId, batch);
      const d = batch.traceDeltas.get(log.traceId)!;
      d.logs++;
      t.logCount++;
      if (isError) {
        const before = traceErrors(t.errorCount, t.errorLogCount);
        d.errorLogs++;
        t.errorLogCount++;
        errors = traceErrors(t.errorCount, t.errorLogCount) - before;
      }
      if (log.timeMs < t.firstMs) t.firstMs = log.timeMs;
      if (log.timeMs > t.lastMs) t.lastMs = log.timeMs;
      // Spans and logs that share a trace id are one correlation, of full confidence.
      batch.traceLogJoins.add(log.traceId);
      // Its logs' services are the trace's too: a circuit the trace names later counts them, as
      // one it named before the log did.
      addService(t.services, service);
    }
    const circuitBefore = t?.keys.circuit_id;
    const moreBefore = t?.moreKeys.length ?? 0;
    if (log.keys) {
      for (const k in log.keys) this.observeLogKey(k as BusinessKeyName, log.keys[k as BusinessKeyName]!, t, service, log, batch);
    }
    const more = log.moreKeys;
    if (more) for (let i = 0; i < more.length; i += 2) this.observeLogKey(more[i] as BusinessKeyName, more[i + 1]!, t, service, log, batch);
    const datum: CircuitDatum = { service, startMs: log.timeMs, endMs: log.timeMs, spans: 0, errors, ownErrors: t ? 0 : errors, logs: 1, keys: log.keys, moreKeys: more ?? null };
    this.countInCircuits(t, circuitBefore, moreBefore, datum, batch);
  }

  private observeLogKey(key: BusinessKeyName, value: string, t: TraceState | null, service: string, log: DecodedLog, batch: BatchContext): void {
    if (t) noteKey(t, key, value);
    if (!this.correlating.has(key)) return;
    this.joinGroup(key, value, t, service, log.timeMs, log.timeMs, 0, 1, batch);
    // Stored with the log: an episode of such logs outlives hot state, as a trace's does.
    if (!t) batch.writes.looseLogs.push({ key, value, timeMs: log.timeMs, service });
  }

  private joinGroup(
    key: BusinessKeyName,
    value: string,
    trace: TraceState | null,
    service: string,
    startMs: number,
    endMs: number,
    spans: number,
    logs: number,
    batch: BatchContext,
  ): void {
    const w = this.opts.windowMs;
    // Most spans of a batch join groups the batch has already found: looked up by key and value
    // without building the hot-state key, a new string for every span and key.
    const byValue = batch.values(key);
    let g = byValue.get(value);
    const inBatch = g !== undefined;
    const mk = g?.mapKey ?? groupMapKey(key, value);
    g ??= this.groups.get(mk);
    let firstTouch = !inBatch;
    // A datum outside the current episode's window starts (or finds) another episode.
    if (g && (startMs > g.lastMs + w || endMs < g.firstMs - w)) {
      if (inBatch) batch.leftEpisodes.push(g);
      // An episode this batch has already changed is found here, not read back without the changes.
      const at = batch.leftEpisodes.findIndex(e => e.mapKey === mk && startMs <= e.lastMs + w && endMs >= e.firstMs - w);
      g = at < 0 ? undefined : batch.leftEpisodes.splice(at, 1)[0]!;
      if (g) this.groups.set(mk, g);
      firstTouch = g === undefined;
    }
    let created = false;
    let loaded: KeyGroup | null = null;
    if (!g) {
      loaded = this.loader.loadGroup(key, value, startMs - w, endMs + w, this.opts.maxTracesPerCircuit);
      created = loaded === null;
      g = loaded ?? {
        mapKey: mk,
        id: correlationId(keyMatchMethod(key), value, startMs),
        method: keyMatchMethod(key),
        key,
        value,
        confidence: KEY_CONFIDENCE[key],
        firstMs: startMs,
        lastMs: endMs,
        traceIds: [],
        traceSet: new Set(),
        services: [],
        spanCount: 0,
        logCount: 0,
        looseLogs: 0,
        bridges: null,
        persistedMembers: 0,
        planned: false,
        reachUnmerged: false,
      };
      if (this.opts.bridgeKeys.includes(key) && !g.bridges) g.bridges = new Map();
      this.groups.set(mk, g);
    }
    // The span the store or earlier batches have already checked for other episodes near it. A
    // group read back is one correlation and the members in the datum's window, which may be
    // another episode's: it is checked whole, and its counts summed again (mergeEpisodes).
    if (loaded) batch.spanAtStart.set(g, { firstMs: g.firstMs, lastMs: g.lastMs, whole: true });
    else if (firstTouch && !batch.spanAtStart.has(g))
      batch.spanAtStart.set(g, created ? { firstMs: startMs, lastMs: endMs, whole: false } : { firstMs: g.firstMs, lastMs: g.lastMs, whole: false });
    byValue.set(value, g);
    if (startMs < g.firstMs) g.firstMs = startMs;
    if (endMs > g.lastMs) g.lastMs = endMs;
    // What a member trace has counts through the trace (countMembers); a log of no trace, here.
    if (!trace) {
      g.logCount += logs;
      g.looseLogs += logs;
    }
    // A member trace's services count through the trace (countMembers): a trace the full episode
    // refused, or another episode's member, adds none.
    if (!trace) addService(g.services, service);
    if (trace && !g.traceSet.has(trace.traceId)) {
      if (g.traceIds.length < this.opts.maxTracesPerCircuit) {
        g.traceIds.push(trace.traceId);
        g.traceSet.add(trace.traceId);
        batch.joins.push({ group: g, trace });
      } else if (!batch.refusedIn(g, trace.traceId) && this.loader.membershipOf(key, value, trace.traceId) !== 'member') {
        // A member of another episode of the key value is no refusal: its datum here counts nowhere.
        batch.noteRefusal(g, trace.traceId);
      }
    }
    batch.dirtyGroups.add(g);
  }

  /**
   * The batch's membership rows, once it is done: for each trace that joined a group, and each
   * group of a trace that gained data. A membership spans the whole trace: a reloaded group finds
   * its members by time, and a trace found only by its first datum's times was left out of a
   * window its later data reached. One row per group and trace, not per datum.
   */
  private writeMemberships(batch: BatchContext): void {
    const write = (g: KeyGroup, t: TraceState): void => {
      if (Number.isFinite(t.firstMs) && Number.isFinite(t.lastMs))
        batch.writes.memberships.push({ key: g.key, value: g.value, traceId: t.traceId, firstMs: t.firstMs, lastMs: t.lastMs });
    };
    // The groups of each trace's keys that hold it: one row each (a trace has a few keys). A full
    // episode that refused the trace writes it a row of its own kind: the circuit lists, counts and
    // shows every trace that names it, a member of its correlation or not.
    for (const { state: t } of batch.traceDeltas.values()) {
      for (const g of this.groupsOf(t, batch, batch.scratchGroups, batch.scratchFull)) write(g, t);
      for (const g of batch.scratchFull)
        if (Number.isFinite(t.firstMs) && Number.isFinite(t.lastMs))
          batch.writes.refusals.push({ key: g.key, value: g.value, traceId: t.traceId, firstMs: t.firstMs, lastMs: t.lastMs });
    }
    // Joins the pass above did not see: a second value of a key, or an earlier episode of this batch.
    for (const { group, trace } of batch.joins)
      if (trace.keys[group.key as BusinessKeyName] !== group.value || batch.groups.get(group.key as BusinessKeyName)?.get(group.value) !== group)
        write(group, trace);
  }

  /**
   * The groups of the trace's key values that hold it, each once, into `out` (emptied first): the
   * current episode of each, read back from the store if hot state let it go. Into `full`, if
   * given: the episodes at MAX_TRACES_PER_CIRCUIT that refused the trace. No closures: this runs
   * three times per trace and batch.
   */
  private groupsOf(t: TraceState, batch: BatchContext, out: KeyGroup[], full?: KeyGroup[]): KeyGroup[] {
    out.length = 0;
    if (full) full.length = 0;
    for (const k in t.keys) this.pushEpisodeHolding(k as BusinessKeyName, t.keys[k as BusinessKeyName]!, t, batch, out, full);
    const more = t.moreKeys;
    for (let i = 0; i < more.length; i += 2) this.pushEpisodeHolding(more[i] as BusinessKeyName, more[i + 1]!, t, batch, out, full);
    return out;
  }

  /**
   * Pushes the episode of (key, value) that holds the trace, if any: the batch's, an earlier one the batch left,
   * the one in hot state, or one read back from the store. Late data of a trace of an earlier
   * episode counts there, not nowhere (the current episode does not hold the trace).
   */
  private pushEpisodeHolding(
    key: BusinessKeyName,
    value: string,
    t: TraceState,
    batch: BatchContext,
    out: KeyGroup[],
    full: KeyGroup[] | undefined,
  ): void {
    if (!this.correlating.has(key)) return;
    const id = t.traceId;
    const current = batch.groups.get(key)?.get(value);
    if (current?.traceSet.has(id)) {
      out.push(current);
      return;
    }
    const mk = current?.mapKey ?? groupMapKey(key, value);
    const left = batch.leftEpisodes.find(e => e.mapKey === mk && e.traceSet.has(id));
    if (left) {
      out.push(left);
      return;
    }
    const hot = this.groups.get(mk);
    if (hot && hot !== current && hot.traceSet.has(id)) {
      this.enterBatch(hot, current, batch, false);
      out.push(hot);
      return;
    }
    if (!Number.isFinite(t.firstMs)) return;
    // A full episode that refused the trace: not reading it back here kept each later batch of
    // such a trace from reading the whole episode three times.
    const near = current ?? hot;
    if (near && this.refused(near, t, batch)) {
      if (!current) this.enterBatch(near, undefined, batch, false);
      full?.push(near);
      return;
    }
    for (const e of batch.leftEpisodes)
      if (e.mapKey === mk && this.refused(e, t, batch)) {
        full?.push(e);
        return;
      }
    const w = this.opts.windowMs;
    // The episode holding the trace, not the latest in its window: late data that widens the
    // trace toward a later episode belongs to its own, which then merges with the later one.
    const loaded = this.loader.loadGroup(key, value, t.firstMs - w, t.lastMs + w, this.opts.maxTracesPerCircuit, id);
    if (!loaded) return;
    const holds = loaded.traceSet.has(id);
    // Read back, as in hot state: the full episode that refused the trace spans it and lists it.
    if (!holds && !this.refused(loaded, t, batch)) return;
    if (this.opts.bridgeKeys.includes(key) && !loaded.bridges) loaded.bridges = new Map();
    this.enterBatch(loaded, current, batch, true);
    if (holds) out.push(loaded);
    else full?.push(loaded);
  }

  /**
   * Whether the full episode g refused t, which it does not hold: this batch found it full for t's
   * key datum, or the store keeps a refusal of t and t is within g's reach (another full episode of
   * the key value, far from it, may be the one that refused it). Reach alone does not tell: a
   * member of another episode, whose late data now reaches g, is no refusal.
   */
  private refused(g: KeyGroup, t: TraceState, batch: BatchContext): boolean {
    if (g.traceIds.length < this.opts.maxTracesPerCircuit || g.traceSet.has(t.traceId)) return false;
    if (batch.refusedIn(g, t.traceId)) return true;
    const w = this.opts.windowMs;
    if (t.lastMs < g.firstMs - w || t.firstMs > g.lastMs + w || this.loader.membershipOf(g.key, g.value, t.traceId) !== 'refused') return false;
    // Noted for the batch: groupsOf asks again in each of its three passes.
    batch.noteRefusal(g, t.traceId);
    return true;
  }

  /** Makes g one of the batch's episodes: its current one for the key value, or one it left. */
  private enterBatch(g: KeyGroup, current: KeyGroup | undefined, batch: BatchContext, loaded: boolean): void {
    if (current) batch.leftEpisodes.push(g);
    else {
      batch.values(g.key as BusinessKeyName).set(g.value, g);
      this.groups.set(g.mapKey, g);
    }
    batch.spanAtStart.set(g, { firstMs: g.firstMs, lastMs: g.lastMs, whole: loaded });
  }

  /**
   * A correlation counts every span, log and service of its member traces, not only those that
   * carry its key: usually only a trace's root span does. A trace that joined a group in this
   * batch brings all it has; a member that gained data adds it to each group that holds it.
   */
  private countMembers(batch: BatchContext): void {
    const joined = new Map<KeyGroup, Set<string>>();
    for (const { group, trace } of batch.joins) {
      group.spanCount += trace.spanCount;
      group.logCount += trace.logCount;
      addServices(group, trace);
      widenTo(group, trace);
      let ids = joined.get(group);
      if (!ids) joined.set(group, (ids = new Set()));
      ids.add(trace.traceId);
    }
    for (const d of batch.traceDeltas.values()) {
      if (d.spans === 0 && d.logs === 0) continue;
      const t = d.state;
      for (const g of this.groupsOf(t, batch, batch.scratchGroups, batch.scratchFull)) {
        if (g.bridges) batch.noteChangedSpan(g, t, this.opts.windowMs);
        if (joined.get(g)?.has(t.traceId)) continue;
        g.spanCount += d.spans;
        g.logCount += d.logs;
        addServices(g, t);
        widenTo(g, t);
        // A member whose spans now run later may parent a later trace: its episode plans again, as
        // it would had the span come first. A log line alone makes it no parent (TraceState.spanLastMs).
        if (g.bridges && t.spanLastMs > d.spanLastMsBefore) batch.dirtyGroups.add(g);
        else batch.countedGroups.add(g);
      }
      // A trace a full episode refused counts nothing there, but its span is the episode's: a later
      // trace near it finds the full episode, in hot state or read back from the episode's row.
      for (const g of batch.scratchFull) {
        if (g.bridges) batch.noteChangedSpan(g, t, this.opts.windowMs);
        const [firstMs, lastMs] = [g.firstMs, g.lastMs];
        widenTo(g, t);
        if (g.firstMs !== firstMs || g.lastMs !== lastMs) batch.countedGroups.add(g);
      }
    }
  }

  /**
   * Late data that widens an episode can bring another episode of the same key value within the
   * window: arriving A, C, then B between them, B joined C while A stayed apart, and the circuit
   * had two correlations where A, B, C gave one. Such episodes are merged into the widened one,
   * which then takes the id of its earliest datum, so the id does not depend on arrival order.
   */
  private mergeEpisodes(batch: BatchContext): void {
    for (const [g, before] of batch.spanAtStart) {
      if (g.key === 'trace_id' || batch.absorbed.has(g)) continue;
      if (!before.whole && g.firstMs >= before.firstMs && g.lastMs <= before.lastMs) continue;
      // Each merge widens the episode again: bounded, as a chain of episodes could be long.
      let merged = false;
      let done = false;
      // An episode from hot state has merged every episode within reach of its span at the start
      // of the batch (it looks whenever it widens), unless its rounds ran out: only what lies
      // beyond that reach can be new. Looking within it again read all the episode's members and
      // its own correlation each time it widened, so each trace cost more the more the episode had.
      const w = this.opts.windowMs;
      const reached = before.whole || g.reachUnmerged ? null : { firstMs: before.firstMs - w, lastMs: before.lastMs + w };
      for (let round = 0; round < MAX_MERGE_ROUNDS && !done; round++) {
        const [firstMs, lastMs] = [g.firstMs, g.lastMs];
        // A group read back is counted again even when there is nothing to take in; a merge counts
        // the whole span it widens to.
        const counted = round > 0 ? { firstMs, lastMs } : before.whole ? null : before;
        done = !this.absorbNearby(g, batch, counted, round === 0 ? reached : null);
        if (done) break;
        merged = true;
        done = g.firstMs >= firstMs && g.lastMs <= lastMs;
      }
      g.reachUnmerged = !done;
      if (merged) batch.merged.add(g);
      // A group read back may hold members its stored id was not made from.
      if (merged || before.whole || g.firstMs < before.firstMs) {
        const id = correlationId(g.method, g.value, g.firstMs);
        if (id !== g.id) {
          batch.writes.correlationsRemoved.push(g.id);
          g.id = id;
        }
      }
    }
  }

  /**
   * Merges into g the episodes within its window; whether there were any. `counted` is the span
   * whose logs of no trace g has counted, null to count them all again; `reached`, the range within
   * which it has merged every stored episode already (StateLoader.episodesNear).
   */
  private absorbNearby(g: KeyGroup, batch: BatchContext, counted: TimeSpan | null, reached: TimeSpan | null): boolean {
    const w = this.opts.windowMs;
    const [firstMs, lastMs] = [g.firstMs, g.lastMs];
    const reaches = (f: number, l: number): boolean => l >= firstMs - w && f <= lastMs + w;
    const parts: EpisodePart[] = [];
    const taken = new Set<string>();
    // Episodes this batch changed: their state here is newer than the store's.
    const current = batch.groups.get(g.key as BusinessKeyName)?.get(g.value);
    for (const e of current && current !== g ? [current, ...batch.leftEpisodes] : batch.leftEpisodes) {
      if (e === g || e.mapKey !== g.mapKey || batch.absorbed.has(e) || !reaches(e.firstMs, e.lastMs)) continue;
      batch.absorbed.add(e);
      batch.dirtyGroups.delete(e);
      batch.countedGroups.delete(e);
      // Its row, if it has one (an episode of logs alone has one with no members counted).
      batch.writes.correlationsRemoved.push(e.id);
      taken.add(e.id);
      parts.push(e);
      if (g.bridges) for (const plan of e.bridges?.values() ?? []) adoptBridge(g.bridges, plan, batch);
    }
    // Only the logs of no trace g has counted are left out: a long episode has many, and reading
    // them all again each time it widened grew each request's cost with the episode's length. A
    // group read back has counted none: without its own span's logs, the store found no episode
    // near it when those were all it held, and the group missed the rows of the episodes of logs
    // alone in its window, which it then neither merged nor removed.
    // Every member in reach, not the first MAX_TRACES_PER_CIRCUIT by time: those were often g's
    // own, and a lone trace after them (an episode of one has no correlation row) was never merged,
    // so the episode's span and count of episodes depended on arrival order. The members in reach
    // are those of the episodes being merged, which combine reads all of anyway.
    const near = this.loader.episodesNear(g.key, g.value, firstMs - w, lastMs + w, Infinity, counted, reached, g.id);
    if (near) {
      for (const c of near.correlations) {
        if (c.id === g.id || taken.has(c.id) || batch.writes.correlationsRemoved.includes(c.id)) continue;
        batch.writes.correlationsRemoved.push(c.id);
        parts.push({ ...c, persistedMembers: c.members });
      }
      const inParts = new Set(parts.flatMap(p => p.traceIds));
      for (const m of near.members)
        if (!g.traceSet.has(m.traceId) && !inParts.has(m.traceId))
          parts.push({ id: '', traceIds: [m.traceId], services: [], firstMs: m.firstMs, lastMs: m.lastMs, persistedMembers: 0 });
      // Logs of no trace beyond the episode's span: an episode of their own, or part of one above.
      const loose = near.looseLogs;
      if (loose && (loose.firstMs < firstMs || loose.lastMs > lastMs))
        parts.push({ id: '', traceIds: [], services: loose.services, firstMs: loose.firstMs, lastMs: loose.lastMs, persistedMembers: 0 });
    }
    if (parts.length === 0) {
      // A group read back is counted whole again. Otherwise the stored logs of no trace within the
      // span it widened to are its own, counted nowhere yet.
      if (!counted) this.combine(g, parts, [], batch);
      else if (near?.looseLogs) addLooseLogs(g, near.looseLogs);
      return false;
    }
    // The bridges into what it merges, read only now: most widenings merge nothing, and reading
    // those into all the episode's own members made each request's cost grow with the episode.
    const listed = new Set(near?.members.map(m => m.traceId));
    for (const c of near?.correlations ?? []) for (const id of c.traceIds) listed.add(id);
    this.combine(g, parts, listed.size === 0 ? [] : this.loader.bridgesInto(g.key, g.value, [...listed]), batch);
    // The merged episode is the key value's episode from now on, in this batch and in hot state.
    // The one it replaces as the batch's, out of reach this round, is left for the next round to
    // find: dropped here, a merge that widened toward it later in the same request missed it, and
    // its traces ended in no correlation, though they joined when the request came split.
    if (current && current !== g && !batch.absorbed.has(current)) batch.leftEpisodes.push(current);
    batch.groups.get(g.key as BusinessKeyName)?.set(g.value, g);
    this.groups.set(g.mapKey, g);
    batch.countedGroups.delete(g);
    batch.dirtyGroups.add(g);
    return true;
  }

  /**
   * g with the parts' members, services, times and bridges. Counts are summed again from the
   * member traces (two episodes can share a trace) and from the logs of no trace in its span:
   * stored ones and this batch's.
   */
  private combine(g: KeyGroup, parts: readonly EpisodePart[], storedBridges: readonly BridgePlan[], batch: BatchContext): void {
    // Members and bridges of other episodes come in: planned apart, they are planned again whole.
    g.planned = false;
    const states = new Map(this.readMemberStates([...g.traceIds, ...parts.flatMap(p => p.traceIds)]).map(t => [t.traceId, t]));
    for (const p of parts) {
      for (const id of p.traceIds) {
        if (g.traceSet.has(id)) continue;
        if (g.traceIds.length >= this.opts.maxTracesPerCircuit) {
          // Left out, it was a member of no episode: its later data counted and planned nowhere.
          const t = states.get(id);
          if (t && Number.isFinite(t.firstMs)) {
            batch.writes.demotions.push({ key: g.key, value: g.value, traceId: id, firstMs: t.firstMs, lastMs: t.lastMs });
            batch.noteRefusal(g, id);
          }
          continue;
        }
        g.traceIds.push(id);
        g.traceSet.add(id);
      }
      for (const s of p.services) addService(g.services, s);
      if (p.firstMs < g.firstMs) g.firstMs = p.firstMs;
      if (p.lastMs > g.lastMs) g.lastMs = p.lastMs;
      g.persistedMembers += p.persistedMembers;
    }
    g.spanCount = 0;
    g.logCount = 0;
    for (const id of g.traceIds) {
      const t = states.get(id);
      if (!t) continue;
      g.spanCount += t.spanCount;
      g.logCount += t.logCount;
      addServices(g, t);
      widenTo(g, t);
    }
    g.looseLogs = this.looseLogsWithin(g, batch);
    g.logCount += g.looseLogs;
    // The stored bridges into the merged members are this episode's now: restitching replaces them.
    if (g.bridges) for (const b of storedBridges) if (g.traceSet.has(b.childTraceId)) adoptBridge(g.bridges, b, batch);
  }

  /**
   * The logs of no trace carrying g's key value within its span, stored or this batch's; their
   * services join g's. Episodes of a key value never overlap (they would merge), so a log in the
   * span is the episode's, whichever episode counted it before.
   */
  private looseLogsWithin(g: KeyGroup, batch: BatchContext): number {
    const stored = this.loader.looseLogs(g.key, g.value, g.firstMs, g.lastMs);
    let n = stored?.count ?? 0;
    for (const s of stored?.services ?? []) addService(g.services, s);
    for (const l of batch.writes.looseLogs)
      if (l.key === g.key && l.value === g.value && l.timeMs >= g.firstMs && l.timeMs <= g.lastMs) {
        n++;
        addService(g.services, l.service);
      }
    return n;
  }

  /** The states of these traces, to change: from hot state, else read back and kept there. */
  private memberStates(traceIds: readonly string[]): TraceState[] {
    return this.statesOf(traceIds, true);
  }

  /**
   * Member states to plan or claim from, not to change: those hot state keeps encoded, or does not
   * hold, are read for this call only (TieredMap.peek), so a batch holds one group's members at a
   * time. Keeping all it read until the batch ended, read back from the store too, on a store that
   * held earlier circuits each of a batch's circuits brought its hundreds of members.
   */
  private readMemberStates(traceIds: readonly string[]): TraceState[] {
    return this.statesOf(traceIds, false);
  }

  private statesOf(traceIds: readonly string[], keep: boolean): TraceState[] {
    const members: TraceState[] = [];
    const missing: string[] = [];
    for (const id of traceIds) {
      const t = keep ? this.traces.get(id) : this.traces.peek(id);
      if (t) members.push(t);
      else missing.push(id);
    }
    for (const t of missing.length > 0 ? this.loader.loadTraces(missing) : []) {
      if (keep) this.traces.set(t.traceId, t);
      members.push(t);
    }
    return members;
  }

  private finish(batch: BatchContext): ObserveResult {
    const events = new Map<string, number>();
    const bump = (method: string) => events.set(method, (events.get(method) ?? 0) + 1);

    for (const traceId of batch.traceLogJoins) {
      const t = this.traces.get(traceId);
      if (!t || t.spanCount === 0 || t.logCount === 0) continue;
      const g = this.traceGroup(t);
      batch.dirtyGroups.add(g);
    }
    // Trace groups whose spans just arrived after their logs.
    for (const [traceId, d] of batch.traceDeltas) {
      if (d.spans > 0 && d.state.logCount > 0 && !batch.traceLogJoins.has(traceId)) batch.dirtyGroups.add(this.traceGroup(d.state));
    }

    this.countMembers(batch);
    this.writeMemberships(batch);
    for (const d of batch.traceDeltas.values()) {
      const t = d.state;
      const up: TraceUpsert = {
        traceId: t.traceId,
        firstMs: t.firstMs,
        lastMs: t.lastMs,
        spanDelta: d.spans,
        errorDelta: d.errors,
        errorLogDelta: d.errorLogs,
        logDelta: d.logs,
        services: t.services,
        entry: t.entry,
        keys: t.keys,
        moreKeys: t.moreKeys,
        linkedTraceIds: t.linkedTraceIds,
        spanFirstMs: d.spans > 0 ? d.spanFirstMs : null,
        spanLastMs: d.spans > 0 ? d.spanLastMs : null,
        keysGained: d.keyValuesBefore >= 0 && keyValueCount(t) > d.keyValuesBefore,
        entryBecameRoot: d.entryHadParent && t.entry?.hasParent === false,
      };
      batch.writes.traces.push(up);
      // Every group that bridges to or from the trace plans again: each of its circuits, not
      // only the first it named.
      if (d.entryChanged || d.candidatesChanged)
        for (const g of this.groupsOf(t, batch, batch.scratchGroups)) if (g.bridges) batch.dirtyGroups.add(g);
      if (d.linksChanged) {
        // An episode that stitches locally plans around the changed spans (stitchLocally).
        for (const g of this.groupsOf(t, batch, batch.scratchGroups, batch.scratchFull)) {
          if (!g.bridges) continue;
          batch.dirtyGroups.add(g);
          batch.noteChangedSpan(g, t, this.opts.windowMs);
        }
        for (const g of batch.scratchFull) if (g.bridges) batch.noteChangedSpan(g, t, this.opts.windowMs);
      }
    }

    this.mergeEpisodes(batch);
    // Groups that only counted a member's data write their row again; the others plan bridges too.
    for (const g of batch.dirtyGroups) batch.countedGroups.delete(g);
    const holdingLooseLogs: KeyGroup[] = [];
    for (const g of [...batch.dirtyGroups, ...batch.countedGroups]) {
      if (g.key === 'trace_id') {
        const t = this.traces.get(g.value);
        if (t) {
          g.spanCount = t.spanCount;
          g.logCount = t.logCount;
          g.firstMs = t.firstMs;
          g.lastMs = t.lastMs;
          g.services = [...t.services];
        }
      }
      // A trace's own logs make it no correlation of its keys: only logs of no trace are a member.
      const members = g.traceIds.length + (g.looseLogs > 0 && g.key !== 'trace_id' ? 1 : 0) + (g.key === 'trace_id' ? 1 : 0);
      // An episode of logs of no trace alone is no correlation yet, but its row keeps its span:
      // read back, a chain of such logs longer than the window starts where it started. The API
      // does not list it (sqlite-store.ts, correlations).
      const logsAlone = g.key !== 'trace_id' && g.traceIds.length === 0 && g.looseLogs > 0;
      if (members < 2 && !logsAlone) continue;
      if (members >= 2 && members > g.persistedMembers) {
        for (let i = g.persistedMembers; i < members; i++) bump(g.method);
        g.persistedMembers = members;
      }
      batch.writes.correlations.push({
        id: g.id,
        method: g.method,
        key: g.key,
        value: g.value,
        confidence: g.confidence,
        firstMs: g.firstMs,
        lastMs: g.lastMs,
        traceIds: [...g.traceIds],
        ...(g.idsWrittenAs === g.id && g.idsWrittenCount === g.traceIds.length ? { traceIdsStored: true as const } : {}),
        services: [...g.services],
        spanCount: g.spanCount,
        logCount: g.logCount,
      });
      // A failed write forgets the group (rollback), and with it this.
      g.idsWrittenAs = g.id;
      g.idsWrittenCount = g.traceIds.length;
      if (claimsLogs(g)) holdingLooseLogs.push(g);
      // An episode with traces it refused plans around the traces the batch changed (stitchLocally).
      if (g.bridges && g.key !== 'trace_id' && g.traceIds.length >= 2 && !batch.countedGroups.has(g) && !this.stitchesLocally(g, batch)) this.restitch(g, batch);
    }
    this.stitchLocally(batch);
    if (holdingLooseLogs.length > 0) this.claimLooseLogs(holdingLooseLogs, batch);
    for (const b of batch.writes.bridgesAdded) b.settled = this.entryIsRoot(b.traceId) && this.entryIsRoot(b.childTraceId);
    batch.writes.circuits.push(...batch.circuits.values());
    // Every group the batch joined is dirty (joinGroup), and so is every trace group it touched.
    const groupKeys = new Set<string>();
    for (const g of batch.dirtyGroups) groupKeys.add(g.mapKey);
    for (const g of batch.countedGroups) groupKeys.add(g.mapKey);
    return { writes: batch.writes, events, touched: { traceIds: [...batch.traceDeltas.keys()], groupKeys: [...groupKeys] } };
  }

  /**
   * Claims the logs of no trace of these episodes for the circuits their members name
   * (loose-log-claims.ts), within the window of each circuit's traces, where the batch may have
   * changed whose they are: the whole episode's when it merged with another, or for the members
   * the batch brought, gave spans or logs (their times may have grown) or key values; and the
   * batch's own such logs, for every member. Nothing changed, nothing is claimed: a long episode's
   * logs are not read again for every batch.
   */
  private claimLooseLogs(episodes: readonly KeyGroup[], batch: BatchContext): void {
    const w = this.opts.windowMs;
    const merged = new Set<KeyGroup>();
    for (const g of batch.merged) {
      const now = batch.episodeNow(g);
      if (now) merged.add(now);
    }
    const times = looseLogTimes(batch.writes.looseLogs);
    const claim = (g: KeyGroup, traces: readonly TraceState[], within: TimeSpan) => {
      for (const c of circuitClaims(traces, w, within)) batch.writes.looseLogClaims.push({ key: g.key, value: g.value, ...c });
    };
    for (const g of episodes) {
      const own = spanWithin(times.get(g.mapKey), g.firstMs, g.lastMs);
      const whole = merged.has(g);
      const touched = whole ? [] : g.traceIds.filter(id => batch.traceDeltas.has(id));
      if (!own && touched.length === 0 && !whole) continue;
      // Members are read once: those the batch touched are among them when all are read.
      const members = this.readMemberStates(whole || own ? g.traceIds : touched).filter(namesACircuit);
      if (whole || own) claim(g, members, whole ? g : own!);
      if (!whole && touched.length > 0) {
        const changed = own ? members.filter(t => batch.traceDeltas.has(t.traceId)) : members;
        if (changed.length > 0) claim(g, changed, g);
      }
    }
  }

  /** Whether the trace's entry span is its root; read, not kept (planning read it, and may not have kept it). */
  private entryIsRoot(traceId: string): boolean {
    const t = this.traces.peek(traceId) ?? this.readMemberStates([traceId])[0];
    return t?.entry?.hasParent === false;
  }

  /**
   * Whether g plans its bridges around the traces a batch changes (stitchLocally) rather than among
   * its members (restitch): when it is full, or has traces it refused in reach (its earliest
   * members deleted by retention, say). Asked once per episode and batch.
   */
  private stitchesLocally(g: KeyGroup, batch: BatchContext): boolean {
    let local = batch.localStitch.get(g);
    if (local === undefined) {
      const w = this.opts.windowMs;
      local = g.traceIds.length >= this.opts.maxTracesPerCircuit || this.loader.refusalsNear(g.key, g.value, g.firstMs - w, g.lastMs + w);
      batch.localStitch.set(g, local);
    }
    return local;
  }

  /**
   * Bridges of episodes that refused traces. An episode below MAX_TRACES_PER_CIRCUIT plans its
   * bridges among its members (restitch), which are all the key value's traces of the episode.
   * Past the cap the later traces are no member, and went unstitched: a circuit whose traces never
   * paused longer than the window lost its bridges for good. Such an episode plans each child among
   * the key value's traces around it instead, members or refused, by the same rule: the bridges
   * are those of all its traces, whatever arrived first and which traces are members.
   */
  private stitchLocally(batch: BatchContext): void {
    // Made once the batch's joins and merges are all done, and only when an episode needs it.
    let batchTraces: ReadonlyMap<KeyGroup, ReadonlySet<string>> | undefined;
    // The spans noted under episodes a merge joined are the merged episode's: planned apart, a
    // child was planned in a span without a parent whose change was noted under the other (its
    // stored span does not reach the child yet), and that plan replaced the right one.
    const spansOf = new Map<KeyGroup, [number, number][]>();
    for (const [noted, spans] of batch.changedSpans) {
      const g = batch.episodeNow(noted);
      if (!g?.bridges || g.key === 'trace_id' || !this.stitchesLocally(g, batch)) continue;
      const all = spansOf.get(g);
      if (all) all.push(...spans);
      else spansOf.set(g, [...spans]);
    }
    for (const [g, spans] of spansOf) {
      batchTraces ??= batch.tracesByEpisodeNow();
      // Disjoint spans: a child is planned in one of them only (its parents are all within it).
      for (const [fromMs, toMs] of mergeSpans(spans)) this.stitchWithin(g, fromMs, toMs, batch, batchTraces.get(g));
    }
  }

  /**
   * Plans the bridges into g's traces that start within [fromMs + window, toMs]: every trace that
   * can be the parent of one (its span reaching the child's start less the window) is among the
   * key value's traces whose span reaches [fromMs, toMs]. `batchTraces`: the batch's traces of g
   * (BatchContext.tracesByEpisodeNow).
   */
  private stitchWithin(g: KeyGroup, fromMs: number, toMs: number, batch: BatchContext, batchTraces: ReadonlySet<string> | undefined): void {
    const w = this.opts.windowMs;
    const key = g.key as BusinessKeyName;
    const ids = new Set<string>();
    for (const id of this.loader.tracesNear(key, g.value, fromMs, toMs, Math.max(MAX_TRACES_NEAR, 2 * this.opts.maxTracesPerCircuit))) ids.add(id);
    // The batch's own traces of the episode are not stored yet, including those that joined or
    // were refused by an episode it then merged: missed, they were planned as no child.
    if (batchTraces) for (const id of batchTraces) ids.add(id);
    const states = this.withLinked(this.readMemberStates([...ids]), ids, key, g.value);
    const children = states.filter(t => ids.has(t.traceId) && t.entry !== null && t.entry.startMs >= fromMs + w && t.entry.startMs <= toMs);
    if (children.length === 0) return;
    // Only the children's plans are read: the other traces are parents and links to them.
    const childIds = new Set(children.map(c => c.traceId));
    const plans = planBridges(key, g.value, states, w, t => childIds.has(t.traceId));
    // Planned in part: its next restitch, should it fall below the cap, plans every member.
    g.planned = false;
    const stored = new Map(this.loader.bridgesInto(key, g.value, children.map(c => c.traceId)).map(b => [b.childTraceId, b]));
    const { bridgesAdded, bridgesRemoved } = batch.writes;
    const ofChild = (b: BridgePlan, child: string) => b.childTraceId === child && b.key === key && b.value === g.value;
    const nowMs = this.now();
    for (const c of children) {
      const id = c.traceId;
      const next = plans.get(id);
      // What this batch already wrote into the child (a merge's restitch, an adopted bridge) gives
      // way to this plan: the writer removes rows before it adds them.
      for (let i = bridgesAdded.length - 1; i >= 0; i--) if (ofChild(bridgesAdded[i]!, id)) bridgesAdded.splice(i, 1);
      const old = stored.get(id);
      const removing = old !== undefined && bridgesRemoved.some(b => ofChild(b, id) && b.spanId === old.spanId && b.traceId === old.traceId);
      const same = old !== undefined && next !== undefined && old.spanId === next.spanId && old.traceId === next.traceId;
      if (old && !same && !removing) bridgesRemoved.push(old);
      // Hot state keeps its members' bridges only: a refused trace's would grow it without bound.
      if (next && g.traceSet.has(id)) g.bridges!.set(id, next);
      else g.bridges!.delete(id);
      if (!next) continue;
      if (same && !removing && unchangedPlan(old, next)) continue;
      bridgesAdded.push(bridgeRow(next, nowMs));
    }
  }

  /**
   * Plans the bridges of episodes retention thinned again, as a batch planning them whole would: a
   * bridge into or out of a deleted trace went with it, and its members were left unbridged until
   * new data came, though the same data sent to a fresh store bridges them. The episode in hot
   * state if it holds the trace, else read back as a batch reads it (loadGroup).
   */
  replanThinned(episodes: readonly ThinnedEpisode[]): ObserveResult {
    const batch = new BatchContext();
    const w = this.opts.windowMs;
    for (const e of episodes) {
      // A trace's own spans-and-logs correlation bridges nothing.
      const key = e.key as BusinessKeyName;
      if (!this.opts.bridgeKeys.includes(key)) continue;
      const hot = this.groups.get(groupMapKey(key, e.value));
      let g = hot?.traceSet.has(e.traceId) ? hot : null;
      if (!g) {
        const [fromMs, toMs] = [e.firstMs - w, e.lastMs + w];
        g = this.loader.loadGroup(key, e.value, fromMs, toMs, this.opts.maxTracesPerCircuit, e.traceId);
        if (!g?.traceSet.has(e.traceId)) continue;
        this.groups.set(g.mapKey, g);
      }
      if (g.traceIds.length < 2 || batch.dirtyGroups.has(g)) continue;
      g.bridges ??= new Map();
      batch.dirtyGroups.add(g);
      g.planned = false;
      if (this.stitchesLocally(g, batch)) this.stitchWithin(g, g.firstMs - w, g.lastMs, batch, undefined);
      else this.restitch(g, batch);
    }
    for (const b of batch.writes.bridgesAdded)
      b.settled = this.entryIsRoot(b.traceId) && this.entryIsRoot(b.childTraceId);
    // As a batch ends: the groups it planned again are counted again too.
    this.endBatch(batch);
    const groupKeys = [...batch.dirtyGroups].map(g => g.mapKey);
    return { writes: batch.writes, events: new Map(), touched: { traceIds: [], groupKeys } };
  }

  /**
   * Drops what a batch changed in hot state, when its writes failed: the entries are read again
   * from the store, which does not have the batch. Kept, they held its spans, so the client's
   * retry was counted twice and found its bridges already planned, and never stored them.
   */
  forget(touched: TouchedState): void {
    for (const id of touched.traceIds) this.traces.delete(id);
    for (const key of touched.groupKeys) this.groups.delete(key);
  }

  private traceGroup(t: TraceState): KeyGroup {
    const mk = groupMapKey('trace_id', t.traceId);
    let g = this.groups.get(mk);
    if (!g) {
      const id = correlationId('trace_id', t.traceId, 0);
      g = {
        mapKey: mk,
        id,
        method: 'trace_id',
        key: 'trace_id',
        value: t.traceId,
        confidence: KEY_CONFIDENCE.trace_id,
        firstMs: t.firstMs,
        lastMs: t.lastMs,
        traceIds: [t.traceId],
        traceSet: new Set([t.traceId]),
        services: [...t.services],
        spanCount: t.spanCount,
        logCount: t.logCount,
        looseLogs: 0,
        bridges: null,
        // After a restart or an eviction the stored correlation has counted its members already:
        // counting them again made correlation_events_total grow with every reload.
        persistedMembers: this.loader.persistedMembers(id),
        planned: false,
        reachUnmerged: false,
      };
      this.groups.set(mk, g);
    }
    return g;
  }

  /**
   * The states with the traces of (key, value) they link to or from that are not among them: a
   * trace that trace context or a span link connects to another of the key value gets no guess
   * (planBridges), whichever episode the other is in.
   */
  private withLinked(states: TraceState[], ids: ReadonlySet<string>, key: BusinessKeyName, value: string): TraceState[] {
    const linked = new Set<string>();
    for (const t of states) for (const id of t.linkedTraceIds) if (!ids.has(id)) linked.add(id);
    if (linked.size > 0) for (const t of this.readMemberStates([...linked])) if (namesValue(t, key, value)) states.push(t);
    return states;
  }

  /**
   * Plans g's bridges among its members. A group whose bridges are its members' plan (planned)
   * plans again only the children the batch's changes can reach (changedReach); the others'
   * plans are those it holds, so it writes what planning them all would.
   */
  private restitch(g: KeyGroup, batch: BatchContext): void {
    const { plans, children } = this.planAgain(g, batch);
    g.planned = true;
    // A linked trace of another episode is there to stop a guess, not to be bridged.
    for (const child of plans.keys()) if (!g.traceSet.has(child)) plans.delete(child);
    const current = g.bridges!;
    const nowMs = this.now();
    const replanned: Iterable<[string, BridgePlan | undefined]> = children ? children.map(id => [id, current.get(id)]) : current;
    for (const [child, old] of replanned) {
      // A bridge to a trace outside this episode is another episode's to keep or replace.
      if (!old || !g.traceSet.has(child)) continue;
      const next = plans.get(child);
      if (!next || next.spanId !== old.spanId || next.traceId !== old.traceId) {
        batch.writes.bridgesRemoved.push(old);
        current.delete(child);
      }
    }
    for (const [child, plan] of plans) {
      const old = current.get(child);
      if (old && old.spanId === plan.spanId && unchangedPlan(old, plan)) continue;
      current.set(child, plan);
      // The bridge row is also the link from the bridge span to the child's entry span.
      batch.writes.bridgesAdded.push(bridgeRow(plan, nowMs));
    }
  }

  /**
   * The plans of g's children that restitch compares its bridges with, and those children (null:
   * every member). A planned group whose members have no span links finds the children the
   * batch's changes reach, and their parents, in its kept planning order (PlanOrder): reading
   * only those children and parents. Otherwise it reads every member and plans over them all,
   * still planning only the children reached when it is planned.
   */
  private planAgain(g: KeyGroup, batch: BatchContext): { plans: Map<string, BridgePlan>; children: string[] | null } {
    const key = g.key as BusinessKeyName;
    const w = this.opts.windowMs;
    const order = g.planned ? this.planOrders.get(g) : undefined;
    if (order) {
      const reach = this.changedReach(g, batch, order);
      if (!order.hasLinks) {
        const children: string[] = [];
        const pairs: [parent: string, child: string][] = [];
        for (const [from, to] of reach) {
          const [first, end] = order.within(from, to);
          for (let i = first; i < end; i++) {
            children.push(order.id(i));
            const parent = order.parentOf(i, w);
            if (parent !== null) pairs.push([parent, order.id(i)]);
          }
        }
        const ids = new Set<string>();
        for (const [p, c] of pairs) ids.add(p).add(c);
        const states = new Map(this.readMemberStates([...ids]).map(t => [t.traceId, t]));
        if (states.size === ids.size) {
          const plans = new Map<string, BridgePlan>();
          for (const [p, c] of pairs) plans.set(c, planBridge(key, g.value, states.get(p)!, states.get(c)!, w));
          return { plans, children };
        }
      }
    }
    const members = this.readMemberStates(g.traceIds);
    const memberCount = members.length;
    const states = this.withLinked(members, g.traceSet, key, g.value);
    this.planOrders.set(g, PlanOrder.of(states.slice(0, memberCount)));
    // A linked trace of another episode in the plan: its changes are noted under its own episode.
    if (!g.planned || states.length !== memberCount) return { plans: planBridges(key, g.value, states, w), children: null };
    const reach = this.changedReach(g, batch, null);
    const children = states.filter(t => {
      const start = t.entry?.startMs;
      return start !== undefined && reach.some(([from, to]) => start >= from && start <= to);
    });
    const picked = new Set(children);
    return { plans: planBridges(key, g.value, states, w, t => picked.has(t)), children: children.map(t => t.traceId) };
  }

  /**
   * Where the children start whose plans this batch's changes to g's members can change, as
   * disjoint ranges; `order` takes in each changed member. Every trace whose state changed was
   * given a delta (trace()). A changed trace T is the child it is, and the parent it was or
   * becomes only of traces starting within its reach: a parent starts before its child and its
   * spans end no earlier than the child's start less the window. T's first datum comes no later
   * than any entry it had, and its last no earlier than its spans' end, so [T.firstMs, T.lastMs +
   * window] holds its old and new places. The spans
   * noted for g (refused traces, linked ones) are added: planning more children changes nothing.
   */
  private changedReach(g: KeyGroup, batch: BatchContext, order: PlanOrder | null): [number, number][] {
    const w = this.opts.windowMs;
    const spans: [number, number][] = [];
    for (const [id, d] of batch.traceDeltas) {
      if (!g.traceSet.has(id)) continue;
      const t = d.state;
      if (order) this.planOrders.update(g, order, t);
      if (Number.isFinite(t.firstMs)) spans.push([t.firstMs, t.lastMs + w]);
    }
    for (const [from, to] of batch.changedSpans.get(g) ?? []) spans.push([from + w, to]);
    return mergeSpans(spans);
  }

}

interface TraceBatchDelta {
  state: TraceState;
  spans: number;
  errors: number;
  errorLogs: number;
  logs: number;
  entryChanged: boolean;
  candidatesChanged: boolean;
  /** It learnt of a span link with another trace: its episodes plan again (takeLinksInto). */
  linksChanged: boolean;
  /** When the batch's spans of it start and end. */
  spanFirstMs: number;
  spanLastMs: number;
  /** Its spans' last end before the batch: a member whose spans run later can parent a later trace. */
  spanLastMsBefore: number;
  /** How many key values it had before the batch (keyValueCount); -1 for a trace the batch brings first. */
  keyValuesBefore: number;
  /** Its entry before the batch was a span with a parent (TraceUpsert.entryBecameRoot). */
  entryHadParent: boolean;
}

class BatchContext {
  readonly writes: DerivedWrites = emptyDerivedWrites();
  readonly traceDeltas = new Map<string, TraceBatchDelta>();
  readonly dirtyGroups = new Set<KeyGroup>();
  /** Groups whose member traces gained data without the key: their counts change, not their bridges. */
  readonly countedGroups = new Set<KeyGroup>();
  /** Each group's span when the batch first touched it (mergeEpisodes); `whole`: read back, checked whole. */
  readonly spanAtStart = new Map<KeyGroup, { firstMs: number; lastMs: number; whole: boolean }>();
  /** Episodes of a key value this batch changed and then left for another (a datum outside their window). */
  readonly leftEpisodes: KeyGroup[] = [];
  /** Episodes merged into another in this batch: nothing of theirs is written. */
  readonly absorbed = new Set<KeyGroup>();
  /** Episodes that took others in (mergeEpisodes). */
  readonly merged = new Set<KeyGroup>();
  /** Reused by groupsOf. */
  readonly scratchGroups: KeyGroup[] = [];
  readonly scratchFull: KeyGroup[] = [];
  /** Traces each full episode refused in observe, by episode. */
  private readonly refusals = new Map<KeyGroup, Set<string>>();
  readonly traceLogJoins = new Set<string>();
  readonly circuits = new Map<string, CircuitDelta>();
  /** Traces that joined a group in this batch. */
  readonly joins: { group: KeyGroup; trace: TraceState }[] = [];
  /** The group each key and value of this batch joined, by key, then value. */
  readonly groups = new Map<BusinessKeyName, Map<string, KeyGroup>>();

  /** Per episode of a bridging key: the spans, widened by the window, of its traces the batch changed. */
  readonly changedSpans = new Map<KeyGroup, [number, number][]>();
  /** Per episode: whether it plans its bridges around the changed traces (stitchesLocally). */
  readonly localStitch = new Map<KeyGroup, boolean>();

  /**
   * From the trace's first datum, not its entry span's start: an entry that moves later leaves
   * children between its old and new start to plan again.
   */
  noteChangedSpan(g: KeyGroup, t: TraceState, windowMs: number): void {
    if (!Number.isFinite(t.firstMs)) return;
    let spans = this.changedSpans.get(g);
    if (!spans) this.changedSpans.set(g, (spans = []));
    spans.push([t.firstMs - windowMs, t.lastMs + windowMs]);
  }

  /**
   * The traces that joined, or were refused by, each episode in this batch, filed under the
   * episode each is now (episodeNow): one pass, where each episode stitching locally scanned them all.
   */
  tracesByEpisodeNow(): Map<KeyGroup, Set<string>> {
    const out = new Map<KeyGroup, Set<string>>();
    const add = (group: KeyGroup, traceId: string) => {
      const g = this.episodeNow(group);
      if (!g) return;
      let ids = out.get(g);
      if (!ids) out.set(g, (ids = new Set()));
      ids.add(traceId);
    };
    for (const [group, refused] of this.refusals) for (const id of refused) add(group, id);
    for (const { group, trace } of this.joins) add(group, trace.traceId);
    return out;
  }

  /** The episode g is now: the one it merged into in this batch, if it was absorbed. */
  episodeNow(g: KeyGroup): KeyGroup | undefined {
    return this.absorbed.has(g) ? this.groups.get(g.key as BusinessKeyName)?.get(g.value) : g;
  }

  noteRefusal(g: KeyGroup, traceId: string): void {
    let ids = this.refusals.get(g);
    if (!ids) this.refusals.set(g, (ids = new Set()));
    ids.add(traceId);
  }

  refusedIn(g: KeyGroup, traceId: string): boolean {
    return this.refusals.get(g)?.has(traceId) ?? false;
  }

  /**
   * Notes every group the batch may have changed: each it took up (spanAtStart), and those it
   * counted or planned, trace groups included.
   */
  noteChangedGroups(groups: TieredMap<KeyGroup>): void {
    for (const g of this.spanAtStart.keys()) groups.noteChanged(g.mapKey);
    for (const g of this.dirtyGroups) groups.noteChanged(g.mapKey);
    for (const g of this.countedGroups) groups.noteChanged(g.mapKey);
  }

  /** The groups of `key` the batch joined, by value (made on first use). */
  values(key: BusinessKeyName): Map<string, KeyGroup> {
    let byValue = this.groups.get(key);
    if (!byValue) this.groups.set(key, (byValue = new Map()));
    return byValue;
  }
}

/**
 * The traces a full episode reads around the traces a batch changed (stitchWithin): a circuit
 * with a trace a second has ~120 in two windows. Past this, which are read is the store's choice.
 */
const MAX_TRACES_NEAR = 4096;

/**
 * Traces not seen yet that span links name, held until they come. Past it, a link into one that
 * comes later is still found in the store once the linking request is written.
 */
const MAX_PENDING_LINK_TARGETS = 16_384;

/** Overlapping spans merged, in order. */
function mergeSpans(spans: [number, number][]): [number, number][] {
  spans.sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const [from, to] of spans) {
    const last = merged[merged.length - 1];
    if (last && from <= last[1]) last[1] = Math.max(last[1], to);
    else merged.push([from, to]);
  }
  return merged;
}

/** Whether the trace names (key, value), first or further. */
function namesValue(t: TraceState, key: BusinessKeyName, value: string): boolean {
  return t.keys[key] === value || hasMoreKey(t, key, value);
}

// A batch context lives for one request: see shape-anchors.ts.
anchorShape(new BatchContext());

/** What mergeEpisodes takes from another episode: a group, a stored correlation or a lone member. */
interface EpisodePart {
  id: string;
  traceIds: readonly string[];
  services: readonly string[];
  firstMs: number;
  lastMs: number;
  persistedMembers: number;
}

/** Merges in one batch that widen an episode into yet another one (a long chain of episodes). */
const MAX_MERGE_ROUNDS = 8;

/** One span or log as it counts for a circuit (or, when a trace joins one, all the trace had). */
interface CircuitDatum {
  service: string;
  startMs: number;
  endMs: number;
  spans: number;
  /** What it changes the errors of its trace by (traceErrors), or for a log of no trace its own. */
  errors: number;
  /**
   * Its errors counted alone, for a circuit that counts only the data naming it (countInCircuits):
   * an error span's, and a log of no trace's. A trace's ERROR line counts none there: whether it
   * counts depends on the trace's spans, which that circuit does not count, and with them on
   * arrival order.
   */
  ownErrors: number;
  logs: number;
  keys: KeyValues | null;
  /** Further values of its keys (DecodedSpan.moreKeys). */
  moreKeys: string[] | null;
}

/**
 * The datum for one circuit of its trace: the datum alone if the trace was already the circuit's,
 * else everything the trace has, this datum included (it joins the circuit now).
 *
 * Its key values count only when the datum names this circuit. A resource or product named beside
 * another circuit's id is that circuit's; one on a span that names no circuit does not say whose
 * it is when its trace names several. Taking a trace's values instead made the summary depend on
 * arrival order (a trace joining late brought the first value it had, whichever circuit it came
 * with), and taking all of them would give every circuit of a report the report's least resource.
 */
function countForTraceCircuit(t: TraceState, circuitId: string, already: boolean, datum: CircuitDatum, batch: BatchContext): void {
  const keys = keysForCircuit(datum, circuitId);
  if (already) {
    addToCircuit(circuitDelta(batch, circuitId, datum.startMs, datum.endMs), datum, keys);
    return;
  }
  const hasTimes = Number.isFinite(t.firstMs) && Number.isFinite(t.lastMs);
  const c = circuitDelta(batch, circuitId, hasTimes ? t.firstMs : datum.startMs, hasTimes ? t.lastMs : datum.endMs);
  addToCircuit(c, { ...datum, spans: t.spanCount, errors: traceErrors(t.errorCount, t.errorLogCount), logs: t.logCount }, keys);
  for (const s of t.services) addService(c.services, s);
}

/**
 * The key values a datum gives `circuitId`'s summary: its own when it names the circuit, else
 * none. One that names several circuits through an array gives each circuit that circuit's id,
 * and of its other keys' values the least (keepLeastKeys), as its data would one at a time.
 */
function keysForCircuit(datum: CircuitDatum, circuitId: string): KeyValues | null {
  const keys = datum.keys;
  const more = datum.moreKeys;
  if (more === null) return keys?.circuit_id === circuitId ? keys : null;
  if (keys?.circuit_id !== circuitId && !hasPair(more, 'circuit_id', circuitId)) return null;
  const out: KeyValues = { ...keys, circuit_id: circuitId };
  for (let i = 0; i < more.length; i += 2) if (more[i] !== 'circuit_id') keepLeastKeys(out, { [more[i]!]: more[i + 1]! });
  return out;
}

/** An episode spans its member traces whole, as their membership rows do: the same windows and ids read back or not. */
function widenTo(g: KeyGroup, t: TraceState): void {
  if (Number.isFinite(t.firstMs) && t.firstMs < g.firstMs) g.firstMs = t.firstMs;
  if (Number.isFinite(t.lastMs) && t.lastMs > g.lastMs) g.lastMs = t.lastMs;
}

/**
 * Whether a plan of the same hop says what the stored one says: a bridge stored before its basis
 * was kept ('unknown') is written again when its group plans anew.
 */
function unchangedPlan(old: BridgePlan, next: BridgePlan): boolean {
  return old.confidence === next.confidence && old.parentStartMs === next.parentStartMs && old.childStartMs === next.childStartMs && old.basis === next.basis;
}

/**
 * The row of a bridge planned now. Spelled out: rows made as `{ ...plan, createdAtMs }` each got
 * a hidden class (map) of their own, 4,080 maps for 4,080 rows in 100 requests, so every reader of
 * a batch's bridges (the hand-over to the writer thread, the writes in flight) looked their fields
 * up megamorphically, and each row cost the heap a new map.
 */
function bridgeRow(p: BridgePlan, createdAtMs: number): BridgeRow {
  return {
    spanId: p.spanId,
    traceId: p.traceId,
    parentSpanId: p.parentSpanId,
    parentService: p.parentService,
    parentStartMs: p.parentStartMs,
    childTraceId: p.childTraceId,
    childSpanId: p.childSpanId,
    childService: p.childService,
    childStartMs: p.childStartMs,
    key: p.key,
    value: p.value,
    method: p.method,
    confidence: p.confidence,
    basis: p.basis,
    createdAtMs,
    // Known once the batch has planned all its bridges (finish).
    settled: false,
  };
}

/**
 * An episode takes in another's bridge into a child it holds: the bridge is its own from now on,
 * unless it already has one into that child from another parent, and then the other's goes.
 */
function adoptBridge(bridges: Map<string, BridgePlan>, plan: BridgePlan, batch: BatchContext): void {
  const mine = bridges.get(plan.childTraceId);
  if (!mine) bridges.set(plan.childTraceId, plan);
  else if (mine.spanId !== plan.spanId || mine.traceId !== plan.traceId) batch.writes.bridgesRemoved.push(plan);
}

/** Logs of no trace that g's span came to hold: they count as its own, with their services. */
function addLooseLogs(g: KeyGroup, logs: LooseLogSpan): void {
  g.looseLogs += logs.count;
  g.logCount += logs.count;
  for (const s of logs.services) addService(g.services, s);
}

function addServices(g: KeyGroup, t: TraceState): void {
  for (const s of t.services) addService(g.services, s);
}


/** Records that t links to or is linked from `other`; whether it is news. */
function noteLinked(t: TraceState, other: string): boolean {
  return pushOnce(t.linkedTraceIds, other);
}

/**
 * Sets over the id lists that grew long, so adding to one is not a scan of it: a span with 100,000
 * links scanned its trace's list once per link and held the event loop for 50 s. The lists stay
 * arrays in arrival order (hot state encodes them and rows store them as they are); a list is only
 * ever added to here, so its set stays true to it, and one rebuilt by a read-back gets a set anew.
 */
const longListIndex = new WeakMap<string[], Set<string>>();
const LONG_LIST = 16;

function pushOnce(list: string[], id: string): boolean {
  if (list.length < LONG_LIST) {
    if (list.includes(id)) return false;
    list.push(id);
    return true;
  }
  let index = longListIndex.get(list);
  if (!index) longListIndex.set(list, (index = new Set(list)));
  if (index.has(id)) return false;
  index.add(id);
  list.push(id);
  return true;
}

function hasMoreKey(t: TraceState, key: BusinessKeyName, value: string): boolean {
  return hasPair(t.moreKeys, key, value);
}

function hasPair(pairs: readonly string[], key: BusinessKeyName, value: string): boolean {
  for (let i = 0; i < pairs.length; i += 2) if (pairs[i] === key && pairs[i + 1] === value) return true;
  return false;
}

/** Counts d for the circuit; `keys`, d's or none, apart: see countForTraceCircuit. */
function addToCircuit(c: CircuitDelta, d: CircuitDatum, keys: KeyValues | null): void {
  c.spanDelta += d.spans;
  c.errorDelta += d.errors;
  c.logDelta += d.logs;
  addService(c.services, d.service);
  if (keys) keepLeastKeys(c.keys, keys);
}

function circuitDelta(batch: BatchContext, circuitId: string, startMs: number, endMs: number): CircuitDelta {
  let c = batch.circuits.get(circuitId);
  if (!c) {
    c = { circuitId, firstMs: startMs, lastMs: endMs, spanDelta: 0, errorDelta: 0, logDelta: 0, services: [], keys: {} };
    batch.circuits.set(circuitId, c);
  }
  if (startMs < c.firstMs) c.firstMs = startMs;
  if (endMs > c.lastMs) c.lastMs = endMs;
  return c;
}
