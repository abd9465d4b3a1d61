// Hot state that stays cheap for the garbage collector at any size. A tracked trace or key group
// as live objects is a few dozen heap objects; at a million traces that is a multi-gigabyte graph
// the collector marks again and again, so the cost of every span grew with the number of traces
// tracked. Here only the newest entries stay live objects; older ones are kept encoded, outside
// the JavaScript heap (encoded-slab.ts). Reading an older entry decodes it for the rest of the
// batch, and settle() writes it back.
//
// Order and eviction are those of a bounded insertion-ordered map: the oldest inserted entry is
// evicted first, wherever it is kept. Eviction waits for the end of the batch (settle()): an entry
// evicted while its batch still used it came back empty, or was rebuilt from a store that did not
// yet hold that batch, and results came to depend on the bound. A batch may so take the map past
// its bound by the entries it adds.
//
// An encoded entry a batch reads stays live afterwards, its key held in the encoded tier's order
// (EncodedSlab.hold): a circuit's episode and its traces, read by every batch, were decoded and
// encoded again by each, so a trace cost more the more its circuit held. The encoded tier's order
// is so the insertion order of every entry ever encoded, held or not, and all of them are older
// than the entries never encoded (live ones are encoded oldest first, by the live map's order, in
// which those keep their insertion order): its oldest key is the oldest entry while it has one.
//
// The live tier is bounded twice: by its entries (liveMax) and by the bytes its entries hold on the
// heap, as estimated (LiveBytes: live-entry-bytes.ts). A flat bound on entries let traces of 100
// spans, or circuits of 300 traces, hold 4–50 times what hot state's budget assumed of a live entry.
// An entry is counted again when it is made live and at each settle() after a batch changed it;
// past the allowance the longest live entries are encoded, as past liveMax: in the live map's order,
// which keeps the encoded tier's order that of insertion (a move to the back on each read would
// not). A live entry read by every batch stays where it is; encoded, it comes back at the back.

import { EncodedSlab } from './encoded-slab.js';
import { OldestKey } from './oldest-key.js';

export interface StateCodec<V> {
  /** The entry's bytes; the view may be reused by the next encode, so the caller copies it. */
  encode(value: V): Uint8Array;
  decode(encoded: Uint8Array): V;
}

/** How the live tier counts its bytes, and how many it may hold. */
export interface LiveBytes<V> {
  /** An estimate of what an entry holds on the heap while live (live-entry-bytes.ts). */
  of(value: V): number;
  /** What the live entries may hold between batches, so counted. */
  allowance: number;
}

export class TieredMap<V> {
  /** Newest entries, as live objects, oldest first. */
  private readonly live = new Map<string, V>();
  private readonly liveOldest = new OldestKey(this.live);
  /** Older entries, encoded, oldest first. */
  private readonly encoded = new EncodedSlab();
  /** Encoded entries decoded since the last settle(): their objects are handed out and may change. */
  private readonly borrowed = new Map<string, V>();
  evictions = 0;
  /** Live entries encoded at settle(): past liveMax, or within it but past the byte allowance. */
  demotedForEntries = 0;
  demotedForBytes = 0;
  /** Each live entry's bytes as last counted, and their sum. */
  private readonly counted = new Map<string, number>();
  private countedBytes = 0;
  /**
   * Keys made live, or given a new object, since the last settle(), and those noted changed: each
   * counted once then (a batch may note a group three times).
   */
  private readonly uncounted = new Set<string>();

  constructor(
    private readonly max: number,
    /** How many entries stay live objects between batches. */
    private readonly liveMax: number,
    private readonly codec: StateCodec<V>,
    /**
     * Told of a key whose entry stops being a live object: encoded, evicted or deleted. What is
     * kept beside an entry's object for as long as it is live (the engine's PlanOrders) goes then.
     */
    private readonly leftLive: (key: string) => void = () => {},
    /** None: the live tier is bounded by liveMax alone. */
    private readonly liveBytes?: LiveBytes<V>,
  ) {}

  /** What the live entries hold, as last counted (0 when not counted). */
  get liveByteCount(): number {
    return this.countedBytes;
  }

  get size(): number {
    return this.live.size + this.encoded.size - this.encoded.held;
  }

  /** How many entries are kept encoded (for the hot-state gauges and tests). */
  get encodedSize(): number {
    return this.encoded.size - this.encoded.held;
  }

  has(key: string): boolean {
    return this.live.has(key) || this.encoded.has(key);
  }

