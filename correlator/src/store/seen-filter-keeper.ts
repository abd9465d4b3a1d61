// Keeps a SeenFilter true to the store: built from what the store holds when it opens, fed with
// every trace, key group and log record a batch writes, and rebuilt when it fills up (retention
// deletes rows, but a Bloom filter cannot forget them). Until the first build has read everything,
// and when it is switched off, every question is answered "may hold", so callers ask the store as
// before.
import { SeenFilter, seenFilterBytes } from './seen-filter.js';

/** What a store holds, read in slices so a large store is read between requests, not before them. */
export interface HeldEntriesScan {
  /** Adds up to `limit` held entries to `into`; the number added, 0 once all are read. */
  step(into: SeenFilter, limit: number): number;
}

export interface SeenFilterKeeperOptions {
  /** Memory for the filters, two of them while one is rebuilt (0: no filter). */
  maxBytes: number;
  /** An estimate of the entries the store holds, to size the first filter. */
  estimateEntries: () => number;
  openScan: () => HeldEntriesScan;
  /** Adds what batches handed to the writer but not yet committed will write: a scan may miss it. */
  addInFlight: (into: SeenFilter) => void;
  /** Called when a build starts: `pump` should then run until it returns false. */
  onWork: () => void;
}

export interface SeenFilterStats {
  bytes: number;
  entries: number;
  /** Whether answers come from a filter (false while the first build reads the store, or when off). */
  active: boolean;
  builds: number;
  /** Store lookups the filter answered. */
  skipped: number;
}

export class SeenFilterKeeper {
  private current: SeenFilter | null = null;
  private building: { filter: SeenFilter; scan: HeldEntriesScan } | null = null;
  /** The `added` count of the current filter at which it is rebuilt. */
  private rebuildAt = Infinity;
  private builds = 0;
  private skipped = 0;

  constructor(private readonly opts: SeenFilterKeeperOptions) {}

  /** Starts the first build; a no-op when the filter is off. */
  start(): void {
    this.startBuild(this.opts.estimateEntries());
  }

  /** Reads up to `limit` entries for the build under way; true while there is more to read. */
  pump(limit: number): boolean {
    const b = this.building;
    if (!b) return false;
    for (let read = 0; read < limit;) {
      const n = b.scan.step(b.filter, limit - read);
      if (n === 0) return this.finishBuild(b.filter);
      read += n;
    }
    return true;
  }

  private finishBuild(f: SeenFilter): false {
    this.building = null;
    this.builds++;
    this.current = f;
    // Rebuilt when full; a filter that is already full (the store holds more than the largest one
    // allowed) waits for half its capacity of new entries, so rebuilding costs a bounded share.
    this.rebuildAt = f.added + Math.max(f.capacity - f.added, f.capacity / 2);
    return false;
  }

  addTrace(traceId: string): void {
    this.current?.addTrace(traceId);
    this.building?.filter.addTrace(traceId);
  }

  addGroup(key: string, value: string): void {
    this.current?.addGroup(key, value);
    this.building?.filter.addGroup(key, value);
  }

  addLog(dedupe: string): void {
    this.current?.addLog(dedupe);
    this.building?.filter.addLog(dedupe);
  }

  /** Called after a batch's entries are added: starts a rebuild when the filter is full. */
  settleAdds(): void {
    if (this.current && !this.building && this.current.added >= this.rebuildAt)
      this.startBuild(this.current.added);
  }

  mayHoldTrace(traceId: string): boolean {
    if (!this.current || this.current.mayHoldTrace(traceId)) return true;
    this.skipped++;
    return false;
  }

  mayHoldGroup(key: string, value: string): boolean {
    if (!this.current || this.current.mayHoldGroup(key, value)) return true;
    this.skipped++;
    return false;
  }

  mayHoldLog(dedupe: string): boolean {
    if (!this.current || this.current.mayHoldLog(dedupe)) return true;
    this.skipped++;
    return false;
  }

  stats(): SeenFilterStats {
    const f = this.current;
    return {
      bytes: (f?.bytes ?? 0) + (this.building?.filter.bytes ?? 0),
      entries: f?.added ?? 0,
      active: f !== null,
      builds: this.builds,
      skipped: this.skipped,
    };
  }

  private startBuild(entries: number): void {
    // Each of the two filters that exist during a rebuild gets half the memory.
    // Twice the entries expected, so the new filter is not full at once.
    const bytes = seenFilterBytes(entries * 2, Math.floor(this.opts.maxBytes / 2));
    if (bytes === 0) return;
    const filter = new SeenFilter(bytes);
    this.opts.addInFlight(filter);
    this.building = { filter, scan: this.opts.openScan() };
    this.opts.onWork();
  }
}
