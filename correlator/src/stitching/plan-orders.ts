// The planning orders (PlanOrder) of hot state's planned key groups, within a byte allowance. An
// order is what a group's members were, kept so a batch plans only the children its changes reach;
// its naming index holds each member's named calls, and a group of call-heavy traces (an MDSO plan
// script calling bpocore and arda a hundred times) held hundreds of KiB that hot state's budget
// (hot-state-budget.ts) did not count. Past the allowance the least recently used orders are
// dropped: a group without one plans from its members' states, as one just read back does.
import type { TraceState } from '../correlation/types.js';
import type { PlanOrder } from './plan-order.js';

interface Kept<G> {
  group: G;
  order: PlanOrder;
  /** The order's namingBytes when last counted. */
  bytes: number;
}

export class PlanOrders<G extends { mapKey: string }> {
  /** By the group's hot-state key, least recently used first: one order per key, its group's. */
  private readonly kept = new Map<string, Kept<G>>();
  private counted = 0;
  dropped = 0;

  /**
   * `allowanceBytes`: what the orders' naming indexes may hold between batches. `maxOrders`: a
   * bound on the orders kept whatever they hold, should a key's order outlive its group.
   */
  constructor(
    private readonly allowanceBytes: number,
    private readonly maxOrders: number,
  ) {}

  /** The naming indexes' bytes as last counted (NamingIndex.bytes). */
  get bytes(): number {
    return this.counted;
  }

  get size(): number {
    return this.kept.size;
  }

  /** g's order, if kept for this very group object (another episode of its key has its own). */
  get(g: G): PlanOrder | undefined {
    const k = this.kept.get(g.mapKey);
    if (!k || k.group !== g) return undefined;
    this.kept.delete(g.mapKey);
    this.kept.set(g.mapKey, k);
    return k.order;
  }

  set(g: G, order: PlanOrder): void {
    this.forget(g.mapKey);
    const bytes = order.namingBytes;
    this.kept.set(g.mapKey, { group: g, order, bytes });
    this.counted += bytes;
  }

  /** Takes a member's new state into g's order (PlanOrder.update), counting what its index gained. */
  update(g: G, order: PlanOrder, t: TraceState): void {
    order.update(t);
    const k = this.kept.get(g.mapKey);
    if (k?.order !== order) return;
    const bytes = order.namingBytes;
    this.counted += bytes - k.bytes;
    k.bytes = bytes;
  }

  /** Drops the order kept under a key: its group left hot state, or was encoded. */
  forget(mapKey: string): void {
    const k = this.kept.get(mapKey);
    if (!k) return;
    this.kept.delete(mapKey);
    this.counted -= k.bytes;
  }

  /** Drops the least recently used orders until the rest fit the allowance and the bound. */
  fit(): void {
    for (const key of this.kept.keys()) {
      if (this.counted <= this.allowanceBytes && this.kept.size <= this.maxOrders) return;
      this.forget(key);
      this.dropped++;
    }
  }
}
