// A key group's members in the order planBridges sorts them into (entry start, then trace id),
// kept between batches, so a batch that changes a few members finds the children they reach and
// each child's parent without reading and sorting every member again.
import type { TraceState } from '../correlation/types.js';
import { NamingIndex } from './naming-index.js';
import { planningPosition } from './planning-position.js';

export class PlanOrder {
  /** Parallel arrays, in planning order: the members with an entry span (lasts: their spanLastMs). */
  private readonly ids: string[] = [];
  private readonly starts: number[] = [];
  private readonly lasts: number[] = [];
  private readonly services: string[] = [];
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
      this.startOf.delete(t.traceId);
    }
    this.naming.delete(t.traceId, entryBefore);
    if (t.linkedTraceIds.length > 0) this.linked.add(t.traceId);
    if (t.entry === null) return;
    this.naming.set(t);
    const at = this.position(t.entry.startMs, t.traceId);
    this.ids.splice(at, 0, t.traceId);
    this.starts.splice(at, 0, t.entry.startMs);
    this.lasts.splice(at, 0, t.spanLastMs);
    this.services.splice(at, 0, t.entry.service);
    this.startOf.set(t.traceId, t.entry.startMs);
  }

  /** The positions of the members whose entry starts within [fromMs, toMs], as [first, end). */
  within(fromMs: number, toMs: number): [number, number] {
    return [this.firstAtOrAfter(fromMs), this.firstAtOrAfter(toMs, true)];
  }

  id(position: number): string {
    return this.ids[position]!;
  }

  /**
   * The parent planBridges gives the member at `position`: the one whose call named its service last
   * (NamingIndex), else (ParentCandidates) the latest member before it whose entry is of another
   * service and whose spans still run within the window of its start.
   */
  parentOf(position: number, windowMs: number): string | null {
    const startMs = this.starts[position]!;
    const service = this.services[position]!;
    const named = this.naming.parentOf(startMs, this.ids[position]!, service, windowMs);
    if (named !== null) return named;
    for (let j = position - 1; j >= 0; j--) if (this.services[j] !== service && !(startMs - this.lasts[j]! > windowMs)) return this.ids[j]!;
    return null;
  }

  private append(t: TraceState): void {
    this.ids.push(t.traceId);
    this.starts.push(t.entry!.startMs);
    this.lasts.push(t.spanLastMs);
    this.services.push(t.entry!.service);
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
