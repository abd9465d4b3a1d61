// The one timeline of a view: by start time, roots first at equal times, then by span id; then,
// among spans that start at the same time, every span after its parent. Without that last step a
// child that starts with its parent (a step and its first sub-step, a bridge span and the call it
// hangs from) came first whenever its id sorted lower.

/** What ordering needs of span i. */
export interface TimelineFields {
  startMs(i: number): number;
  root(i: number): boolean;
  traceId(i: number): string;
  spanId(i: number): string;
  parentSpanId(i: number): string;
}

/** The indices 0..n-1 in timeline order. */
export function timelineOrder(n: number, f: TimelineFields): number[] {
  const compare = (a: number, b: number): number => {
    const sa = f.spanId(a);
    const sb = f.spanId(b);
    return (
      f.startMs(a) - f.startMs(b) ||
      (f.root(a) ? -1 : 0) - (f.root(b) ? -1 : 0) ||
      (sa < sb ? -1 : sa > sb ? 1 : 0)
    );
  };
  const order = Array.from({ length: n }, (_, i) => i);
  let sorted = true;
  for (let i = 1; i < n && sorted; i++) sorted = compare(i - 1, i) <= 0;
  if (!sorted) order.sort(compare);
  for (let from = 0; from < n;) {
    let to = from + 1;
    while (to < n && f.startMs(order[to]!) === f.startMs(order[from]!)) to++;
    if (to - from > 1) parentsFirst(order, from, to, f);
    from = to;
  }
  return order;
}

/**
 * Reorders order[from, to) (spans of one start time) so that a parent among them precedes its
 * children. Groups are a few spans, so parents are found by scanning them: no keys to build.
 */
function parentsFirst(order: number[], from: number, to: number, f: TimelineFields): void {
  const group = order.slice(from, to);
  const placed = new Array<boolean>(group.length).fill(false);
  // A span waits while its parent is in the group and not yet placed.
  const waits = (k: number): boolean => {
    const parent = f.parentSpanId(group[k]!);
    if (parent === '') return false;
    const trace = f.traceId(group[k]!);
    for (let m = 0; m < group.length; m++)
      if (!placed[m] && m !== k && f.spanId(group[m]!) === parent && f.traceId(group[m]!) === trace)
        return true;
    return false;
  };
  let at = from;
  while (at < to) {
    let progressed = false;
    for (let k = 0; k < group.length; k++) {
      if (placed[k] || waits(k)) continue;
      order[at++] = group[k]!;
      placed[k] = true;
      progressed = true;
    }
    // Ids that make a cycle: the rest keeps its order.
    if (!progressed)
      for (let k = 0; k < group.length; k++)
        if (!placed[k]) {
          order[at++] = group[k]!;
          placed[k] = true;
        }
  }
}

/** The ids a span is ordered by; its start comes from the caller (the two span shapes name it apart). */
interface TimelineSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
}

/** timelineOrder of span objects, a root being a span without a parent. */
export function timelineOrderOf<S extends TimelineSpan>(
  spans: readonly S[],
  startMs: (s: S) => number,
): number[] {
  return timelineOrder(spans.length, {
    startMs: i => startMs(spans[i]!),
    root: i => spans[i]!.parentSpanId === '',
    traceId: i => spans[i]!.traceId,
    spanId: i => spans[i]!.spanId,
    parentSpanId: i => spans[i]!.parentSpanId,
  });
}
