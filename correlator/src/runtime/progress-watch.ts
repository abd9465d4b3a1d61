// A wait on something that should keep moving (an upload's bytes): it ends when the count has not
// grown for `idleMs`, or when `maxMs` have passed in all. Each look is made after the event loop's
// poll phase: a timer due after a long stall runs before the sockets are read, and took a client
// the busy process had not read for a quiet one (refusals reached clients as resets, uploads as
// 408s). Shared by the unread rest of a refused upload (api/unread-body.ts) and the upload
// timeouts (api/overload.ts), which had each written it.

export interface ProgressWatch {
  /** Quiet this long ends the wait (0: never). */
  idleMs: number;
  /** This long in all ends it (0: never). */
  maxMs: number;
  /** A count that grows while progress is made. */
  progress: () => number;
  /** Called once, when the count did not grow for idleMs. */
  onQuiet: () => void;
  /** Called once, when maxMs have passed. */
  onOverdue: () => void;
  /** Whether the watch has ended by itself (looks stop). */
  done?: () => boolean;
}

/** Starts the watch; the function returned stops it. */
export function watchProgress(w: ProgressWatch): () => void {
  if (w.idleMs <= 0 && w.maxMs <= 0) return () => {};
  const startedMs = Date.now();
  let progressMs = startedMs;
  let seen = w.progress();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    const now = Date.now();
    const untilMax = w.maxMs > 0 ? startedMs + w.maxMs - now : Infinity;
    const untilQuiet = w.idleMs > 0 ? progressMs + w.idleMs - now : Infinity;
    timer = setTimeout(() => setImmediate(look), Math.max(1, Math.min(untilMax, untilQuiet)));
    timer.unref();
  };
  const look = (): void => {
    if (stopped || w.done?.()) return;
    const now = Date.now();
    const current = w.progress();
    if (w.maxMs > 0 && now - startedMs >= w.maxMs) return end(w.onOverdue);
    if (current === seen && w.idleMs > 0 && now - progressMs >= w.idleMs) return end(w.onQuiet);
    if (current !== seen) {
      seen = current;
      progressMs = now;
    }
    arm();
  };
  const end = (f: () => void): void => {
    stopped = true;
    f();
  };
  arm();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
