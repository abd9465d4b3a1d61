// A warning that may repeat many times a second (every refused export, every bridge dropped from a
// full queue) is logged at once, then at most once an interval, with how many happened since.

export class LogGate {
  private lastMs = -Infinity;
  private held = 0;

  constructor(private readonly intervalMs: number) {}

  /**
   * Counts `n` occurrences at `nowMs`. When a line is due, returns how many occurred before these
   * since the last line, and starts a new interval; otherwise null (they are held for the next).
   */
  pass(nowMs: number, n = 1): number | null {
    if (nowMs - this.lastMs < this.intervalMs) {
      this.held += n;
      return null;
    }
    const before = this.held;
    this.lastMs = nowMs;
    this.held = 0;
    return before;
  }

  /** The condition ended: the next occurrence is logged at once. */
  reset(): void {
    this.lastMs = -Infinity;
    this.held = 0;
  }
}
