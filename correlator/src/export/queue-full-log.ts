// Bridges dropped because the export queue is full were only counted: an operator reading the log
// of a Tempo outage saw "bridge export failed; will retry" and nothing saying that spans were
// being lost. One line says so at once, then at most one a minute with the count since.

/** What the log needs of a logger. */
export interface WarnLogger {
  warn(obj: Record<string, unknown>, msg: string): void;
}

export const QUEUE_FULL_LOG_INTERVAL_MS = 60_000;

export class QueueFullLog {
  private lastLoggedMs = -Infinity;
  private notLogged = 0;

  constructor(
    private readonly logger: WarnLogger,
    private readonly queueMax: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** `n` bridges were dropped, the oldest first, to keep the queue at its bound. */
  dropped(n: number): void {
    if (n <= 0) return;
    this.notLogged += n;
    const at = this.now();
    if (at - this.lastLoggedMs < QUEUE_FULL_LOG_INTERVAL_MS) return;
    this.logger.warn(
      { dropped: this.notLogged, exportQueueMax: this.queueMax },
      'bridge export queue full (EXPORT_QUEUE_MAX): the oldest bridges were dropped and will not reach Tempo',
    );
    this.lastLoggedMs = at;
    this.notLogged = 0;
  }
}
