/**
 * A size-bounded map, for every cache and record filled from the network:
 * whatever arrives, what is kept stays within a count.
 *
 * @module
 */

/**
 * A `Map` holding at most `maxEntries` entries: setting a key moves it to
 * the end, and past the limit the oldest entries are dropped.
 */
export class BoundedMap<K, V> {
  readonly #map = new Map<K, V>();
  readonly #max: number;

  /** @param maxEntries - the most entries kept (at least 1). */
  constructor(maxEntries: number) {
    this.#max = Math.max(1, Math.floor(maxEntries));
  }

  /** The value of `key`, if held. */
  get(key: K): V | undefined {
    return this.#map.get(key);
  }

  /** Sets `key`, making it the newest entry, and drops the oldest past the limit. */
  set(key: K, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, value);
    while (this.#map.size > this.#max) {
      const oldest = this.#map.keys().next();
      if (oldest.done === true) break;
      this.#map.delete(oldest.value);
    }
  }

  /** Removes `key`. */
  delete(key: K): void {
    this.#map.delete(key);
  }

  /** Removes everything. */
  clear(): void {
    this.#map.clear();
  }

  /** The entries, oldest first. */
  entries(): IterableIterator<[K, V]> {
    return this.#map.entries();
  }

  /** How many entries are held. */
  get size(): number {
    return this.#map.size;
  }
}
