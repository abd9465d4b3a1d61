// Webhook notifications for new and regressed issues. Recording never waits on it: events go to a
// bounded queue; at most one message leaves per minInterval, carrying every event queued since the last
// one, so a burst of new issues becomes one digest rather than a flood or a backlog.
import type { FastifyBaseLogger } from 'fastify';
import { slackMessage, webexMessage, type IssueTransitionEvent } from './format.js';

export interface WebhookOptions {
  url: string;
  format: 'slack' | 'webex';
  minIntervalSeconds: number;
  logger: FastifyBaseLogger;
  now: () => number;
  fetchImpl: typeof fetch;
  queueMax?: number;
  timeoutMs?: number;
  /** called with each outcome, e.g. to feed a metric */
  onOutcome?: (outcome: 'queued' | 'sent' | 'failed' | 'dropped', events: number) => void;
}

export interface WebhookStats {
  queued: number;
  sent: number;
  failed: number;
  dropped: number;
  duplicates: number;
}

const SEEN_KEYS_MAX = 10_000;

/** Webhook URLs carry their secret in the path or query: only the origin may be logged. */
export function redactUrl(url: string): string {
  try {
    return `${new URL(url).origin}/…`;
  } catch {
    return '<invalid url>';
  }
}

export class WebhookNotifier {
  private readonly queue: IssueTransitionEvent[] = [];
  private readonly seen = new Set<string>();
  private lastSentMs = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | null = null;
  private inflight: Promise<void> | null = null;
  private closed = false;
  readonly stats: WebhookStats = { queued: 0, sent: 0, failed: 0, dropped: 0, duplicates: 0 };

  constructor(private readonly opts: WebhookOptions) {}

  /** Never throws and never waits: the caller is the recording path. */
  notify(event: IssueTransitionEvent): void {
    if (this.closed) return;
    if (this.seen.has(event.key)) {
      this.stats.duplicates++;
      return;
    }
    this.remember(event.key);
    if (this.queue.length >= (this.opts.queueMax ?? 1000)) {
      this.stats.dropped++;
      this.opts.onOutcome?.('dropped', 1);
      this.opts.logger.warn({ issueId: event.issueId }, 'MDSO webhook queue full, notification dropped');
      return;
    }
    this.queue.push(event);
    this.stats.queued++;
    this.opts.onOutcome?.('queued', 1);
    this.schedule();
  }

  /** Sends what is due now; tests call it after moving the injected clock. */
  flushDue(): Promise<void> {
    if (this.inflight) return this.inflight;
    if (this.queue.length === 0) return Promise.resolve();
    const wait = this.lastSentMs + this.opts.minIntervalSeconds * 1000 - this.opts.now();
    if (wait > 0) {
      this.schedule();
      return Promise.resolve();
    }
    const batch = this.queue.splice(0, this.queue.length);
    this.lastSentMs = this.opts.now();
    this.inflight = this.send(batch).finally(() => {
      this.inflight = null;
      if (this.queue.length > 0) this.schedule();
    });
    return this.inflight;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.inflight) await this.inflight;
  }

  private schedule(): void {
    if (this.timer || this.closed) return;
    const wait = Math.max(0, this.lastSentMs + this.opts.minIntervalSeconds * 1000 - this.opts.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flushDue();
    }, Math.min(wait, 2 ** 31 - 1));
    this.timer.unref();
  }

  private remember(key: string): void {
    this.seen.add(key);
    if (this.seen.size > SEEN_KEYS_MAX) {
      const oldest = this.seen.values().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
  }

  private async send(batch: IssueTransitionEvent[]): Promise<void> {
    const payload = this.opts.format === 'webex' ? webexMessage(batch) : slackMessage(batch);
    try {
      const res = await this.opts.fetchImpl(this.opts.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(payload),
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 10_000),
      });
      // Drain the body so the connection is released.
      await res.arrayBuffer().catch(() => undefined);
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      this.stats.sent += batch.length;
      this.opts.onOutcome?.('sent', batch.length);
    } catch (e) {
      this.stats.failed += batch.length;
      this.opts.onOutcome?.('failed', batch.length);
      this.opts.logger.warn(
        { webhook: redactUrl(this.opts.url), events: batch.length, err: (e as Error).message },
        'MDSO webhook notification failed',
      );
    }
  }
}
