// The JSON of a span is a pure function of its stored bytes, its resource and whether it is a
// bridge span, and stored spans do not change. Dashboards re-query the same circuit on every
// refresh, and a circuit that grows only adds spans, so keeping each span's JSON makes a repeat
// view a copy of bytes instead of a decode and re-encode of every span.
//
// An entry is used only if the span's bytes are equal to those it was made from (a memcmp of a
// few hundred bytes), so a span replaced under the same ids, say after retention deleted it and
// a replay brought it back different, is never served stale. Over the byte budget, the oldest
// entries go first, except that one used since eviction last passed it gets a second chance.
import type { StoredResource, StoredSpan } from '../store/store.js';

export interface RenderedSpan {
  /** The span's JSON is `slab[jsonStart, jsonEnd)`; the slab is the copy made by the query that rendered it. */
  readonly slab: Buffer;
  readonly jsonStart: number;
  readonly jsonEnd: number;
  /** The bytes it was made from: the store's own view of them, kept as it is. */
  readonly source: Buffer;
  readonly resource: StoredResource;
  readonly synthetic: boolean;
  readonly startTimeMs: number;
  readonly root: boolean;
}

interface Entry extends RenderedSpan {
  readonly traceId: string;
  readonly spanId: string;
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
  get(span: StoredSpan): RenderedSpan | undefined {
    const hit = this.traces.get(span.traceId)?.get(span.spanId);
    if (
      hit === undefined ||
      hit.resource !== span.resource ||
      hit.synthetic !== span.synthetic ||
      !hit.source.equals(span.body)
    ) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    hit.used = true;
    return hit;
  }

  /**
   * Keeps the JSON of `spans[i]` for every i where `rendered[i]` is set: `json[start[i], start[i + 1] - 1)`
   * (each span's JSON is followed by one separator byte). Each run of such spans is copied in one
   * piece into one new buffer, which the entries index.
   */
  setMany(
    spans: readonly StoredSpan[],
    rendered: Uint8Array,
    json: Buffer,
    start: Int32Array,
    startTimeMs: Float64Array,
    roots: Uint8Array,
  ): void {
    const n = spans.length;
    let total = 0;
    for (let i = 0; i < n; i++) if (rendered[i]) total += start[i + 1]! - start[i]!;
    if (total === 0) return;
    const slab = Buffer.allocUnsafeSlow(total);
    let at = 0;
    for (let i = 0; i < n;) {
      if (!rendered[i]) {
        i++;
        continue;
      }
      let end = i + 1;
      while (end < n && rendered[end]) end++;
      const runStart = start[i]!;
      json.copy(slab, at, runStart, start[end]!);
      for (let k = i; k < end; k++) {
        const from = at + start[k]! - runStart;
        this.add(
          spans[k]!,
          slab,
          from,
          from + start[k + 1]! - 1 - start[k]!,
          startTimeMs[k]!,
          roots[k] === 1,
        );
      }
      at += start[end]! - runStart;
      i = end;
    }
    this.evictOverBudget();
  }

  private add(
    span: StoredSpan,
    slab: Buffer,
    jsonStart: number,
    jsonEnd: number,
    startTimeMs: number,
    root: boolean,
  ): void {
    const entry: Entry = {
      slab,
      jsonStart,
      jsonEnd,
      source: span.body,
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

  private evictOverBudget(): void {
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
  return entry.source.length + entry.jsonEnd - entry.jsonStart + ENTRY_OVERHEAD_BYTES;
}