  /** The entry's object; the same object on every call until settle(). */
  get(key: string): V | undefined {
    const v = this.live.get(key);
    if (v !== undefined) return v;
    const b = this.borrowed.get(key);
    if (b !== undefined) return b;
    const e = this.encoded.get(key);
    if (e === undefined) return undefined;
    const decoded = this.codec.decode(e);
    this.borrowed.set(key, decoded);
    return decoded;
  }

  /**
   * The entry's object, to read and not change: an encoded entry is decoded afresh and not kept.
   * Planning a key group whole reads every member, and kept (get()) until settle(), the members of
   * every group a batch planned were held at once: 8 circuits of ~300 traces of 100 spans a batch
   * held ~20 MiB, and a 64 MiB heap died of it (RV7). Read this way, one group's at a time.
   */
  peek(key: string): V | undefined {
    const v = this.live.get(key) ?? this.borrowed.get(key);
    if (v !== undefined) return v;
    const e = this.encoded.get(key);
    return e === undefined ? undefined : this.codec.decode(e);
  }

  /** Replaces an entry in place, or inserts it as the newest. */
  set(key: string, value: V): void {
    if (this.live.has(key)) {
      this.live.set(key, value);
      if (this.liveBytes) this.uncounted.add(key);
      return;
    }
    if (this.encoded.hasBytes(key)) {
      // Kept, in its place, by settle().
      this.borrowed.set(key, value);
      return;
    }
    this.live.set(key, value);
    this.liveOldest.added();
    if (this.liveBytes) this.uncounted.add(key);
  }

  delete(key: string): boolean {
    this.borrowed.delete(key);
    // A held key is in both tiers.
    const live = this.deleteLive(key);
    const deleted = this.encoded.delete(key) || live;
    this.leftLive(key);
    return deleted;
  }

  /** The entry's object was changed in place: its bytes are counted again at settle(). */
  noteChanged(key: string): void {
    if (this.liveBytes) this.uncounted.add(key);
  }

  /**
   * Ends a batch: keeps the objects handed out from the encoded tier live, their keys held in its
   * order, counts the bytes of the live entries made or noted changed since the last settle(),
   * evicts the oldest entries beyond the bound, then encodes the live entries beyond `liveMax` or
   * the byte allowance, first the longest live. Objects handed out before must not be used after.
   */
  settle(): void {
    for (const [key, value] of this.borrowed) {
      if (!this.encoded.hasBytes(key)) {
        this.leftLive(key);
        continue;
      }
      this.encoded.hold(key);
      this.live.set(key, value);
      this.liveOldest.added();
      if (this.liveBytes) this.uncounted.add(key);
    }
    this.borrowed.clear();
    if (this.liveBytes) {
      for (const key of this.uncounted) this.count(key, this.liveBytes);
      this.uncounted.clear();
    }
    while (this.size > this.max) this.evictOldest();
    const allowance = this.liveBytes?.allowance ?? Infinity;
    for (;;) {
      if (this.live.size > this.liveMax) this.demotedForEntries++;
      else if (this.countedBytes > allowance && this.live.size > 0) this.demotedForBytes++;
      else break;
      const key = this.liveOldest.get()!;
      const value = this.live.get(key)!;
      this.deleteLive(key);
      this.encoded.set(key, this.codec.encode(value));
      this.leftLive(key);
    }
  }

  /** Counts a live entry's bytes again; a key no longer live is left alone. */
  private count(key: string, liveBytes: LiveBytes<V>): void {
    const value = this.live.get(key);
    if (value === undefined) return;
    const bytes = liveBytes.of(value);
    this.countedBytes += bytes - (this.counted.get(key) ?? 0);
    this.counted.set(key, bytes);
  }

  /**
   * Evicts the oldest entries until at most `size` are left, counted as evictions. Only between
   * batches (no entry handed out since the last settle()): heap pressure calls it from a timer.
   */
  shrinkTo(size: number): void {
    while (this.size > size) this.evictOldest();
  }

  private evictOldest(): void {
    const key = this.encoded.oldestKey();
    if (key !== undefined) {
      if (this.encoded.isHeld(key)) this.deleteLive(key);
      this.encoded.delete(key);
      this.evictions++;
      this.leftLive(key);
      return;
    }
    const oldestLive = this.liveOldest.get();
    if (oldestLive !== undefined) {
      this.deleteLive(oldestLive);
      this.evictions++;
      this.leftLive(oldestLive);
    }
  }

  private deleteLive(key: string): boolean {
    if (!this.live.delete(key)) return false;
    this.liveOldest.deleted(key);
    const bytes = this.counted.get(key);
    if (bytes !== undefined) {
      this.countedBytes -= bytes;
      this.counted.delete(key);
    }
    return true;
  }
}
