// The JSON of a span is a pure function of its stored bytes, its resource and whether it is a
// bridge span, and stored spans do not change. Dashboards re-query the same circuit on every
// refresh, and a circuit that grows only adds spans, so keeping each span's JSON makes a repeat
// view a list of byte ranges sent as they are instead of a decode and re-encode of every span.
// Held JSON references the blocks the rendering query wrote (span-json-writer.ts), which are at
// least three quarters full; a block is freed when nothing held is in it any more.
//
// A stamped span (store.ts) is held by its stamp and slot, which name its bytes: the spans of one
// stamp share one record of numbers, so holding thousands of spans adds a few objects, not an object,
// a key string and two map entries each, which the garbage collector walked on every full
// collection and which a first view promoted to the old generation by the thousand. The stamp also
// lets the store skip reading the bytes of a view the cache holds. A span without a stamp (a
// bridge span, replaced in place) is held by its ids and used only for the very bytes it was made
// from, found by a memcmp, so a span replaced under the same ids is never served stale.
//
// Over the byte budget, the oldest stamps and spans go first, except that one used since eviction
// last passed it gets a second chance.
import type { BodyNeeded, StoredResource, ViewSpan } from '../store/store.js';
import { anchorShape } from '../runtime/shape-anchors.js';

/** Where a view puts the JSON it found held: span i's is `slabOf[i][from[i], to[i])`. */
export interface HeldJsonSink {
  readonly slabOf: (Buffer | undefined)[];
  readonly from: Int32Array;
  readonly to: Int32Array;
  readonly startMs: Float64Array;
  readonly roots: Uint8Array;
}

/** A sink for `n` spans, nothing in it yet. */
export function emptyHeldJsonSink(n: number): HeldJsonSink {
  return {
    slabOf: new Array<Buffer | undefined>(n),
    from: new Int32Array(n),
    to: new Int32Array(n),
    startMs: new Float64Array(n),
    roots: new Uint8Array(n),
  };
}

/** Numbers per slot of a stamp: block reference, JSON start, JSON end, start time. */
const SLOT_NUMBERS = 4;
/** Counted against the budget per held slot (its numbers) and per stamp (object, array, map and set entries). */
const SLOT_BYTES = SLOT_NUMBERS * 8;
const STAMP_OVERHEAD_BYTES = 400;
/** Counted per unstamped span held: the entry, its key strings, its map and set entries. */
const ENTRY_OVERHEAD_BYTES = 300;

/**
 * The JSON held of the spans of one stamp, by slot. A slot once held is never changed or cleared,
 * so a view that found it held can keep using this object after the cache has let it go.
 */
class StampJson {
  /** The blocks the held JSON is in. */
  private readonly slabs: Buffer[] = [];
  /**
   * SLOT_NUMBERS per slot: 0 when not held, else `(block index + 1) * 2 + root`; then JSON start,
   * JSON end and start time. Doubles: epoch milliseconds are beyond small-integer range.
   */
  private numbers: Float64Array;
  held = 0;
  bytes = STAMP_OVERHEAD_BYTES;
  used = false;

  constructor(readonly stamp: number, slots: number) {
    this.numbers = new Float64Array(SLOT_NUMBERS * Math.max(4, slots));
  }

  has(slot: number): boolean {
    const at = SLOT_NUMBERS * slot;
    return slot >= 0 && at < this.numbers.length && this.numbers[at] !== 0;
  }

  /** Copies slot `slot` into entry `i` of `sink`; the slot must be held. */
  copyTo(slot: number, sink: HeldJsonSink, i: number): void {
    const at = SLOT_NUMBERS * slot;
    const ref = this.numbers[at]!;
    sink.slabOf[i] = this.slabs[(ref >> 1) - 1];
    sink.roots[i] = ref & 1;
    sink.from[i] = this.numbers[at + 1]!;
    sink.to[i] = this.numbers[at + 2]!;
    sink.startMs[i] = this.numbers[at + 3]!;
  }

