// Retention's slices sized by time, not by count. A slice runs on the main thread and holds the
// event loop while it runs; a fixed 1,000 traces held it 0.3-0.7 s under load, as what a trace costs
// varies with the store (a circuit's recount reads all its traces), the machine's load and the
// writer thread's turns at the lock. Each slice is sized from what the last one cost, so a slice
// takes about the budget whatever the store, and a backlog still goes in as few slices as it can.

/** How many items a slice may take: `first` until one is measured, never beyond `min`..`max`. */
export interface SliceBounds {
  first: number;
  min: number;
  max: number;
}

/** What a sweep's slices are sized by; `clock` in ms (tests give a clock of their own). */
export interface SweepPacing {
  clock: () => number;
  budgetMs: number;
  traces: SliceBounds;
  logs: SliceBounds;
  /** Summary rows (circuits, correlations) a repair pass checks per slice (sqlite/summary-repair.ts). */
  summaries: SliceBounds;
}

/**
 * 50 ms: a request that comes in while a slice runs waits for it, and 50 ms is well under a
 * dashboard's patience and the slices' former 300-700 ms, while a slice still deletes enough (about
 * 100-300 traces on the shared bench machine) for a sweep of 150k traces to take minutes, not
 * hours, between requests. At most 1,000 traces and 5,000 logs a slice, as before: a fast machine
 * still gives the writer thread the lock as often as it did.
 */
export const SWEEP_PACING: SweepPacing = {
  clock: () => performance.now(),
  budgetMs: 50,
  traces: { first: 20, min: 1, max: 1000 },
  logs: { first: 100, min: 10, max: 5000 },
  summaries: { first: 50, min: 1, max: 2000 },
};

/**
 * The next slice's size after one of `size` that did `items` (fewer at the end of the work) in
 * `elapsedMs`: as many as the budget holds at the cost per item just measured, growing at most
 * twice a slice (one cheap slice, a warm cache, is no trend) and shrinking to the estimate at once
 * (a slice over budget is the very block being bounded). A slice's fixed costs make the estimate
 * per item high for small slices, so sizes approach the budget from below.
 */
export function nextSliceSize(size: number, items: number, elapsedMs: number, budgetMs: number, bounds: SliceBounds): number {
  if (items <= 0) return size;
  // A clock too coarse to see the slice: it was cheap.
  const fits = elapsedMs > 0 ? Math.floor((items * budgetMs) / elapsedMs) : Infinity;
  return Math.max(bounds.min, Math.min(bounds.max, 2 * size, fits));
}

/** One kind of slice's size through a sweep, measured on `clock`. */
export class SlicePace {
  private size: number;

  constructor(
    private readonly clock: () => number,
    private readonly budgetMs: number,
    private readonly bounds: SliceBounds,
  ) {
    this.size = bounds.first;
  }

  /**
   * Runs `work` on a slice of the current size; it returns how many items it did, and the next size
   * follows from its cost. Whether the slice was full: more may be left.
   */
  run(work: (size: number) => number): boolean {
    const size = this.size;
    const start = this.clock();
    const items = work(size);
    this.size = nextSliceSize(size, items, this.clock() - start, this.budgetMs, this.bounds);
    return items >= size;
  }
}
