// A key group's members in the order planBridges sorts them into (entry start, then trace id),
// kept between batches, so a batch that changes a few members finds the children they reach and
// each child's parent without reading and sorting every member again.
import type { TraceState } from '../correlation/types.js';
import { NAMED_CALL_SKEW_MS } from './named-call.js';
import { NamingIndex } from './naming-index.js';
import { planningPosition } from './planning-position.js';
import { operationCode, reachedWithRepeats, repeatOfActivation, type RepeatView } from './repeat-activation.js';

/** What parentOf last decided for a member: kept, as a repeat's rule reads its predecessors'. */
const UNDECIDED = 0;
const BRIDGED = 1;
const UNBRIDGED = 2;

export class PlanOrder implements RepeatView {
  /** Parallel arrays, in planning order: the members with an entry span (lasts: their spanLastMs). */
  private readonly ids: string[] = [];
  private readonly starts: number[] = [];
  private readonly lasts: number[] = [];
  private readonly services: string[] = [];
  /**
   * Their entry operations (repeat-activation.ts) times four, plus whether each was last planned a
   * bridge (UNDECIDED, BRIDGED, UNBRIDGED): one array, as each costs every tracked trace 8 B. A
   * member's answer depends on earlier members only, so a change makes those from the changed
   * trace's first datum on undecided, and the rest keep theirs: a batch's children read their
   * predecessors' answers here, not by planning the circuit's whole chain of repeats again.
   */
  private readonly codes: number[] = [];
  /** Each listed member's entry start, to find it again when it changes. */
  private readonly startOf = new Map<string, number>();
  /** Members with span links: planBridges' link rule needs their states (linkedToEarlier). */
  private readonly linked = new Set<string>();
  /** The members' calls that name a service: a parent by naming comes before the nearest one. */
  private readonly naming = new NamingIndex(() => this.ids.map((id, i) => [this.services[i]!, this.starts[i]!, id] as const));

  static of(members: readonly TraceState[]): PlanOrder {
    const order = new PlanOrder();
    const ordered = members.filter(t => t.entry !== null).sort(byPlanningOrder);
    for (const t of ordered) {
      order.append(t);
      order.naming.set(t);
    }
    for (const t of members) if (t.linkedTraceIds.length > 0) order.linked.add(t.traceId);
    return order;
  }

  /** An estimate of the heap its naming index holds (NamingIndex.bytes): hot state's budget counts it. */
  get namingBytes(): number {
    return this.naming.bytes;
  }

  /** Whether a member has span links: then only planBridges over the states plans exactly. */
  get hasLinks(): boolean {
    return this.linked.size > 0;
  }

  /** Takes in a member's current state: a new member, or one whose entry, spans' end, calls or links changed. */
  update(t: TraceState): void {
    const before = this.startOf.get(t.traceId);
    let entryBefore: { service: string; startMs: number } | null = null;
    if (before !== undefined) {
      const at = this.position(before, t.traceId);
      entryBefore = { service: this.services[at]!, startMs: before };
      this.ids.splice(at, 1);
      this.starts.splice(at, 1);
      this.lasts.splice(at, 1);
      this.services.splice(at, 1);
      this.codes.splice(at, 1);
      this.startOf.delete(t.traceId);
    }
    this.naming.delete(t.traceId, entryBefore);
    if (t.linkedTraceIds.length > 0) this.linked.add(t.traceId);
    // Its first datum is no later than any entry or call it had or has, and a call names a child
    // starting up to NAMED_CALL_SKEW_MS before it (NaN: all of them).
    for (let i = this.firstAtOrAfter(Math.min(t.firstMs, before ?? Infinity) - NAMED_CALL_SKEW_MS); i < this.codes.length; i++)
      this.codes[i] = this.codes[i]! & ~3;
    if (t.entry === null) return;
    this.naming.set(t);
    const at = this.position(t.entry.startMs, t.traceId);
    this.ids.splice(at, 0, t.traceId);
    this.starts.splice(at, 0, t.entry.startMs);
    this.lasts.splice(at, 0, t.spanLastMs);
    this.services.splice(at, 0, t.entry.service);
    this.codes.splice(at, 0, operationCode(t) * 4 + UNDECIDED);
    this.startOf.set(t.traceId, t.entry.startMs);
  }

