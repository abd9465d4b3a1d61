// The one bisection over planning order (entry start, then trace id) that PlanOrder keeps its
// members in.

/** Where (startMs, traceId) is, or goes, in parallel lists of starts and ids in planning order. */
export function planningPosition(starts: readonly number[], ids: readonly string[], startMs: number, traceId: string): number {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const s = starts[mid]!;
    if (s < startMs || (s === startMs && ids[mid]! < traceId)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
