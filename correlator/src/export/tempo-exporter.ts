// Delivers bridge spans to Tempo (or any OTLP/HTTP endpoint). The queue lives in the store, so a
// restart or an endpoint outage loses nothing; it is bounded, and drops are counted.
import type { FastifyBaseLogger } from 'fastify';
import type { CoreMetrics } from '../metrics/core-metrics.js';
import type { Store } from '../store/store.js';
import { buildTraceExport } from './otlp-request-builder.js';

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

export function backoffMs(attempts: number, retryAfterHeader: string | null, nowMs: number): number {
  const exp = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.min(attempts, 16));
  const jittered = exp / 2 + Math.random() * (exp / 2);
  if (retryAfterHeader) {
    const secs = Number(retryAfterHeader);
    if (Number.isFinite(secs)) return Math.max(jittered, secs * 1000);
    const at = Date.parse(retryAfterHeader);
    if (!Number.isNaN(at)) return Math.max(jittered, at - nowMs);
  }
  return jittered;
}

export class TempoExporter {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private readonly url: string;

  constructor(private readonly opts: TempoExporterOptions) {
    this.url = /\/v1\/traces$/.test(opts.endpoint) ? opts.endpoint : `${opts.endpoint}/v1/traces`;
  }

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.opts.intervalMs ?? 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
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

  private async deliver(): Promise<void> {
    const { store, metrics, logger } = this.opts;
    const now = Date.now();
    const due = store.dueExports(now, this.opts.batchSize);
    if (due.length === 0) return;
    const gone = due.filter(d => d.span === null).map(d => d.ref);
    if (gone.length) store.completeExports(gone);
    const items = due.filter(d => d.span !== null);
    if (items.length === 0) return;
    const refs = items.map(i => i.ref);
    const body = buildTraceExport(items.map(i => i.span!));
    const attempts = Math.max(...items.map(i => i.attempts));
    let res: Response;
    try {
      res = await (this.opts.fetchImpl ?? fetch)(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf', ...this.opts.headers },
        body,
        signal: AbortSignal.timeout(this.opts.requestTimeoutMs ?? 10_000),
      });
    } catch (e) {
      metrics.exportFailures.inc({ reason: 'network' });
      store.retryExports(refs, (e as Error).message, now + backoffMs(attempts, null, now));
      logger.warn({ err: (e as Error).message, spans: refs.length }, 'bridge export failed; will retry');
      return;
    }
    await res.arrayBuffer().catch(() => undefined);
    if (res.ok) {
      store.completeExports(refs);
      metrics.exportSent.inc(refs.length);
    } else if (RETRYABLE.has(res.status)) {
      metrics.exportFailures.inc({ reason: 'retryable' });
      store.retryExports(refs, `HTTP ${res.status}`, now + backoffMs(attempts, res.headers.get('retry-after'), now));
    } else {
      // OTLP: any other status is permanent; retrying the same payload cannot succeed.
      metrics.exportFailures.inc({ reason: 'permanent' });
      metrics.exportDropped.inc(refs.length);
      store.completeExports(refs);
      logger.error({ status: res.status, spans: refs.length }, 'bridge export refused permanently; spans dropped');
    }
    metrics.exportQueueDepth.set(store.exportQueueDepth());
  }
}
