// The encoded tier's storage (tiered-map.ts): each entry's bytes in large buffers outside the
// JavaScript heap, found through a Map from key to location. As strings on the heap, a million
// encoded entries were still a gigabyte the collector swept and compacted; in buffers it sees one
// Map of keys and small-integer locations. Keys keep their insertion order for eviction.

import { OldestKey } from './oldest-key.js';

const DEFAULT_SLAB_BYTES = 8 * 2 ** 20;
// A location is slab * 2^20 + offset / 8 (slabs of at most 8 MiB): below 2^30 for the first 1024
// slabs, a small integer V8 keeps unboxed.
const OFFSET_UNITS = 2 ** 20;
const ALIGN = 8;
/** The location of a held key (hold()): no bytes, only its place in the order. */
const HELD = -1;

export class EncodedSlab {
  private readonly where = new Map<string, number>();
  private readonly oldest = new OldestKey(this.where);
  private readonly slabs: (Buffer | null)[] = [];
  /** Live records per slab; a slab is released when it has none. */
  private readonly liveRecords: number[] = [];
  private readonly deadBytes: number[] = [];
  private readonly freeSlabs: number[] = [];
  private current = -1;
  private pos = 0;
  private totalDead = 0;
  private totalUsed = 0;
  private heldKeys = 0;

  constructor(private readonly slabBytes = DEFAULT_SLAB_BYTES) {
    if (slabBytes > OFFSET_UNITS * ALIGN) throw new RangeError(`slabs hold at most ${OFFSET_UNITS * ALIGN} bytes`);
  }

  /** Keys in the order, held ones included. */
  get size(): number {
    return this.where.size;
  }

  /** Keys held without bytes (hold()). */
  get held(): number {
    return this.heldKeys;
  }

  /** Bytes held in buffers (for tests and gauges). */
  get bufferBytes(): number {
    let n = 0;
    for (const s of this.slabs) if (s) n += s.length;
    return n;
  }

  /** Whether the key is in the order, with bytes or held. */
  has(key: string): boolean {
    return this.where.has(key);
  }

  /** Whether the key has bytes here (it is in the order and not held). */
  hasBytes(key: string): boolean {
    const loc = this.where.get(key);
    return loc !== undefined && loc !== HELD;
  }

  isHeld(key: string): boolean {
    return this.where.get(key) === HELD;
  }

  /**
   * Lets the key's bytes go but keeps its place in the order: its entry is kept elsewhere for a
   * while (TieredMap's live tier), and set() gives it bytes again in the same place.
   */
  hold(key: string): void {
    const loc = this.where.get(key);
    if (loc === undefined || loc === HELD) return;
    this.release(loc);
    this.where.set(key, HELD);
    this.heldKeys++;
  }

  /** The entry's bytes, as a view that is valid until the next set() or delete(); none if held. */
  get(key: string): Buffer | undefined {
    const loc = this.where.get(key);
    if (loc === undefined || loc === HELD) return undefined;
    const slab = this.slabs[Math.floor(loc / OFFSET_UNITS)]!;
    const at = (loc % OFFSET_UNITS) * ALIGN;
    const len = slab.readUInt32LE(at);
    return slab.subarray(at + 4, at + 4 + len);
  }

  /** Stores a copy of the bytes; an existing key keeps its place in the order. */
  set(key: string, value: Uint8Array): void {
    const old = this.where.get(key);
    if (old === HELD) this.heldKeys--;
    else if (old !== undefined) this.release(old);
    this.where.set(key, this.append(value));
    if (old === undefined) this.oldest.added();
    this.compactIfWasteful();
  }

  delete(key: string): boolean {
    const loc = this.where.get(key);
    if (loc === undefined) return false;
    if (loc === HELD) this.heldKeys--;
    else this.release(loc);
    this.where.delete(key);
    this.oldest.deleted(key);
    return true;
  }

  /** The oldest key, or undefined when empty. */
  oldestKey(): string | undefined {
    return this.oldest.get();
  }

  private append(value: Uint8Array): number {
    const room = roundUp(4 + value.length);
    // A record must start within the first 8 MiB of its slab for its location to encode; an
    // oversized slab (one very large record) takes nothing after that record.
    if (this.current < 0 || this.pos + room > this.slabs[this.current]!.length || this.pos >= OFFSET_UNITS * ALIGN) this.startSlab(room);
    const slab = this.slabs[this.current]!;
    const at = this.pos;
    slab.set(value, at + 4);
    slab.writeUInt32LE(value.length, at);
    const used = roundUp(4 + value.length);
    this.pos += used;
    this.liveRecords[this.current]!++;
    this.totalUsed += used;
    return this.current * OFFSET_UNITS + at / ALIGN;
  }

  private release(loc: number): void {
    const i = Math.floor(loc / OFFSET_UNITS);
    const slab = this.slabs[i]!;
    const at = (loc % OFFSET_UNITS) * ALIGN;
    const size = roundUp(4 + slab.readUInt32LE(at));
    this.deadBytes[i]! += size;
    this.totalDead += size;
    if (--this.liveRecords[i]! === 0 && i !== this.current) this.freeSlab(i);
  }

  private startSlab(need: number): void {
    // Records larger than a slab (a very large key group) get a slab of their own size.
    const size = Math.max(this.slabBytes, need);
    const i = this.freeSlabs.pop() ?? this.slabs.length;
    this.slabs[i] = Buffer.allocUnsafeSlow(size);
    this.liveRecords[i] = 0;
    this.deadBytes[i] = 0;
    const previous = this.current;
    this.current = i;
    this.pos = 0;
    if (previous >= 0 && this.liveRecords[previous] === 0) this.freeSlab(previous);
  }

  private freeSlab(i: number): void {
    this.totalDead -= this.deadBytes[i]!;
    this.totalUsed -= this.deadBytes[i]!;
    this.slabs[i] = null;
    this.liveRecords[i] = 0;
    this.deadBytes[i] = 0;
    this.freeSlabs.push(i);
  }

  /**
   * Entries rewritten in place leave their old bytes behind in slabs that eviction may not empty
   * for a long time; once more than half of what the slabs hold is dead, every live entry is
   * copied into fresh slabs. Amortised over the rewrites that made the waste, this is O(1) each.
   */
  private compactIfWasteful(): void {
    if (this.totalDead < 4 * this.slabBytes || this.totalDead * 2 < this.totalUsed) return;
    // The views keep the old slabs' memory until the entries are copied into the new ones.
    const entries: [string, Buffer | undefined][] = [];
    for (const key of this.where.keys()) entries.push([key, this.get(key)]);
    for (let i = 0; i < this.slabs.length; i++) if (this.slabs[i]) this.freeSlab(i);
    this.current = -1;
    this.pos = 0;
    this.totalDead = 0;
    this.totalUsed = 0;
    for (const [key, value] of entries) this.where.set(key, value === undefined ? HELD : this.append(value));
  }
}

function roundUp(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}
