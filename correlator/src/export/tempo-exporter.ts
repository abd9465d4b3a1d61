// Delivers bridge spans to Tempo (or any OTLP/HTTP endpoint). The queue lives in the store, so a
// restart or an endpoint outage loses nothing; it is bounded, and drops are counted.
import type { FastifyBaseLogger } from 'fastify';
import type { CoreMetrics } from '../metrics/core-metrics.js';
import type { ExportItem, Store } from '../store/store.js';
import { otlpTypes } from '../otlp/schema.js';
import { LogGate } from '../runtime/log-gate.js';
import { attemptSignal } from './attempt-signal.js';
import { buildTraceExport } from './otlp-request-builder.js';
import { SentCopies, bytesDigest } from './sent-copies.js';

export interface TempoExporterOptions {
  endpoint: string;
  headers: Readonly<Record<string, string>>;
  batchSize: number;
  store: Store;
  metrics: CoreMetrics;
  logger: FastifyBaseLogger;
  fetchImpl?: typeof fetch;
  intervalMs?: number;
  requestTimeoutMs?: number;
}

const RETRYABLE = new Set([429, 502, 503, 504]);
const MAX_BACKOFF_MS = 5 * 60_000;
/**
 * One batch per tick capped export at batchSize spans a second, below the bridge rate of a busy
 * ingest (~8k/s at 100k spans/s), so the bounded queue filled and dropped. 20 × 512 is above that
 * rate while still bounding how long one round can run.
 */
const MAX_BATCHES_PER_TICK = 20;
/**
 * While the endpoint keeps refusing with 429/5xx, a warning at most this often: the first refusal
 * of an outage is logged at once, the rest are counted into the next warning.
 */
const REFUSAL_LOG_INTERVAL_MS = 5 * 60_000;
/** Of a permanent refusal's answer (Tempo names the reason there, e.g. an unknown tenant). */
const RESPONSE_EXCERPT_BYTES = 512;
/** Hops whose last sent bytes are kept: about ten rounds at the most a round sends. */
const SENT_COPIES_KEPT = 100_000;

/**
 * The wait before the next attempt: exponential with jitter, or longer if the endpoint asked, but
 * never past MAX_BACKOFF_MS. A Retry-After of a year, once, stopped export for a year, across
 * restarts too (the queue keeps the due time).
 */
export function backoffMs(attempts: number, retryAfterHeader: string | null, nowMs: number): number {
  const exp = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.min(attempts, 16));
  const jittered = exp / 2 + Math.random() * (exp / 2);
  if (retryAfterHeader) {
    const secs = Number(retryAfterHeader);
    if (Number.isFinite(secs)) return Math.min(MAX_BACKOFF_MS, Math.max(jittered, secs * 1000));
    const at = Date.parse(retryAfterHeader);
    if (!Number.isNaN(at)) return Math.min(MAX_BACKOFF_MS, Math.max(jittered, at - nowMs));
  }
  return jittered;
}

/** The OTLP/HTTP traces URL of a base endpoint: `/v1/traces` appended to its path, its query kept. */
export function tracesUrl(endpoint: string): string {
  const u = new URL(endpoint);
  u.hash = '';
  if (!/\/v1\/traces$/.test(u.pathname)) u.pathname = `${u.pathname.replace(/\/+$/, '')}/v1/traces`;
  return u.toString();
}

/** Spans a 2xx answer says it refused (OTLP partial_success), and its message. */
export function rejectedSpans(body: Uint8Array, contentType: string | null): { rejected: number; message: string } {
  if (body.length === 0) return { rejected: 0, message: '' };
  try {
    let partial: { rejectedSpans?: unknown; errorMessage?: unknown } | undefined;
    if (contentType?.includes('json')) {
      const parsed = JSON.parse(new TextDecoder().decode(body)) as { partialSuccess?: typeof partial; partial_success?: typeof partial };
      partial = parsed.partialSuccess ?? parsed.partial_success;
    } else {
      const t = otlpTypes().ExportTraceServiceResponse;
      partial = (t.toObject(t.decode(body), { longs: Number }) as { partialSuccess?: typeof partial }).partialSuccess;
    }
    const rejected = Number(partial?.rejectedSpans ?? 0);
    return { rejected: Number.isSafeInteger(rejected) && rejected > 0 ? rejected : 0, message: typeof partial?.errorMessage === 'string' ? partial.errorMessage : '' };
  } catch {
    // The spans were accepted (2xx); an answer we cannot read says nothing more.
    return { rejected: 0, message: '' };
  }
}

