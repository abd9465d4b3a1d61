// The MDSO poller: per product, page through the resources, keep those changed since the last scan
// (MDSO has no server-side time filter, so updatedAt is filtered here, with an overlap), hand each new
// failure and its TraceLog to the analysis side and to the span intake. Progress is stored after
// every good page, so a crash or an error resumes where the last good page ended.
import type { Database } from 'better-sqlite3';
import type { FastifyBaseLogger } from 'fastify';
import type { FailureInput, RecordedFailure } from '../analysis/index.js';
import type { MdsoClient, MdsoResource } from '../client/mdso-client.js';
import type { IngestTraces } from '../ingest-types.js';
import { buildFailureSpans } from '../spans/failure-spans.js';
import { mapLimit } from './concurrency.js';
import { changedAtMs, createdAtMs, failureOccurrenceKey, pickTraceLog, shortProductName, toFailureInput } from './failure-input.js';
import { PollStore, type ProductCursor } from './poll-store.js';

export interface FailureRecorder {
  recordFailure(input: FailureInput): RecordedFailure;
}

export interface PollerSettings {
  products: readonly string[];
  pageSize: number;
  pollIntervalSeconds: number;
  pollOverlapSeconds: number;
  /** how far back the very first scan of a product looks */
  initialLookbackHours: number;
  /** ask MDSO for failed resources only (`q=orchState:failed`) instead of scanning all */
  failedOnlyQuery: boolean;
  traceConcurrency?: number;
}

export interface PollerDeps {
  client: MdsoClient;
  db: Database;
  settings: PollerSettings;
  recorder: FailureRecorder;
  ingestTraces: IngestTraces;
  logger: FastifyBaseLogger;
  onPollFinished?: (result: PollResult) => void;
  now?: () => number;
}

export type PollOutcome = 'ok' | 'partial' | 'failed' | 'aborted';

export interface ProductPollResult {
  resourceTypeId: string;
  product: string;
  completed: boolean;
  resourcesSeen: number;
  resourcesChanged: number;
  failuresFound: number;
  failuresRecorded: number;
  duplicatesSkipped: number;
  shortPages: number;
  errorMessage: string | null;
}

export interface PollResult {
  trigger: 'schedule' | 'manual';
  startedMs: number;
  endedMs: number;
  outcome: PollOutcome;
  resourcesSeen: number;
  failuresFound: number;
  failuresRecorded: number;
  /** failed MDSO requests during the poll, retried ones included */
  apiErrors: number;
  errorMessage: string | null;
  products: ProductPollResult[];
}

const PROCESSED_RETENTION_MS = 90 * 86_400_000;

/** The longest wait between polls while MDSO refuses the credentials (unless the interval is longer). */
export const AUTH_BACKOFF_CAP_MS = 30 * 60_000;

/**
 * The wait before the next scheduled poll. Each poll whose login MDSO refused doubles it, up to
 * AUTH_BACKOFF_CAP_MS: a directory behind MDSO (LDAP/AD) locks an account after a few failed logins,
 * and logging in at the full rate with bad credentials would lock it for every other user of it too.
 */
export function nextPollDelayMs(intervalMs: number, authRejectedPolls: number): number {
  if (authRejectedPolls <= 0) return intervalMs;
  return Math.min(intervalMs * 2 ** authRejectedPolls, Math.max(intervalMs, AUTH_BACKOFF_CAP_MS));
}

export interface AuthRejectionInfo {
  message: string;
  sinceMs: number;
  /** consecutive polls whose login was refused */
  polls: number;
  /** the wait before the next scheduled poll */
  retryDelayMs: number;
}

/** Items re-read at each page boundary; tolerates that many removals ahead of the offset per page. */
function pageOverlap(pageSize: number): number {
  return Math.min(5, Math.floor(pageSize / 10));
}

export class PollInProgressError extends Error {
  constructor() {
    super('an MDSO poll is already running');
    this.name = 'PollInProgressError';
  }
}

export class MdsoPoller {
  readonly store: PollStore;
  private readonly now: () => number;
  private running: Promise<PollResult> | null = null;
  private abort: AbortController | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = true;
  private nextPollMs: number | null = null;
  private readonly startedMs: number;
  private lastError: { message: string; atMs: number } | null = null;
  private currentRunStartedMs: number | null = null;
  private apiErrorsThisPoll = 0;
  private lastApiError: { message: string; atMs: number } | null = null;
  private authRejection: { message: string; sinceMs: number; polls: number } | null = null;

