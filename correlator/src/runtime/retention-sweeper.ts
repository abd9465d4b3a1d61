// Runs retention: once the app listens and then on a timer, a slice at a time, yielding to requests
// between slices, each sized to hold the event loop about 50 ms (slice-pace.ts). The start-up sweep
// is not awaited before the app is ready: with 150k traces to delete it outlasted fastify's onReady
// timeout, start-up failed with nothing deleted, and so did every restart. Each slice commits with
// its recounts (retention.ts), so answers stay consistent while a sweep is part-way, and one stopped
// by a crash is carried on by the next.
import type { FastifyBaseLogger } from 'fastify';
import type { ThinnedEpisode, TouchedState } from '../correlation/engine.js';
import type { Store } from '../store/store.js';
import type { SweepPacing } from '../store/slice-pace.js';

const DAY_MS = 86_400_000;
const MAX_INTERVAL_MS = 60 * 60_000;
const MIN_INTERVAL_MS = 5_000;
/**
 * Thinned episodes planned again per turn of the event loop: each reads all its members, and a
 * slice of a large backlog can thin many circuits.
 */
export const REPLAN_PER_TURN = 16;

/**
 * A tenth of the retention, between 5 s and an hour: data outlives the retention by at most that
 * (and a sweep's run). Hourly whatever the retention, a retention of 86 s kept data queryable for
 * up to an hour.
 */
export function sweepIntervalMs(retentionDays: number): number {
  return Math.min(MAX_INTERVAL_MS, Math.max(MIN_INTERVAL_MS, (retentionDays * DAY_MS) / 10));
}

export interface RetentionSweeperOptions {
  store: Pick<Store, 'pruneStepwise' | 'replansPending' | 'replansDone'>;
  retentionDays: number;
  now: () => number;
  /** Hot state must not bring deleted traces back into correlations it writes again. */
  forget: (touched: TouchedState) => void;
  /**
   * Plans the bridges of episodes a slice thinned again (TouchedState.thinned), after forget: their
   * traces into and out of deleted ones lost them, and the data left bridges them afresh.
   */
  replan?: (episodes: ThinnedEpisode[]) => Promise<boolean>;
  log: FastifyBaseLogger;
  /** Between slices (the next turn of the event loop unless given: tests hold a sweep part-way with it). */
  betweenSlices?: () => Promise<void>;
  /** How slices are sized (slice-pace.ts; tests give a clock of their own). */
  pacing?: Partial<SweepPacing>;
}

export class RetentionSweeper {
  private running: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private closing = false;
  readonly intervalMs: number;

  constructor(private readonly opts: RetentionSweeperOptions) {
    this.intervalMs = sweepIntervalMs(opts.retentionDays);
  }

  /** A sweep now, in the background, and one per interval after it (once, however often called). */
  start(): void {
    if (this.timer || this.closing) return;
    void this.sweep();
    this.timer = setInterval(() => void this.sweep(), this.intervalMs);
    this.timer.unref();
  }

  /**
   * A sweep now if sweeps have started: the store takes writes again after a full disk, which
   * failed the sweeps meanwhile (a delete needs room in the WAL too), and the next is up to an hour off.
   */
  sweepIfStarted(): void {
    if (this.timer && !this.closing) void this.sweep();
  }

  /** Starts a sweep unless one runs; settles when the running one ends (it never rejects). */
  sweep(): Promise<void> {
    this.running ??= this.run().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /** Settles when no sweep runs. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** No more sweeps; one running stops at its next slice, before the store closes under it. */
  stop(): void {
    this.closing = true;
    if (this.timer) clearInterval(this.timer);
  }

  private async run(): Promise<void> {
    const pause = this.opts.betweenSlices ?? (() => new Promise<void>(resolve => setImmediate(resolve)));
    try {
      await pause();
      // Those a sweep killed part-way (kill -9) had not planned yet: theirs first.
      const left = this.opts.replan ? this.opts.store.replansPending() : [];
      if (left.length > 0 && (await this.replan(left, pause))) this.opts.store.replansDone();
      const steps = this.opts.store.pruneStepwise(this.opts.now() - this.opts.retentionDays * DAY_MS, this.opts.pacing);
      for (;;) {
        if (this.closing) return;
        const step = steps.next();
        if (step.done) {
          const r = step.value;
          if (r.spans + r.logs + r.traces > 0) this.opts.log.info({ pruned: r }, 'retention sweep');
          return;
        }
        this.opts.forget(step.value);
        const thinned = step.value.thinned ?? [];
        if (thinned.length > 0 && (await this.replan(thinned, pause))) this.opts.store.replansDone();
        await pause();
      }
    } catch (e) {
      this.opts.log.error({ err: e }, 'retention sweep failed');
    }
  }

  /**
   * A slice's thinned episodes, REPLAN_PER_TURN a turn, each turn's writes stored before the next
   * (a sweep ends with its bridges planned). One that fails is left for the episode's next batch.
   * False when stopped before all were tried, or when the store refused the writes (a full disk):
   * the store keeps them for the next sweep.
   */
  private async replan(thinned: readonly ThinnedEpisode[], pause: () => Promise<void>): Promise<boolean> {
    const replan = this.opts.replan;
    if (!replan) return false;
    let all = true;
    for (let i = 0; i < thinned.length; i += REPLAN_PER_TURN) {
      if (this.closing) return false;
      if (i > 0) await pause();
      try {
        if (!(await replan(thinned.slice(i, i + REPLAN_PER_TURN)))) all = false;
      } catch (e) {
        this.opts.log.warn(
          { err: e },
          'bridges of circuits retention thinned were not planned again; the next data for them plans them',
        );
      }
    }
    return all;
  }
}
