// What V8 objects cost on the heap, for the estimates hot state bounds itself by (live-entry-bytes.ts,
// stitching/naming-index.ts). Node 20 on x64 has no pointer compression: a slot is 8 bytes.

/** A slot of an object, array or table: a pointer or a small integer. */
export const SLOT_BYTES = 8;
/** A double held in a field: a HeapNumber box of its own (fields hold no raw doubles). */
export const BOXED_DOUBLE_BYTES = 16;
/** An array object, its backing store's header apart. */
const ARRAY_BYTES = 32 + 16;

/** The room V8 gives an array grown by push to `n` elements: from 0, each time full, 1.5 × (length + 1) + 16. */
export function pushedCapacity(n: number): number {
  if (n < PUSHED_CAPACITY.length) return PUSHED_CAPACITY[n]!;
  let capacity = 0;
  while (capacity < n) capacity = capacity + 1 + ((capacity + 1) >> 1) + 16;
  return capacity;
}

// Looked up for the lengths hot state's lists mostly have: live entries are counted each batch
// that changes them, six lists a trace.
const PUSHED_CAPACITY = new Uint16Array(1024);
for (let n = 1, capacity = 0; n < PUSHED_CAPACITY.length; n++) {
  while (capacity < n) capacity = capacity + 1 + ((capacity + 1) >> 1) + 16;
  PUSHED_CAPACITY[n] = capacity;
}

/** An array of `n` elements grown by push (an empty one shares V8's empty backing store). */
export function pushedArrayBytes(n: number): number {
  return n === 0 ? 32 : ARRAY_BYTES + SLOT_BYTES * pushedCapacity(n);
}

/** A flat one-byte string of `length` characters (ids, keys and names are ASCII). */
export function stringBytes(length: number): number {
  return (16 + length + 7) & ~7;
}

/**
 * A Map or Set of `n` entries of `slotsPerEntry` slots (key and chain, and a value for a Map): its
 * table's capacity is a power of two, at least 4, with a bucket per two entries.
 */
export function hashTableBytes(n: number, slotsPerEntry: number): number {
  // The next power of two: Maps and Sets of hot state hold far fewer than 2^30 entries.
  const capacity = n <= 4 ? 4 : 1 << (32 - Math.clz32(n - 1));
  return 72 + capacity * (SLOT_BYTES * slotsPerEntry + SLOT_BYTES / 2);
}