/** A fetch failure's message with its cause's: "fetch failed" alone named no reason. */
function failureText(e: unknown): string {
  const err = e as Error & { cause?: { message?: string; code?: string } };
  const cause = err.cause?.code ?? err.cause?.message;
  return cause ? `${err.message}: ${cause}` : err.message;
}

type BatchOutcome = 'sent' | 'failed';

export class TempoExporter {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopping = false;
  /**
   * A retryable refusal (429/503 with its Retry-After) or a network error is about the endpoint,
   * not the batch: delaying only the refused spans let the next tick send others to an endpoint
   * that asked us to wait. Nothing is sent before this time.
   */
  private pausedUntilMs = 0;
  /**
   * Refusals since the last success. Batches that never failed have attempts 0, so without this
   * the pause would not grow during an outage that outlasts one batch.
   */
  private refusalsInARow = 0;
  /** When the first failure since the last success happened, for the recovery message. */
  private failingSinceMs: number | null = null;
  private readonly refusalLog = new LogGate(REFUSAL_LOG_INTERVAL_MS);
  private readonly url: string;
  /** Aborts the request in flight on stop: a hanging endpoint held shutdown for its whole timeout. */
  private abort = new AbortController();
  private readonly sent = new SentCopies(SENT_COPIES_KEPT);

  constructor(private readonly opts: TempoExporterOptions) {
    this.url = tracesUrl(opts.endpoint);
  }

  start(): void {
    this.stopping = false;
    this.abort = new AbortController();
    this.timer = setInterval(() => void this.tick(), this.opts.intervalMs ?? 1000);
    this.timer.unref();
  }

  /** Waits for the round in progress, which ends after the request in flight. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.stopping = true;
    // The batch in flight stays queued: it is sent again after the restart.
    this.abort.abort();
    await this.running;
  }

  /**
   * One delivery round; concurrent calls share the round in progress. A round that fails on the
   * store (busy, disk full) is logged and the next one tries again: the rejection reached no
   * handler from the timer and ended the process.
   */
  tick(): Promise<void> {
    this.running ??= this.deliver()
      .catch((e: unknown) => {
        this.opts.metrics.exportFailures.inc({ reason: 'store' });
        this.opts.logger.error({ err: e }, 'bridge export round failed on the store; will retry');
      })
      .finally(() => (this.running = null));
    return this.running;
  }

  /** One request at a time, so that a refusal stops the round before another batch goes out. */
  private async deliver(): Promise<void> {
    const { store, metrics, batchSize } = this.opts;
    try {
      for (let n = 0; n < MAX_BATCHES_PER_TICK && !this.stopping; n++) {
        const now = Date.now();
        if (now < this.pausedUntilMs) return;
        const due = store.dueExports(now, batchSize);
        if (due.length === 0) return;
        const outcome = await this.deliverBatch(due, now);
        if (outcome === 'failed' || due.length < batchSize) return;
      }
    } finally {
      metrics.exportQueueDepth.set(store.exportQueueDepth());
    }
  }