  /** Holds `slab[from, to)` as the JSON of slot `slot`; the bytes it added to the count (0 if already held). */
  put(slot: number, slab: Buffer, from: number, to: number, startMs: number, root: boolean): number {
    if (this.has(slot)) return 0;
    const at = SLOT_NUMBERS * slot;
    if (at >= this.numbers.length) {
      const grown = new Float64Array(Math.max(at + SLOT_NUMBERS, this.numbers.length * 2));
      grown.set(this.numbers);
      this.numbers = grown;
    }
    // A stamp's spans are in a block or two: the newest is the likeliest.
    let block = this.slabs.lastIndexOf(slab);
    if (block < 0) block = this.slabs.push(slab) - 1;
    this.numbers[at] = (block + 1) * 2 + (root ? 1 : 0);
    this.numbers[at + 1] = from;
    this.numbers[at + 2] = to;
    this.numbers[at + 3] = startMs;
    this.held++;
    const added = to - from + SLOT_BYTES;
    this.bytes += added;
    return added;
  }
}

/** An unstamped span's JSON, kept with the bytes it was made from. */
interface SpanEntry {
  readonly slab: Buffer;
  readonly jsonStart: number;
  readonly jsonEnd: number;
  readonly startTimeMs: number;
  readonly root: boolean;
  readonly traceId: string;
  readonly spanId: string;
  readonly source: Buffer | null;
  readonly resource: StoredResource;
  readonly synthetic: boolean;
  readonly bytes: number;
  /** Set by a hit, cleared when eviction passes over the entry (second-chance order). */
  used: boolean;
}

type Held = StampJson | SpanEntry;

export class RenderedSpanCache {
  private readonly stamps = new Map<number, StampJson>();
  /** Unstamped spans: trace id → span id → entry, so no key string is built per lookup. */
  private readonly traces = new Map<string, Map<string, SpanEntry>>();
  /** Every stamp and unstamped span held, oldest first. */
  private readonly order = new Set<Held>();
  private heldBytes = 0;
  private heldSpans = 0;
  hits = 0;
  misses = 0;

  constructor(readonly maxBytes: number) {}

  /** Spans whose JSON is held. */
  get size(): number {
    return this.heldSpans;
  }

  get bytes(): number {
    return this.heldBytes;
  }

  /** Whether the JSON of `span` is held now; counts neither a hit nor a miss. */
  holds(span: ViewSpan): boolean {
    if (span.stamp !== null) return this.stamps.get(span.stamp)?.has(span.slot) ?? false;
    return this.entryFor(span) !== undefined;
  }

  /** The stamp's held JSON, marked used; undefined when none of its spans is held. */
  stampJson(stamp: number): StampJson | undefined {
    const held = this.stamps.get(stamp);
    if (held) held.used = true;
    return held;
  }

  /** The held JSON of an unstamped span if it was rendered from these very bytes, marked used. */
  entryFor(span: ViewSpan): SpanEntry | undefined {
    const hit = this.traces.get(span.traceId)?.get(span.spanId);
    if (
      hit === undefined ||
      hit.resource !== span.resource ||
      hit.synthetic !== span.synthetic ||
      span.body === null ||
      hit.source === null ||
      !hit.source.equals(span.body)
    ) {
      return undefined;
    }
    hit.used = true;
    return hit;
  }

  /**
   * Keeps `slab[jsonStart, jsonEnd)` as the JSON of `span`, referencing the slab, not copying it.
   * The byte at `jsonEnd` is the comma that followed the span where it was written.
   */
  add(span: ViewSpan, slab: Buffer, jsonStart: number, jsonEnd: number, startTimeMs: number, root: boolean): void {
    if (span.stamp !== null) {
      let held = this.stamps.get(span.stamp);
      if (!held) {
        held = new StampJson(span.stamp, span.slot + 1);
        this.stamps.set(span.stamp, held);
        this.order.add(held);
        this.heldBytes += held.bytes;
      }
      const added = held.put(span.slot, slab, jsonStart, jsonEnd, startTimeMs, root);
      if (added > 0) {
        this.heldBytes += added;
        this.heldSpans++;
      }
      return;
    }
    const entry: SpanEntry = {
      slab,
      jsonStart,
      jsonEnd,
      startTimeMs,
      root,
      traceId: span.traceId,
      spanId: span.spanId,
      source: span.body,
      resource: span.resource,
      synthetic: span.synthetic,
      bytes: (span.body?.length ?? 0) + jsonEnd - jsonStart + ENTRY_OVERHEAD_BYTES,
      used: false,
    };
    let spans = this.traces.get(span.traceId);
    if (!spans) this.traces.set(span.traceId, (spans = new Map()));
    const old = spans.get(span.spanId);
    if (old) this.drop(old);
    spans.set(span.spanId, entry);
    this.order.add(entry);
    this.heldBytes += entry.bytes;
    this.heldSpans++;
  }

