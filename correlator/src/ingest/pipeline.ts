// One ingest request: decode → store fresh items and what correlation derives from them, in one
// transaction → count. Decoding problems of single items are reported, not fatal. Each request goes
// to the store as soon as it is decoded: the store's writer thread commits one request while this
// thread correlates the next, so holding requests back to commit them together only adds delay.
import type { CorrelationEngine, ObserveResult, ThinnedEpisode, TouchedState } from '../correlation/engine.js';
import type { CoreMetrics } from '../metrics/core-metrics.js';
import { MAX_REJECTION_MESSAGES, type DecodedLog, type DecodedLogBatch, type DecodedSpan, type DecodedTraceBatch, type KeyExtractionRules } from '../otlp/decoded.js';
import { normaliseLogsJson, normaliseTraceJson, type NormalisedJson } from '../otlp/json-normaliser.js';
import { decodeLogsRequest } from '../otlp/logs-decoder.js';
import { decodeTraceRequest } from '../otlp/trace-decoder.js';
import type { DerivedWrites } from '../store/derived-writes.js';
import type { IngestOutcome, Store } from '../store/store.js';
import { conflictingSpansWarning, repeatedSpanCount, repeatedSpansWarning } from './repeated-spans.js';
import { timeWarnings, type TimeBounds } from './time-warnings.js';

export interface IngestResult {
  accepted: number;
  duplicates: number;
  rejected: number;
  /** The rejection and the warnings, for OTLP's partial_success; empty when nothing was rejected and nothing stored has a warning. */
  message: string;
  /** Items stored that the sender should know about (time-warnings.ts). */
  warnings: readonly string[];
}

export type Signal = 'traces' | 'logs' | 'api_logs';

/**
 * Who handed a batch in. The ingest metrics (otlp_ingest_items_total, ingest_batch_duration_seconds)
 * describe what clients send: the MDSO poller re-sends its spans on every poll by design, and counted
 * there they showed as client traffic and, from the second poll on, as duplicates. It has its own metric.
 */
export type IngestSource = 'client' | 'mdso_poller';

export class IngestPipeline {
  constructor(
    private readonly store: Store,
    private readonly engine: CorrelationEngine,
    private readonly metrics: CoreMetrics,
    private readonly rules: KeyExtractionRules,
    private readonly now: () => number = Date.now,
    /** Without them (the MDSO poller's tests, benchmarks), no time warnings. */
    private readonly timeBounds: TimeBounds | null = null,
  ) {}

  /** Throws DecodeError when the body is not an OTLP request at all. */
  async tracesFromProtobuf(body: Uint8Array): Promise<IngestResult> {
    return this.storeSpans(decodeTraceRequest(body, this.rules, this.now()));
  }

  async tracesFromJson(body: unknown, source: IngestSource = 'client'): Promise<IngestResult> {
    const n = normaliseTraceJson(body);
    return this.storeSpans(withNormaliserNotes(n, decodeTraceRequest(n.binary, this.rules, this.now(), n.places)), source);
  }

  async logsFromProtobuf(body: Uint8Array): Promise<IngestResult> {
    return this.storeLogs(decodeLogsRequest(body, this.rules, this.now()), 'logs');
  }

  async logsFromJson(body: unknown): Promise<IngestResult> {
    const n = normaliseLogsJson(body);
    return this.storeLogs(withNormaliserNotes(n, decodeLogsRequest(n.binary, this.rules, this.now(), n.places)), 'logs');
  }

  async decodedLogs(logs: DecodedLog[], rejected: number, messages: string[]): Promise<IngestResult> {
    return this.storeLogs({ logs, rejected, rejectionMessages: messages, warnings: [], warned: 0 }, 'api_logs');
  }

