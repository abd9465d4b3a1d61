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

/** Reorders order[from, to) (spans of one start time) so that a parent among them precedes its children. */
function parentsFirst(order: number[], from: number, to: number, f: TimelineFields): void {
  const key = (trace: string, span: string) => `${trace}/${span}`;
  const waiting = new Set<string>();
  for (let k = from; k < to; k++) waiting.add(key(f.traceId(order[k]!), f.spanId(order[k]!)));
  let rest = order.slice(from, to);
  let at = from;
  while (rest.length > 0) {
    const later: number[] = [];
    for (const i of rest) {
      const parent = f.parentSpanId(i);
      if (parent !== '' && waiting.has(key(f.traceId(i), parent))) later.push(i);
      else {
        order[at++] = i;
        waiting.delete(key(f.traceId(i), f.spanId(i)));
      }
    }
    // Ids that make a cycle: the rest keeps its order.
    if (later.length === rest.length) {
      for (const i of later) order[at++] = i;
      return;
    }
    rest = later;
  }
}
