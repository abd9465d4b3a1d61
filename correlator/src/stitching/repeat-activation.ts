// A repeat of an activation is a new activation, not a callee of the run before it. A review (RV9)
// ran the demo twice 10 s apart: the second run's beorn trace hung, by the unnamed guess (the nearest
// earlier trace of another service still within the window), from the first run's arda trace, a
// bridge arda → beorn that never happened; a failed circuit's retry chained under the failed run.
//
// The evidence used: the child's entry is the same operation (service and span name) as an earlier
// trace within the window that started work (made an outgoing call) and was itself hung from
// nothing. The child then starts what that trace started, and gets no unnamed bridge. A named call
// is evidence and is not asked (naming-index.ts).
//
// Why each part:
// - the same operation, not the same service (helper F10's rule, reverted): an arda lookup from the
//   UI, or a palantir call reaching arda by IP, before an activation made arda "lead" the circuit,
//   and the activation's own beorn → arda bridge was lost (a review, RV10);
// - hung from nothing: arda's trace in the first run was hung from beorn's (it is a callee), so the
//   second run's arda trace, the same operation, still hangs from the second run's beorn;
// - started work: an earlier arda lookup that called nothing (a UI's test call) is no activation, and
//   the activation's arda trace after it is still a callee.
// Whether the earlier trace was hung from nothing is the plan's own answer for it, so a chain of
// retries, each within the window of the one before, is a chain of new activations. Any guess the
// child would get is one the earlier trace had too (a trace of another service still running then)
// or came after it, so the earlier trace's answer stands for the child's.
import { isCallKind } from '../otlp/call-destination.js';
import type { TraceState } from '../correlation/types.js';

/**
 * A trace's entry operation as one small integer: its span name's hash (28 bits), times two, plus
 * one when the trace started work. PlanOrder keeps it per member with two bits more (8 B, not the
 * name); planBridges computes the same, so both planners decide alike. The entry's service is
 * compared apart.
 */
export function operationCode(t: TraceState): number {
  const name = t.entry?.name ?? '';
  // FNV-1a over UTF-16 code units, folded to 28 bits: with PlanOrder's bits, a small integer V8 keeps unboxed.
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 4) * 2 + (startsWork(t) ? 1 : 0);
}

/** Whether the trace made an outgoing call (client or producer): an activation calls on. */
export function startsWork(t: TraceState): boolean {
  const c = t.candidates;
  for (let i = 0; i < c.length; i++) if (isCallKind(c.kind(i))) return true;
  return false;
}

/** What repeatOfActivation reads of a planning order, by position. */
export interface RepeatView {
  startMs(position: number): number;
  service(position: number): string;
  operation(position: number): number;
  /** Whether the trace there was hung from nothing (and no span link joins it): undefined when not decided yet. */
  unbridged(position: number): boolean | undefined;
}

/**
 * Whether the child at `position`, which has an unnamed guess, repeats an activation started within
 * the window before it (see above): true or false, or the position whose decision is needed first.
 */
export function repeatOfActivation(view: RepeatView, position: number, windowMs: number): boolean | number {
  const op = view.operation(position) >>> 1;
  const service = view.service(position);
  const fromMs = view.startMs(position) - windowMs;
  for (let k = position - 1; k >= 0 && view.startMs(k) >= fromMs; k--) {
    const code = view.operation(k);
    if ((code & 1) === 0 || code >>> 1 !== op || view.service(k) !== service) continue;
    const unbridged = view.unbridged(k);
    if (unbridged === undefined) return k;
    if (unbridged) return true;
  }
  return false;
}

/**
 * The positions, from `first` on, of the children whose plans may change when those starting
 * within `reach` (disjoint ranges [from, to], in order) change: those, and each later member of the
 * same operation within the window of a reached one that started work, as repeatOfActivation reads
 * that one's parent. `count`: how many positions the view has.
 */
export function reachedWithRepeats(
  view: Omit<RepeatView, 'unbridged'>,
  count: number,
  first: number,
  reach: readonly (readonly [number, number])[],
  windowMs: number,
): number[] {
  const out: number[] = [];
  // Per service and operation, until when a reached member that started work reaches its repeats.
  const repeatsUntil = new Map<string, number>();
  let r = 0;
  let latest = -Infinity;
  for (let i = first; i < count; i++) {
    const start = view.startMs(i);
    while (r < reach.length && reach[r]![1] < start) r++;
    const inRange = r < reach.length && start >= reach[r]![0];
    if (!inRange && r >= reach.length && start > latest) break;
    const code = view.operation(i);
    const key = `${code >>> 1}\n${view.service(i)}`;
    if (!inRange && !(start <= (repeatsUntil.get(key) ?? -Infinity))) continue;
    out.push(i);
    if ((code & 1) === 1) {
      repeatsUntil.set(key, start + windowMs);
      if (start + windowMs > latest) latest = start + windowMs;
    }
  }
  return out;
}