  /**
   * Plans the bridges of episodes retention thinned again (engine.ts, replanThinned), stored and
   * counted as a batch's derived writes are, after the batches in flight: a bridge it adds is
   * queued for Tempo as any new one is. Hot state forgets the episodes if the write fails. False
   * when nothing was planned because the store refuses writes.
   */
  replanThinned(episodes: readonly ThinnedEpisode[]): Promise<boolean> {
    let result: ObserveResult | null = null;
    const derive = () => (result = this.engine.replanThinned(episodes)).writes;
    return this.store.storeDerived(derive, this.now()).then(
      stored => {
        if (result) this.countDerived(derivedCounts(result));
        return stored;
      },
      (e: unknown) => {
        if (result) this.engine.forget(result.touched);
        throw e;
      },
    );
  }

  // Not async functions on purpose (as the store's ingest methods): a suspended async function
  // keeps its parameters, and the decoded batch would outlive the wait for the writer.
  // The derive functions are the instance's: one made here would share this frame's context,
  // which holds the batch, and storeItems keeps it until the commit.
  private storeSpans(batch: DecodedTraceBatch, source: IngestSource = 'client'): Promise<IngestResult> {
    const dated = this.timeBounds ? timeWarnings(batch.spans, spanStart, spanEnd, 'span(s)', this.now(), this.timeBounds) : NO_WARNINGS;
    const repeats = repeatedSpanCount(batch.spans);
    const warnings = repeats > 0 ? [repeatedSpansWarning(repeats), ...dated] : dated;
    return this.storeItems('traces', batch, derive => this.store.ingestSpans(batch.spans, derive, this.now()), this.deriveSpans, source, warnings);
  }

  private storeLogs(batch: DecodedLogBatch, signal: Signal): Promise<IngestResult> {
    const warnings = this.timeBounds ? timeWarnings(batch.logs, logTime, logTime, 'log record(s)', this.now(), this.timeBounds) : NO_WARNINGS;
    return this.storeItems(signal, batch, derive => this.store.ingestLogs(batch.logs, derive, this.now()), this.deriveLogs, 'client', warnings);
  }

  private readonly deriveSpans = (fresh: DecodedSpan[]) => this.engine.observe(fresh, []);
  private readonly deriveLogs = (fresh: DecodedLog[]) => this.engine.observe([], fresh);

  /**
   * Stores a batch's fresh items with what correlation derives from them. A batch not stored
   * makes hot state forget it, so the client's retry is seen afresh.
   */
  private storeItems<T>(
    signal: Signal,
    {
      rejected,
      rejectionMessages,
      warnings: itemWarnings,
      warned,
      exportedBridges = 0,
    }: { rejected: number; rejectionMessages: string[]; warnings: string[]; warned: number; exportedBridges?: number },
    ingest: (derive: (fresh: T[]) => DerivedWrites) => Promise<IngestOutcome>,
    derive: (fresh: T[]) => { writes: DerivedWrites; events: Map<string, number>; touched: TouchedState },
    source: IngestSource,
    dateWarnings: readonly string[],
  ): Promise<IngestResult> {
    // One list of what the sender should know of items stored: the decoder's, by item (a key value
    // that is no key), then the time warnings. OTLP's partial_success carries it after the
    // rejection, with nothing rejected if need be, as OTLP allows; POST /api/logs as `warnings`.
    const allWarnings = warned ? [itemWarningSummary(itemWarnings, warned), ...dateWarnings] : dateWarnings;
    const fromClient = source === 'client';
    const end = fromClient ? this.metrics.ingestDuration.startTimer({ signal }) : null;
    let touched: TouchedState | null = null;
    // Only what was stored is counted: a refused batch sent again would count its events twice.
    // Its counts are kept until then, not its rows (a request waiting for the writer holds no rows).
    let counts: DerivedCounts | null = null;
    return ingest(fresh => {
      const r = derive(fresh);
      touched = r.touched;
      counts = derivedCounts(r);
      return r.writes;
    }).then(
      outcome => {
        end?.();
        if (counts) this.countDerived(counts);
        // Bridges this correlator exported, handed back: copies of what it holds.
        const warnings = outcome.conflicting ? [conflictingSpansWarning(outcome.conflicting), ...allWarnings] : allWarnings;
        return this.count(signal, outcome.fresh, outcome.duplicates + exportedBridges, rejected, rejectionMessages, fromClient, warnings);
      },
      (e: unknown) => {
        if (touched) this.engine.forget(touched);
        throw e;
      },
    );
  }

