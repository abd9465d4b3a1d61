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
// The map's owner tells the cursor when it deletes a key (`deleted`), so a key deleted and added
// again, which goes to the back, is not taken for the front.
export class OldestKey<K> {
  private iterator: Iterator<K>;
  private head: K | undefined;

  constructor(private readonly map: Map<K, unknown>) {
    this.iterator = map.keys();
  }

  /** The map's oldest key, or undefined when it is empty. */
  get(): K | undefined {
    if (this.head !== undefined) return this.head;
    let next = this.iterator.next();
    if (next.done) {
      // A finished iterator stays finished: keys added since are read by a new one.
      this.iterator = this.map.keys();
      next = this.iterator.next();
      if (next.done) return undefined;
    }
    this.head = next.value;
    return this.head;
  }

  /** Call after deleting `key` from the map. */
  deleted(key: K): void {
    if (key === this.head) this.head = undefined;
  }
}
