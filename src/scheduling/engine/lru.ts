/**
 * A bounded map that forgets its least recently used entry first: the one shape in-memory state
 * takes in this service (docs/architecture.md, "Per-instance state" lists every use, its name and
 * size). Pure and dependency-free, so the engine may use it too.
 *
 * `get` and `set` count as uses (the entry becomes the most recent); `peek` and `has` do not.
 * Setting a new key when `max` entries are held forgets the least recently used one.
 */
export class Lru<K, V> {
  private readonly map = new Map<K, V>();

  constructor(
    /** What the cache holds, as the per-instance state table names it, e.g. `zone-calendar.days`. */
    readonly name: string,
    /** The most entries it keeps. */
    readonly max: number,
  ) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`${name}: max must be a positive integer, not ${max}`);
  }

  get size(): number {
    return this.map.size;
  }

  has(key: K): boolean {
    return this.map.has(key);
  }

  /** The value, now the most recently used; undefined when absent. */
  get(key: K): V | undefined {
    const value = this.map.get(key);
    if (value === undefined && !this.map.has(key)) return undefined;
    this.map.delete(key);
    this.map.set(key, value as V);
    return value;
  }

  /** The value, leaving the order as it is. */
  peek(key: K): V | undefined {
    return this.map.get(key);
  }

  /** Stores the value as the most recently used, forgetting the least recently used beyond `max`. */
  set(key: K, value: V): this {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value as K);
    return this;
  }

  delete(key: K): boolean {
    return this.map.delete(key);
  }

  clear(): void {
    this.map.clear();
  }

  /** Keys from the least to the most recently used. */
  keys(): IterableIterator<K> {
    return this.map.keys();
  }
}
