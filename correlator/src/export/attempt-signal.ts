// The signal of one export attempt: aborted by its timeout or by the exporter stopping.
// AbortSignal.any([AbortSignal.timeout(ms), stop]) is not used: on Node 20 the combined signal holds
// its sources weakly, so a full GC during the attempt collected the timeout, which then never fired.
// A request Tempo never answered hung the export for good, silently, until a restart. Here the
// timer holds the controller until it fires or is cleared.

export interface AttemptSignal {
  readonly signal: AbortSignal;
  /** Ends the timer; call when the attempt is over, however it ended. */
  clear(): void;
}

export function attemptSignal(timeoutMs: number, stop: AbortSignal): AttemptSignal {
  const controller = new AbortController();
  const onStop = () => controller.abort(stop.reason);
  const timer = setTimeout(() => controller.abort(new DOMException(`no answer within ${timeoutMs} ms`, 'TimeoutError')), timeoutMs);
  if (stop.aborted) onStop();
  else stop.addEventListener('abort', onStop, { once: true });
  return {
    signal: controller.signal,
    clear: () => {
      clearTimeout(timer);
      stop.removeEventListener('abort', onStop);
    },
  };
}
