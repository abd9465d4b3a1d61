// A span whose trace and span ids an earlier span of the same request has is not stored (the
// store keeps one span of an id), and was dropped with a bare 200: a sender that gave two spans
// one id, or sent a span twice, never learned why it is missing. Across requests a repeat is a
// retry or replay, answered as stored; within one it is the sender's doing, and said.

/** How many spans repeat the ids of an earlier span of the list. */
export function repeatedSpanCount(spans: readonly { traceId: string; spanId: string }[]): number {
  if (spans.length < 2) return 0;
  const seen = new Set<string>();
  let repeats = 0;
  for (const s of spans) {
    const id = s.traceId + s.spanId;
    if (seen.has(id)) repeats++;
    else seen.add(id);
  }
  return repeats;
}

/** The warning for `n` repeats, for OTLP's partial_success. */
export function repeatedSpansWarning(n: number): string {
  return `${n} span(s) repeat the trace and span id of an earlier span of this request: only the first of each id is stored`;
}

/**
 * The warning for `n` spans whose ids a stored span has but whose parent, times, kind or status
 * differ from it: a retry repeats a span, these are other spans under ids already taken.
 */
export function conflictingSpansWarning(n: number): string {
  return `${n} span(s) have the trace and span id of a stored span but another parent, time, kind or status: the stored span is kept, these are not stored`;
}
