/**
 * Loaded models kept in memory: an LRU bounded by BYTES (each model's `approxBytes`), with
 * single-flight loading (concurrent first requests for one model share one load) and a short memory
 * of failed loads (a vanished or corrupt artifact is not fetched again on every request).
 *
 * The newest entry is always kept, even when it alone exceeds the budget: a model larger than the
 * whole cache still serves, it just evicts everything else.
 */
export interface ModelCacheOptions {
  maxBytes: number;
  /** How long a failed load is remembered (its error is rethrown meanwhile); 0 retries every time. */
  retryAfterMs: number;
  /** Called after every change, e.g. to update a gauge. */
  onChange?: (stats: { bytes: number; entries: number }) => void;
  now?: () => number;
}

export interface Loaded<T> {
  value: T;
  bytes: number;
}

export class ModelCache<T> {
  readonly #opts: ModelCacheOptions;
  readonly #entries = new Map<string, Loaded<T>>();
  readonly #inflight = new Map<string, Promise<T>>();
  readonly #failures = new Map<string, { error: unknown; until: number }>();
  #bytes = 0;
  /** Loads started (not served from memory), for tests and metrics. */
  loads = 0;

  constructor(opts: ModelCacheOptions) {
    this.#opts = opts;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get size(): number {
    return this.#entries.size;
  }

  keys(): string[] {
    return [...this.#entries.keys()];
  }

  /** The cached value (marked most recently used), without loading. */
  peek(key: string): T | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry.value;
  }

  /** The cached value, or the result of `load` (one load per key at a time). */
  get(key: string, load: () => Promise<Loaded<T>>): Promise<T> {
    const hit = this.peek(key);
    if (hit !== undefined) return Promise.resolve(hit);
    const pending = this.#inflight.get(key);
    if (pending) return pending;
    const now = this.#opts.now?.() ?? Date.now();
    const failure = this.#failures.get(key);
    if (failure) {
      if (failure.until > now) return Promise.reject(failure.error);
      this.#failures.delete(key);
    }
    this.loads++;
    const promise = (async () => {
      try {
        const loaded = await load();
        this.#insert(key, loaded);
        return loaded.value;
      } catch (error) {
        if (this.#opts.retryAfterMs > 0)
          this.#failures.set(key, { error, until: (this.#opts.now?.() ?? Date.now()) + this.#opts.retryAfterMs });
        throw error;
      } finally {
        this.#inflight.delete(key);
      }
    })();
    this.#inflight.set(key, promise);
    return promise;
  }

  evict(key: string): void {
    const entry = this.#entries.get(key);
    this.#failures.delete(key);
    if (!entry) return;
    this.#entries.delete(key);
    this.#bytes -= entry.bytes;
    this.#changed();
  }

  /** Evicts every key that starts with `prefix` (e.g. all versions of one model). */
  evictPrefix(prefix: string): void {
    for (const key of [...this.#entries.keys(), ...this.#failures.keys()]) if (key.startsWith(prefix)) this.evict(key);
  }

  clear(): void {
    this.#entries.clear();
    this.#failures.clear();
    this.#bytes = 0;
    this.#changed();
  }

  #insert(key: string, loaded: Loaded<T>): void {
    const old = this.#entries.get(key);
    if (old) {
      this.#entries.delete(key);
      this.#bytes -= old.bytes;
    }
    this.#entries.set(key, loaded);
    this.#bytes += loaded.bytes;
    // Evict least recently used entries, never the one just inserted.
    for (const [k, entry] of this.#entries) {
      if (this.#bytes <= this.#opts.maxBytes || k === key) break;
      this.#entries.delete(k);
      this.#bytes -= entry.bytes;
    }
    this.#changed();
  }

  #changed(): void {
    this.#opts.onChange?.({ bytes: this.#bytes, entries: this.#entries.size });
  }
}