  /** Lets stamps and spans go until the budget holds; call after adding a view's spans. */
  evictOverBudget(): void {
    for (const held of this.order) {
      if (this.heldBytes <= this.maxBytes) return;
      if (held.used) {
        // Used since it was last passed: goes to the young end, once.
        held.used = false;
        this.order.delete(held);
        this.order.add(held);
      } else {
        this.drop(held);
      }
    }
  }

  /**
   * Lets everything go: a nearly full heap asks for room (app.ts), and held JSON is only ever a
   * shortcut. A view in progress keeps what it already took, as after any eviction.
   */
  clear(): void {
    for (const held of this.order) this.drop(held);
  }

  private drop(held: Held): void {
    this.order.delete(held);
    this.heldBytes -= held.bytes;
    if (held instanceof StampJson) {
      this.stamps.delete(held.stamp);
      this.heldSpans -= held.held;
      return;
    }
    this.heldSpans--;
    const spans = this.traces.get(held.traceId);
    if (spans?.get(held.spanId) === held) {
      spans.delete(held.spanId);
      if (spans.size === 0) this.traces.delete(held.traceId);
    }
  }
}

/**
 * One view's lookups: asked by the store while it reads (`bodyNeeded`) and by the view's plan
 * before it renders (`fill`). What the view found is kept here until the render, so a concurrent
 * view's eviction in between cannot leave a span with neither its bytes nor its JSON: a stamp's
 * held JSON is kept as the object it was (its slots are never cleared), an unstamped span's entry
 * as found. Each span is counted once, as a hit or a miss, when the plan asks for it.
 */
export class ViewLookup {
  private readonly stamps = new Map<number, StampJson | null>();
  private readonly entries = new Map<ViewSpan, SpanEntry | null>();

  /** Without a cache every span is rendered from its bytes. */
  constructor(readonly cache: RenderedSpanCache | undefined) {}

  readonly bodyNeeded: BodyNeeded = span => {
    if (this.cache === undefined) return true;
    if (span.stamp !== null) return !(this.stampJson(span.stamp)?.has(span.slot) ?? false);
    return this.entry(span) === undefined;
  };

  /** Puts the held JSON of `span` into entry `i` of `sink`; false, and nothing put, when it is not held. */
  fill(span: ViewSpan, sink: HeldJsonSink, i: number): boolean {
    const cache = this.cache;
    if (cache === undefined) return false;
    if (span.stamp !== null) {
      const held = this.stampJson(span.stamp);
      if (held === undefined || !held.has(span.slot)) {
        cache.misses++;
        return false;
      }
      held.copyTo(span.slot, sink, i);
    } else {
      const entry = this.entry(span);
      if (entry === undefined) {
        cache.misses++;
        return false;
      }
      sink.slabOf[i] = entry.slab;
      sink.from[i] = entry.jsonStart;
      sink.to[i] = entry.jsonEnd;
      sink.startMs[i] = entry.startTimeMs;
      sink.roots[i] = entry.root ? 1 : 0;
    }
    cache.hits++;
    return true;
  }

  private stampJson(stamp: number): StampJson | undefined {
    const known = this.stamps.get(stamp);
    if (known !== undefined) return known ?? undefined;
    const held = this.cache!.stampJson(stamp);
    this.stamps.set(stamp, held ?? null);
    return held;
  }

  private entry(span: ViewSpan): SpanEntry | undefined {
    const known = this.entries.get(span);
    if (known !== undefined) return known ?? undefined;
    const held = this.cache!.entryFor(span);
    this.entries.set(span, held ?? null);
    return held;
  }
}

// A lookup lives for one view: see shape-anchors.ts.
anchorShape(new ViewLookup(undefined));