  private countDerived({ events, bridgeGapsSeconds, bridgesSuperseded, refusals }: DerivedCounts): void {
    for (const [method, n] of events) this.metrics.correlationEvents.inc({ method }, n);
    if (refusals) this.metrics.correlationRefusals.inc(refusals);
    if (bridgeGapsSeconds.length) {
      this.metrics.bridgesCreated.inc(bridgeGapsSeconds.length);
      for (const gap of bridgeGapsSeconds) this.metrics.bridgeGap.observe(gap);
    }
    if (bridgesSuperseded) this.metrics.bridgesSuperseded.inc(bridgesSuperseded);
  }

  private count(
    signal: Signal,
    fresh: number,
    duplicates: number,
    rejected: number,
    messages: string[],
    fromClient: boolean,
    warnings: readonly string[],
  ): IngestResult {
    if (fromClient) {
      const m = this.metrics.ingestItems;
      if (fresh) m.inc({ signal, outcome: 'accepted' }, fresh);
      if (duplicates) m.inc({ signal, outcome: 'duplicate' }, duplicates);
      if (rejected) m.inc({ signal, outcome: 'rejected' }, rejected);
    }
    const rejection = rejected
      ? `${rejected} ${signal === 'traces' ? 'span(s)' : 'log record(s)'} rejected: ${messages.join('; ')}${
          // Only when a list was cut: one message can stand for a resource's many items.
          messages.length >= MAX_REJECTION_MESSAGES && rejected > messages.length ? ` (and ${rejected - messages.length} more)` : ''
        }`
      : '';
    const message = warnings.length ? [rejection, ...warnings].filter(Boolean).join('. ') : rejection;
    return { accepted: fresh + duplicates, duplicates, rejected, message, warnings };
  }
}

const NO_WARNINGS: readonly string[] = [];

/**
 * The decoded batch of a JSON body with what the JSON normaliser said before decoding: its
 * rejections and its warnings first, as it saw the body first.
 */
function withNormaliserNotes<B extends DecodedTraceBatch | DecodedLogBatch>(n: NormalisedJson, batch: B): B {
  batch.rejected += n.rejected;
  batch.rejectionMessages.unshift(...n.rejectionMessages);
  batch.warned += n.warned;
  batch.warnings = [...n.warnings, ...batch.warnings].slice(0, MAX_REJECTION_MESSAGES);
  return batch;
}

/** The decoder's warnings of items kept as one, each naming its item: the first few, and how many there were. */
function itemWarningSummary(warnings: readonly string[], warned: number): string {
  return `${warned} warning(s): ${warnings.join('; ')}${warned > warnings.length ? ` (and ${warned - warnings.length} more)` : ''}`;
}

const spanStart = (s: DecodedSpan) => s.startMs;
const spanEnd = (s: DecodedSpan) => s.endMs;
const logTime = (l: DecodedLog) => l.timeMs;

/** What a batch's derived writes add to the metrics once stored. */
interface DerivedCounts {
  events: Map<string, number>;
  /** One per bridge created or updated. */
  bridgeGapsSeconds: number[];
  bridgesSuperseded: number;
  refusals: number;
}

function derivedCounts({ writes, events }: { writes: DerivedWrites; events: Map<string, number> }): DerivedCounts {
  return {
    events,
    bridgeGapsSeconds: writes.bridgesAdded.map(b => Math.max(0, b.childStartMs - b.parentStartMs) / 1000),
    bridgesSuperseded: writes.bridgesRemoved.length,
    refusals: writes.refusals.length,
  };
}