  /** The positions of the members whose entry starts within [fromMs, toMs], as [first, end). */
  within(fromMs: number, toMs: number): [number, number] {
    return [this.firstAtOrAfter(fromMs), this.firstAtOrAfter(toMs, true)];
  }

  id(position: number): string {
    return this.ids[position]!;
  }

  // What repeat-activation.ts reads (RepeatView): methods, not a view object, which cost a small
  // group's members ~50 B each in closures (bench: correlation, hot state 1,738 → 1,797 B/trace).
  startMs(position: number): number {
    return this.starts[position]!;
  }

  service(position: number): string {
    return this.services[position]!;
  }

  operation(position: number): number {
    return this.codes[position]! >>> 2;
  }

  unbridged(position: number): boolean | undefined {
    const d = this.codes[position]! & 3;
    return d === UNDECIDED ? undefined : d === UNBRIDGED;
  }

  /**
   * The parent planBridges gives the member at `position`: the one whose call named its service last
   * (NamingIndex), else (ParentCandidates) the latest member before it whose entry is of another
   * service and whose spans still run within the window of its start, unless it repeats an
   * activation started within the window before it (repeat-activation.ts). That asks for earlier
   * members' parents in turn: decided here from the earliest needed up, not by recursion, as a
   * chain of retries may be long.
   */
  parentOf(position: number, windowMs: number): string | null {
    for (;;) {
      const parent = this.tryParentOf(position, windowMs);
      if (typeof parent !== 'number') {
        this.setDecided(position, parent === null ? UNBRIDGED : BRIDGED);
        return parent;
      }
      this.decide(parent, windowMs);
    }
  }

  private setDecided(position: number, decided: number): void {
    this.codes[position] = (this.codes[position]! & ~3) + decided;
  }

  /** Decides the member at `position`, and first each earlier one its answer needs. */
  private decide(position: number, windowMs: number): void {
    const needed = [position];
    while (needed.length > 0) {
      const at = needed[needed.length - 1]!;
      if ((this.codes[at]! & 3) !== UNDECIDED) {
        needed.pop();
        continue;
      }
      const parent = this.tryParentOf(at, windowMs);
      if (typeof parent === 'number') needed.push(parent);
      else {
        this.setDecided(at, parent === null ? UNBRIDGED : BRIDGED);
        needed.pop();
      }
    }
  }

  /** The parent of the member at `position`, or the position of an earlier member whose parent it needs first. */
  private tryParentOf(position: number, windowMs: number): string | null | number {
    const startMs = this.starts[position]!;
    const service = this.services[position]!;
    const named = this.naming.parentOf(startMs, this.ids[position]!, service, windowMs);
    if (named !== null) return named;
    for (let j = position - 1; j >= 0; j--) {
      if (this.services[j] === service || startMs - this.lasts[j]! > windowMs) continue;
      const repeat = repeatOfActivation(this, position, windowMs);
      return typeof repeat === 'number' ? repeat : repeat ? null : this.ids[j]!;
    }
    return null;
  }

  /**
   * The positions of the children whose plans may change when those starting within `reach` (disjoint
   * ranges, in order) change: those, and each later member of the same operation within the window
   * of a reached one that started work, whose repeat rule reads its parent (repeat-activation.ts).
   */
  childrenReached(reach: readonly (readonly [number, number])[], windowMs: number): number[] {
    if (reach.length === 0) return [];
    return reachedWithRepeats(this, this.ids.length, this.firstAtOrAfter(reach[0]![0]), reach, windowMs);
  }

  private append(t: TraceState): void {
    this.ids.push(t.traceId);
    this.starts.push(t.entry!.startMs);
    this.lasts.push(t.spanLastMs);
    this.services.push(t.entry!.service);
    this.codes.push(operationCode(t) * 4 + UNDECIDED);
    this.startOf.set(t.traceId, t.entry!.startMs);
  }

  private position(startMs: number, traceId: string): number {
    return planningPosition(this.starts, this.ids, startMs, traceId);
  }

  /** The first position whose start is at or after startMs (after it, with `after`). */
  private firstAtOrAfter(startMs: number, after = false): number {
    let lo = 0;
    let hi = this.starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const s = this.starts[mid]!;
      if (s < startMs || (after && s === startMs)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** planBridges' order: by entry start, then trace id. */
export function byPlanningOrder(a: TraceState, b: TraceState): number {
  return a.entry!.startMs - b.entry!.startMs || (a.traceId < b.traceId ? -1 : 1);
}
