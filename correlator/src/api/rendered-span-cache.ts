// The JSON of a span is a pure function of its stored bytes, its resource and whether it is a
// bridge span, and stored spans do not change. Dashboards re-query the same circuit on every
// refresh, and a circuit that grows only adds spans, so keeping each span's JSON makes a repeat
// view a list of byte ranges sent as they are instead of a decode and re-encode of every span.
// Entries reference the blocks the rendering query wrote (span-json-writer.ts), which are at least three
// quarters full; a block is freed when the last entry in it goes.
//
// An entry is used only for the bytes it was made from, so a span replaced under the same ids, say
// after retention deleted it and a replay brought it back different, is never served stale. A
// stamped span (store.ts) is matched by its stamp, which lets the store skip reading the bytes of
// a view the cache holds; a span without one by a memcmp of its bytes. Over the byte budget, the
// oldest entries go first, except that one used since eviction last passed it gets a second chance.
import type { BodyNeeded, StoredResource, ViewSpan } from '../store/store.js';
import { anchorShape } from '../runtime/shape-anchors.js';

export interface RenderedSpan {
  /** The span's JSON is `slab[jsonStart, jsonEnd)`; the slab is a block the query that rendered it wrote. */
  readonly slab: Buffer;
  readonly jsonStart: number;
  readonly jsonEnd: number;
  readonly startTimeMs: number;
  readonly root: boolean;
}

interface Entry extends RenderedSpan {
  readonly traceId: string;
  readonly spanId: string;
  /** The stamp of the bytes it was made from, or those bytes when they had none (the store's own view, kept as it is). */
  readonly stamp: number | null;
  readonly source: Buffer | null;
  readonly resource: StoredResource;
  readonly synthetic: boolean;
  /** Set by a hit, cleared when eviction passes over the entry (second-chance order). */
  used: boolean;
}

/** Map entries, key strings, views and the object, counted against the budget with the bytes. */
const ENTRY_OVERHEAD_BYTES = 300;

export class RenderedSpanCache {
  /** trace id → span id → entry: no key string is built per lookup. */
  private readonly traces = new Map<string, Map<string, Entry>>();
  /** Every entry, oldest first. */
  private readonly order = new Set<Entry>();
  private heldBytes = 0;
  hits = 0;
  misses = 0;

  constructor(readonly maxBytes: number) {}

  get size(): number {
    return this.order.size;
  }

  get bytes(): number {
    return this.heldBytes;
  }

  /** The JSON of `span` if it was rendered from these very bytes; `undefined` otherwise. */
  get(span: ViewSpan): RenderedSpan | undefined {
    const hit = this.traces.get(span.traceId)?.get(span.spanId);
    if (
      hit === undefined ||
      hit.resource !== span.resource ||
      hit.synthetic !== span.synthetic ||
      hit.stamp !== span.stamp ||
      (span.stamp === null && (span.body === null || hit.source === null || !hit.source.equals(span.body)))
    ) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    hit.used = true;
    return hit;
  }

  /**
   * Keeps `slab[jsonStart, jsonEnd)` as the JSON of `span`, referencing the slab, not copying it.
   * The byte at `jsonEnd` is the comma that followed the span where it was written.
   */
  add(span: ViewSpan, slab: Buffer, jsonStart: number, jsonEnd: number, startTimeMs: number, root: boolean): void {
    const entry: Entry = {
      slab,
      jsonStart,
      jsonEnd,
      stamp: span.stamp,
      // A stamp stands for the bytes: holding them too would keep the store's whole chunk alive.
      source: span.stamp === null ? span.body : null,
      resource: span.resource,
      synthetic: span.synthetic,
      startTimeMs,
      root,
      traceId: span.traceId,
      spanId: span.spanId,
      used: false,
    };
    let spans = this.traces.get(span.traceId);
    if (!spans) this.traces.set(span.traceId, (spans = new Map()));
    const old = spans.get(span.spanId);
    if (old) this.drop(old);
    spans.set(span.spanId, entry);
    this.order.add(entry);
    this.heldBytes += costOf(entry);
  }

  /** Lets entries go until the budget holds; call after adding a view's spans. */
  evictOverBudget(): void {
    for (const entry of this.order) {
      if (this.heldBytes <= this.maxBytes) return;
      if (entry.used) {
        // Used since it was last passed: goes to the young end, once.
        entry.used = false;
        this.order.delete(entry);
        this.order.add(entry);
      } else {
        this.drop(entry);
      }
    }
  }

  private drop(entry: Entry): void {
    this.order.delete(entry);
    const spans = this.traces.get(entry.traceId);
    if (spans?.get(entry.spanId) === entry) {
      spans.delete(entry.spanId);
      if (spans.size === 0) this.traces.delete(entry.traceId);
    }
    this.heldBytes -= costOf(entry);
  }
}

function costOf(entry: Entry): number {
  return (entry.source?.length ?? 0) + entry.jsonEnd - entry.jsonStart + ENTRY_OVERHEAD_BYTES;
}

/**
 * One view's lookups: asked by the store while it reads (`bodyNeeded`) and by the writer while it
 * renders, the cache is consulted once per span. What was found is kept here until the render, so
 * a concurrent view's eviction in between cannot leave a span with neither its bytes nor its JSON.
 */
export class ViewLookup {
  private readonly found = new Map<ViewSpan, RenderedSpan | null>();

  /** Without a cache every span is rendered from its bytes. */
  constructor(readonly cache: RenderedSpanCache | undefined) {}

  readonly bodyNeeded: BodyNeeded = span => this.find(span) === undefined;

  find(span: ViewSpan): RenderedSpan | undefined {
    if (this.cache === undefined) return undefined;
    const known = this.found.get(span);
    if (known !== undefined) return known ?? undefined;
    const hit = this.cache.get(span);
    this.found.set(span, hit ?? null);
    return hit;
  }
}

// A lookup lives for one view: see shape-anchors.ts.
anchorShape(new ViewLookup(undefined));