  private async deliverBatch(due: readonly ExportItem[], now: number): Promise<BatchOutcome> {
    const { store, metrics, logger } = this.opts;
    // A hop whose rows are gone, or whose bytes are those last sent, has nothing to deliver.
    const gone = due.filter(d => d.span === null);
    const digests = new Map(due.flatMap(d => (d.span ? [[d, bytesDigest(d.span.body)] as const] : [])));
    const unchanged = new Set([...digests].filter(([d, digest]) => this.sent.isLastSent(d.ref, digest)).map(([d]) => d));
    if (gone.length + unchanged.size > 0) store.completeExports([...gone, ...unchanged]);
    metrics.exportUnchanged.inc(unchanged.size);
    const items = [...digests.keys()].filter(d => !unchanged.has(d));
    if (items.length === 0) return 'sent';
    const refs = items.map(i => i.ref);
    const body = buildTraceExport(items.map(i => i.span!));
    const attempts = Math.max(this.refusalsInARow, ...items.map(i => i.attempts));
    let res: Response;
    let answer: ArrayBuffer;
    // The timeout covers the answer's body too: an endpoint that sends its headers and stalls.
    const attempt = attemptSignal(this.opts.requestTimeoutMs ?? 10_000, this.abort.signal);
    try {
      res = await (this.opts.fetchImpl ?? fetch)(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf', ...this.opts.headers },
        body,
        signal: attempt.signal,
      });
      answer = await res.arrayBuffer().catch(() => new ArrayBuffer(0));
    } catch (e) {
      if (this.stopping) {
        // Not the endpoint's failure: the batch is due again as soon as the next process starts.
        this.opts.store.retryExports(refs, 'stopped while sending', now);
        return 'failed';
      }
      const text = failureText(e);
      metrics.exportFailures.inc({ reason: 'network' });
      this.pause(refs, text, now, now + backoffMs(attempts, null, now));
      logger.warn({ err: text, spans: refs.length }, 'bridge export failed; will retry');
      return 'failed';
    } finally {
      attempt.clear();
    }
    if (res.ok) {
      store.completeExports(items);
      for (const i of items) this.sent.record(i.ref, digests.get(i)!);
      // Spans it refused in a 2xx are not retried (OTLP: the same payload cannot succeed), but
      // they are no delivery either.
      const { rejected, message } = rejectedSpans(new Uint8Array(answer), res.headers.get('content-type'));
      const refused = Math.min(rejected, refs.length);
      metrics.exportSent.inc(refs.length - refused);
      if (refused > 0) {
        metrics.exportRejected.inc(refused);
        logger.warn({ rejected: refused, spans: refs.length, message }, 'bridge export partly refused by the endpoint; those spans are dropped');
      }
      if (this.failingSinceMs !== null) {
        logger.info(
          { failedAttempts: this.refusalsInARow, failingForSeconds: Math.round((now - this.failingSinceMs) / 1000) },
          'bridge export delivering again',
        );
      }
      this.pausedUntilMs = 0;
      this.refusalsInARow = 0;
      this.failingSinceMs = null;
      this.refusalLog.reset();
      return 'sent';
    }
    if (RETRYABLE.has(res.status)) {
      metrics.exportFailures.inc({ reason: 'retryable' });
      const retryAfter = res.headers.get('retry-after');
      const untilMs = now + backoffMs(attempts, retryAfter, now);
      this.pause(refs, `HTTP ${res.status}`, now, untilMs);
      const refusalsNotLogged = this.refusalLog.pass(now);
      if (refusalsNotLogged !== null) {
        logger.warn(
          {
            status: res.status,
            retryAfter,
            spans: refs.length,
            retryInSeconds: Math.round((untilMs - now) / 1000),
            failingSince: new Date(this.failingSinceMs!).toISOString(),
            refusalsNotLogged,
          },
          'bridge export refused by the endpoint for now; will retry',
        );
      }
      return 'failed';
    }
    // OTLP: any other status is permanent; retrying the same payload cannot succeed.
    metrics.exportFailures.inc({ reason: 'permanent' });
    metrics.exportDropped.inc({ reason: 'refused' }, refs.length);
    store.completeExports(items);
    logger.error(
      {
        status: res.status,
        spans: refs.length,
        response: new TextDecoder().decode(new Uint8Array(answer, 0, Math.min(answer.byteLength, RESPONSE_EXCERPT_BYTES))),
        responseBytes: answer.byteLength,
      },
      'bridge export refused permanently; spans dropped',
    );
    return 'failed';
  }

  private pause(refs: readonly string[], error: string, now: number, untilMs: number): void {
    // Before the store write: the endpoint asked us to wait even if recording the retry fails.
    this.pausedUntilMs = untilMs;
    this.refusalsInARow++;
    this.failingSinceMs ??= now;
    this.opts.store.retryExports(refs, error, untilMs);
  }
}
