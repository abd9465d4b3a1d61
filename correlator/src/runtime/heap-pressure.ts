// Ingest yields to a nearly full heap instead of the process dying of it. Hot state's bounds fit
// the heap (hot-state-budget.ts), but they are estimates, and what else the heap holds (requests
// in flight, views, caches) varies. When a full collection leaves more than `high` of the old
// generation in use (heap-limit.ts), the heap is under pressure: ingest is refused with 503 and
// Retry-After, and the owner frees what it can (hot state drops its oldest half, which the store
// gives back when a trace is seen again), again after each full collection that does not bring
// it below `low`; once below, ingest is taken again. Making room only past `high` left a heap
// between the marks refusing ingest for good.
//
// Only full (mark-compact) collections are judged: between them the heap in use counts garbage,
// and V8 lets a small heap fill close to its limit before it collects. They are observed (a gc
// PerformanceObserver), so no request pays for a reading. Leaving pressure needs no collection:
// the heap in use is never less than what is live, so any reading below `low` will do. Under
// pressure it is read every second; a process refusing ingest allocates little and may not
// collect for minutes, so when none ran for a few seconds one is made (full-collection.ts).
import { PerformanceObserver, constants, type PerformanceEntry } from 'node:perf_hooks';
import { collectGarbage } from './full-collection.js';
import { oldGenerationUsed } from './heap-limit.js';

/** Fractions of the old generation's limit. */
export interface HeapMarks {
  high: number;
  low: number;
}

export const HEAP_MARKS: HeapMarks = { high: 0.85, low: 0.75 };
/** Under pressure, a full collection is made when none ran for this long. */
const COLLECT_AFTER_MS = 3000;

/** Whether the heap is under pressure after a reading: at or past `high` it is, below `low` it is not, between it stays as it was. */
export function underPressure(
  was: boolean,
  usedBytes: number,
  limitBytes: number,
  marks: HeapMarks = HEAP_MARKS,
): boolean {
  const share = usedBytes / limitBytes;
  if (share >= marks.high) return true;
  if (share < marks.low) return false;
  return was;
}

export interface HeapReading {
  usedBytes: number;
  limitBytes: number;
}

export interface HeapPressureOptions {
  /** The old generation's limit (heap-limit.ts). */
  limitBytes: number;
  marks?: HeapMarks;
  /** Entering pressure, and each later full collection that leaves it there (at most once per recheckMs). */
  onPressure: (reading: HeapReading) => void;
  onRelief: (reading: HeapReading) => void;
  /** For tests: the heap in use, instead of the old generation's (heap-limit.ts). */
  usedBytes?: () => number;
  /** For tests: false to call afterFullCollection() by hand instead of observing V8's. */
  observeGc?: boolean;
  /** For tests: makes a full collection (V8's by default). */
  collect?: () => void;
  recheckMs?: number;
  now?: () => number;
}

export class HeapPressure {
  private pressed = false;
  private last: HeapReading;
  private settled: HeapReading;
  private lastPressureCallMs = -Infinity;
  private lastCollectionMs = -Infinity;
  private readonly observer: PerformanceObserver | null;
  private recheckTimer: NodeJS.Timeout | null = null;
  private readonly marks: HeapMarks;
  private readonly usedBytes: () => number;
  private readonly recheckMs: number;
  private readonly now: () => number;
  private readonly collect: () => void;

  constructor(private readonly opts: HeapPressureOptions) {
    this.marks = opts.marks ?? HEAP_MARKS;
    this.usedBytes = opts.usedBytes ?? oldGenerationUsed;
    this.recheckMs = opts.recheckMs ?? 1000;
    this.now = opts.now ?? Date.now;
    this.collect = opts.collect ?? collectGarbage;
    this.last = { usedBytes: 0, limitBytes: opts.limitBytes };
    this.settled = this.last;
    this.observer =
      opts.observeGc === false
        ? null
        : new PerformanceObserver(list => this.onGcEntries(list.getEntries()));
    this.observer?.observe({ entryTypes: ['gc'] });
  }

  /** Whether ingest must be refused now. */
  get active(): boolean {
    return this.pressed;
  }

  /** The reading that decided the current state. */
  get reading(): HeapReading {
    return this.last;
  }

  /**
   * The heap in use as the last full collection left it, or as the reading that ended pressure
   * (never less than what is live): what the requests in flight are fitted beside (heap-headroom.ts).
   */
  get afterCollection(): HeapReading {
    return this.settled;
  }

  get marksInUse(): HeapMarks {
    return this.marks;
  }

  /** Judges the heap as a full collection left it. */
  afterFullCollection(): void {
    this.lastCollectionMs = this.now();
    const reading = this.read();
    this.settled = reading;
    const was = this.pressed;
    this.pressed = underPressure(was, reading.usedBytes, reading.limitBytes, this.marks);
    if (this.pressed) {
      this.last = reading;
      // Still not below `low` after making room: more is made, but not on every collection.
      if (!was || this.now() - this.lastPressureCallMs >= this.recheckMs) {
        this.lastPressureCallMs = this.now();
        this.opts.onPressure(reading);
      }
      this.startRechecks();
    } else if (was) {
      this.relieve(reading);
    }
  }

  /**
   * Leaves pressure when the heap in use, garbage and all, is below `low`; else, when no full
   * collection ran for a while, makes one and judges what it left.
   */
  recheck(): void {
    if (!this.pressed) return;
    const reading = this.read();
    if (!underPressure(true, reading.usedBytes, reading.limitBytes, this.marks))
      this.relieve(reading);
    else if (this.now() - this.lastCollectionMs >= COLLECT_AFTER_MS) {
      this.collect();
      this.afterFullCollection();
    }
  }

  close(): void {
    this.observer?.disconnect();
    this.stopRechecks();
  }

  private read(): HeapReading {
    return { usedBytes: this.usedBytes(), limitBytes: this.opts.limitBytes };
  }

  private relieve(reading: HeapReading): void {
    this.pressed = false;
    this.last = reading;
    this.settled = reading;
    this.stopRechecks();
    this.opts.onRelief(reading);
  }

  private onGcEntries(entries: readonly PerformanceEntry[]): void {
    const full = entries.some(
      e =>
        (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ===
        constants.NODE_PERFORMANCE_GC_MAJOR,
    );
    if (full) this.afterFullCollection();
  }

  private startRechecks(): void {
    if (this.recheckTimer) return;
    this.recheckTimer = setInterval(() => this.recheck(), this.recheckMs);
    this.recheckTimer.unref();
  }

  private stopRechecks(): void {
    if (!this.recheckTimer) return;
    clearInterval(this.recheckTimer);
    this.recheckTimer = null;
  }
}