  constructor(private readonly deps: PollerDeps) {
    this.now = deps.now ?? Date.now;
    this.store = new PollStore(deps.db);
    this.store.abandonRunning();
    this.startedMs = this.now();
    const errorRun = this.store.lastErrorRun();
    if (errorRun?.errorMessage) this.lastError = { message: errorRun.errorMessage, atMs: errorRun.endedMs ?? errorRun.startedMs };
  }

  /** Polls now and then every pollIntervalSeconds (measured from the end of a poll). */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.nextPollMs = this.now() + delayMs;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.nextPollMs = null;
      const run = this.running ?? this.runPoll('schedule');
      void run
        .catch(() => undefined)
        .finally(() => this.schedule(this.nextDelayMs()));
    }, delayMs);
    this.timer.unref?.();
  }

  /** Stops the schedule and aborts a running poll; resolves once it has wound down. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.nextPollMs = null;
    this.abort?.abort();
    if (this.running) await this.running.catch(() => undefined);
  }

  get isRunning(): boolean {
    return this.running !== null;
  }

  get nextPollAtMs(): number | null {
    return this.nextPollMs;
  }

  get runningSinceMs(): number | null {
    return this.currentRunStartedMs;
  }

  /** Set while the last poll(s) ended because MDSO refused the credentials; null once a login succeeds. */
  get authRejectionInfo(): AuthRejectionInfo | null {
    return this.authRejection ? { ...this.authRejection, retryDelayMs: this.nextDelayMs() } : null;
  }

  private nextDelayMs(): number {
    return nextPollDelayMs(this.deps.settings.pollIntervalSeconds * 1000, this.authRejection?.polls ?? 0);
  }

  get lastErrorInfo(): { message: string; atMs: number } | null {
    return this.lastError;
  }

  /** The last failed MDSO request, even one a retry recovered from. */
  get lastApiErrorInfo(): { message: string; atMs: number } | null {
    return this.lastApiError;
  }

  /** Called by the client for every failed attempt. */
  noteApiError(message: string): void {
    this.apiErrorsThisPoll++;
    this.lastApiError = { message, atMs: this.now() };
  }

  /** An immediate poll; throws PollInProgressError when one is running (one poll at a time). */
  pollNow(): Promise<PollResult> {
    if (this.running) throw new PollInProgressError();
    return this.runPoll('manual');
  }

  /** Seconds since the start of the oldest last completed product scan; since start-up if none. */
  lagSeconds(): number {
    let oldest: number | null = null;
    for (const type of this.deps.settings.products) {
      const c = this.store.cursor(type);
      const t = c.lastCompleteScanStartedMs ?? this.startedMs;
      if (oldest === null || t < oldest) oldest = t;
    }
    return Math.max(0, (this.now() - (oldest ?? this.startedMs)) / 1000);
  }

  cursors(): ProductCursor[] {
    return this.deps.settings.products.map(t => this.store.cursor(t));
  }

  private runPoll(trigger: 'schedule' | 'manual'): Promise<PollResult> {
    this.abort = new AbortController();
    const signal = this.abort.signal;
    this.currentRunStartedMs = this.now();
    const run = this.poll(trigger, signal).finally(() => {
      this.running = null;
      this.abort = null;
      this.currentRunStartedMs = null;
    });
    this.running = run;
    return run;
  }

  private async poll(trigger: 'schedule' | 'manual', signal: AbortSignal): Promise<PollResult> {
    const startedMs = this.now();
    this.apiErrorsThisPoll = 0;
    const runId = this.store.startRun(trigger, startedMs);
    const products: ProductPollResult[] = [];
    // One login attempt per poll: once MDSO has refused it, the client answers every later request of
    // this poll with that refusal, and the remaining products wait for the next poll.
    this.deps.client.clearAuthRejection();
    for (const type of this.deps.settings.products) {
      if (signal.aborted || this.deps.client.authRejected) break;
      products.push(await this.pollProduct(type, signal));
    }
    this.noteAuthOutcome();
    const errors = products.filter(p => p.errorMessage !== null);
    const outcome: PollOutcome = signal.aborted
      ? 'aborted'
      : errors.length === 0
        ? 'ok'
        : errors.length === products.length
          ? 'failed'
          : 'partial';
    const errorMessage = errors.length > 0 ? errors.map(e => `${e.product}: ${e.errorMessage}`).join('; ') : signal.aborted ? 'aborted by shutdown' : null;
    const result: PollResult = {
      trigger,
      startedMs,
      endedMs: this.now(),
      outcome,
      resourcesSeen: sum(products, p => p.resourcesSeen),
      failuresFound: sum(products, p => p.failuresFound),
      failuresRecorded: sum(products, p => p.failuresRecorded),
      apiErrors: this.apiErrorsThisPoll,
      errorMessage,
      products,
    };
    if (errors.length > 0 && errorMessage) this.lastError = { message: errorMessage, atMs: result.endedMs };
    this.store.finishRun(runId, {
      endedMs: result.endedMs,
      outcome,
      seen: result.resourcesSeen,
      failures: result.failuresFound,
      recorded: result.failuresRecorded,
      errorMessage,
      apiErrors: result.apiErrors,
      duplicatesSkipped: sum(products, p => p.duplicatesSkipped),
      shortPages: sum(products, p => p.shortPages),
    });
    // Old occurrences are only needed while their resources can still show up as changed.
    this.store.pruneProcessed(this.now() - PROCESSED_RETENTION_MS);
    const level = outcome === 'ok' ? 'info' : 'warn';
    this.deps.logger[level](
      { outcome, trigger, seconds: (result.endedMs - startedMs) / 1000, seen: result.resourcesSeen, failures: result.failuresFound, recorded: result.failuresRecorded, error: errorMessage ?? undefined },
      'MDSO poll finished',
    );
    this.deps.onPollFinished?.(result);
    return result;
  }

  private noteAuthOutcome(): void {
    const refused = this.deps.client.authRejected;
    if (refused) {
      this.authRejection = { message: refused.message, sinceMs: this.authRejection?.sinceMs ?? this.now(), polls: (this.authRejection?.polls ?? 0) + 1 };
      this.deps.logger.error(
        { err: refused.message, refusedPolls: this.authRejection.polls, nextPollInSeconds: this.nextDelayMs() / 1000 },
        'MDSO refused the credentials (MDSO_USER / MDSO_PASS); the poll stopped and scheduled polls back off until a login succeeds',
      );
    } else if (this.authRejection && this.deps.client.hasToken()) {
      // Only a login that worked clears the back-off: a poll that failed before logging in proves nothing.
      this.authRejection = null;
    }
  }

  private async pollProduct(type: string, signal: AbortSignal): Promise<ProductPollResult> {
    const { settings, client } = this.deps;
    const result: ProductPollResult = {
      resourceTypeId: type,
      product: shortProductName(type),
      completed: false,
      resourcesSeen: 0,
      resourcesChanged: 0,
      failuresFound: 0,
      failuresRecorded: 0,
      duplicatesSkipped: 0,
      shortPages: 0,
      errorMessage: null,
    };
    const cursor = this.store.cursor(type);
    let scan = cursor.scan;
    if (!scan) {
      const base = cursor.watermarkMs ?? this.now() - settings.initialLookbackHours * 3600_000;
      scan = { offset: 0, sinceMs: base - settings.pollOverlapSeconds * 1000, maxUpdatedMs: cursor.watermarkMs ?? 0, startedMs: this.now() };
      this.store.beginScan(type, scan);
    }
    const query = settings.failedOnlyQuery ? { resourceTypeId: type, q: 'orchState:failed' } : { resourceTypeId: type };
    // Resuming an interrupted scan re-reads one page before the stored offset: items that left the
    // list meanwhile (a repaired resource is no longer `failed`) shift the rest back, and without the
    // overlap those would be skipped. Failures already handed on are recognised and not repeated.
    const startOffset = scan.offset > 0 ? Math.max(0, scan.offset - settings.pageSize) : 0;
    // Duplicates across pages (a list shifting under us) must not be handled twice.
    const seenInScan = new Set<string>();
    let maxUpdated = scan.maxUpdatedMs;
    let previousEnd: number | null = null;
    try {
      for await (const page of client.resourcePages(query, startOffset, settings.pageSize, signal, pageOverlap(settings.pageSize))) {
        let seen = 0;
        let changed = 0;
        const failed: Array<{ resource: MdsoResource; updatedMs: number; occurrenceKey: string }> = [];
        if (page.items.length < settings.pageSize && page.nextOffset < page.total) result.shortPages++;
        // the first items of a page may be our own overlap; repeats beyond it are MDSO's
        const reread = previousEnd === null ? 0 : Math.max(0, previousEnd - page.offset);
        previousEnd = page.nextOffset;
        for (const [index, item] of page.items.entries()) {
          if (seenInScan.has(item.id)) {
            if (index >= reread) result.duplicatesSkipped++;
            continue;
          }
          seenInScan.add(item.id);
          seen++;
          const updated = changedAtMs(item);
          if (updated === null) continue;
          if (updated > maxUpdated) maxUpdated = updated;
          if (updated < scan.sinceMs) continue;
          changed++;
          if (item.orchState !== 'failed') continue;
          const occurrenceKey = failureOccurrenceKey(item, updated);
          if (!this.store.isProcessed(item.id, occurrenceKey)) failed.push({ resource: item, updatedMs: updated, occurrenceKey });
        }
        const processed = await this.handleFailures(failed, signal);
        this.store.advanceScan(
          type,
          { offset: page.nextOffset, maxUpdatedMs: maxUpdated, seen, changed, failures: failed.length, recorded: processed.filter(p => p.created).length },
          processed,
          this.now(),
        );
        result.resourcesSeen += seen;
        result.resourcesChanged += changed;
        result.failuresFound += failed.length;
        result.failuresRecorded += processed.filter(p => p.created).length;
      }
      this.store.completeScan(type, maxUpdated > 0 ? maxUpdated : cursor.watermarkMs);
      result.completed = true;
    } catch (err) {
      result.errorMessage = (err as Error).message;
      if (!signal.aborted) this.deps.logger.warn({ product: result.product, err: (err as Error).message }, 'MDSO scan stopped; it resumes from the last good page');
    }
    return result;
  }

  /** TraceLogs are fetched concurrently; recording stays sequential so the analysis sees page order. */
  private async handleFailures(
    failed: ReadonlyArray<{ resource: MdsoResource; updatedMs: number; occurrenceKey: string }>,
    signal: AbortSignal,
  ): Promise<Array<{ resourceId: string; occurrenceKey: string; updatedAtMs: number; errorId: string | null; created: boolean }>> {
    if (failed.length === 0) return [];
    const traces = await mapLimit(failed, this.deps.settings.traceConcurrency ?? 4, async f =>
      pickTraceLog(await this.deps.client.findTraceLogs(f.resource.id, f.resource.label, signal), f.updatedMs),
    );
    const out: Array<{ resourceId: string; occurrenceKey: string; updatedAtMs: number; errorId: string | null; created: boolean }> = [];
    for (let i = 0; i < failed.length; i++) {
      const { resource, updatedMs, occurrenceKey } = failed[i]!;
      const input = toFailureInput(resource, traces[i] ?? null);
      let recorded: RecordedFailure;
      try {
        recorded = this.deps.recorder.recordFailure(input);
      } catch (err) {
        // One unrecordable failure must not stall the product's cursor forever.
        this.deps.logger.error({ resourceId: resource.id, err: (err as Error).message }, 'recording an MDSO failure failed; skipped');
        this.lastError = { message: `recording failure of ${resource.id}: ${(err as Error).message}`, atMs: this.now() };
        continue;
      }
      try {
        const outcome = await this.deps.ingestTraces(buildFailureSpans(input, createdAtMs(resource)));
        if (outcome.rejected > 0) this.deps.logger.warn({ resourceId: resource.id, rejected: outcome.rejected, error: outcome.errorMessage }, 'MDSO spans rejected');
      } catch (err) {
        this.deps.logger.warn({ resourceId: resource.id, err: (err as Error).message }, 'MDSO spans not ingested');
      }
      out.push({ resourceId: resource.id, occurrenceKey, updatedAtMs: updatedMs, errorId: recorded.errorId, created: recorded.created });
    }
    return out;
  }
}

function sum<T>(items: readonly T[], f: (t: T) => number): number {
  return items.reduce((a, t) => a + f(t), 0);
}
