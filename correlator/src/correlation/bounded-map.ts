/**
 * A Map that holds at most `max` entries, evicting the oldest inserted first. Insertion order
 * approximates age for trace and key state, and eviction stays O(1) per insert.
 */
export class BoundedMap<K, V> {
  private readonly map = new Map<K, V>();
  evictions = 0;

  constructor(
    private readonly max: number,
    private readonly onEvict?: (key: K, value: V) => void,
  ) {}

  get size(): number {
    return this.map.size;
  }

  get(key: K): V | undefined {
    return this.map.get(key);
  }

  has(key: K): boolean {
    return this.map.has(key);
  }

  set(key: K, value: V): void {
    if (!this.map.has(key) && this.map.size >= this.max) {
      const oldest = this.map.keys().next();
      if (!oldest.done) {
        const v = this.map.get(oldest.value)!;
        this.map.delete(oldest.value);
        this.evictions++;
        this.onEvict?.(oldest.value, v);
      }
    }
    this.map.set(key, value);
  }

  delete(key: K): boolean {
    return this.map.delete(key);
  }

  values(): IterableIterator<V> {
    return this.map.values();
  }
}
