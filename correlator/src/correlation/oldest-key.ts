// The oldest key of a Map used as a bounded insertion-ordered map, found in O(1) amortised.
//
// V8 keeps a Map's entries in insertion order and marks a deleted one as a hole, reclaimed only
// when the table is next rebuilt (when it fills up). A map that loses its oldest key for every
// key it gains piles those holes up at its front, and `map.keys().next()` walks over all of them
// each time: at a million keys an eviction cost 10-36 µs, more than correlating a whole span, and
// more the larger the map. A Map iterator, though, is live: it skips holes as it goes, sees keys
// added after it was made, and survives rebuilds. Kept from one eviction to the next, it passes
// each hole once.
//
// An iterator that does not move keeps every table the map has outgrown since: a million keys
// added under a parked iterator held 28 MiB more heap. So the iterator is made at the first
// eviction, not before, and let go once the map has doubled without it moving. Letting it go is
// always safe: a new one starts at the oldest key, past the holes, which no eviction made since.
//
// The map's owner tells the cursor when it adds a key (`added`) and when it deletes one
// (`deleted`), so a key deleted and added again, which goes to the back, is not taken for the front.
export class OldestKey<K> {
  private iterator: Iterator<K> | undefined;
  private head: K | undefined;
  /** The map's size when the iterator last moved. */
  private sizeWhenMoved = 0;

  constructor(private readonly map: Map<K, unknown>) {}

  /** The map's oldest key, or undefined when it is empty. */
  get(): K | undefined {
    if (this.head !== undefined) return this.head;
    this.iterator ??= this.map.keys();
    let next = this.iterator.next();
    if (next.done) {
      // A finished iterator stays finished: keys added since are read by a new one.
      this.iterator = this.map.keys();
      next = this.iterator.next();
    }
    this.sizeWhenMoved = this.map.size;
    if (next.done) return undefined;
    this.head = next.value;
    return this.head;
  }

  /** Call after adding a new key to the map. */
  added(): void {
    if (this.iterator !== undefined && this.map.size > 2 * this.sizeWhenMoved + 64)
      this.iterator = undefined;
  }

  /** Call after deleting `key` from the map. */
  deleted(key: K): void {
    if (key === this.head) this.head = undefined;
  }
}
