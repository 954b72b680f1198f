/**
 * The embedded cache and rate-limit store: a Map in this process with Redis's semantics for what the
 * services use: TTLs (expired keys read as absent), SET NX, and the fixed-window counter behind
 * `hit` (INCR, EXPIRE on the first hit; the window does not slide). Bounded: past `maxEntries`,
 * expired entries go first, then the least recently used (a Map keeps insertion order; reads and
 * writes move a key to the end). Only for one process: two processes would each see their own.
 */
import type { Cache, ChannelHandlers } from '../cache.ts';
import { DependencyUnavailableError } from '../errors.ts';

interface Entry {
  value: string;
  /** Epoch ms. */
  expiresAt: number;
}

export interface MemoryCacheOptions {
  /** Upper bound of the number of keys held (default 100,000). */
  maxEntries?: number;
  /** How often expired entries are swept, in ms (default 30 s). */
  sweepMs?: number;
  /** A clock, for tests. */
  now?: () => number;
}

export interface MemoryCache extends Cache {
  /** Live keys matching a glob with `*` (like Redis KEYS): for tests and diagnostics. */
  keys(pattern: string): string[];
  readonly size: number;
}

const ttlMs = (seconds: number) => Math.max(1, Math.ceil(seconds)) * 1000; // as the Redis driver: EX, at least 1 s

export function createMemoryCache(opts: MemoryCacheOptions = {}): MemoryCache {
  const maxEntries = opts.maxEntries ?? 100_000;
  const now = opts.now ?? Date.now;
  const map = new Map<string, Entry>();
  const channels = new Map<string, ChannelHandlers[]>();
  let closed = false;

  const sweep = () => {
    const t = now();
    for (const [key, entry] of map) if (entry.expiresAt <= t) map.delete(key);
  };
  const timer = setInterval(sweep, opts.sweepMs ?? 30_000);
  timer.unref();

  const live = (key: string): Entry | undefined => {
    const entry = map.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= now()) {
      map.delete(key);
      return undefined;
    }
    map.delete(key); // most recently used goes last
    map.set(key, entry);
    return entry;
  };
  const store = (key: string, entry: Entry) => {
    map.delete(key);
    map.set(key, entry);
    if (map.size > maxEntries) {
      sweep();
      // Still full: drop the least recently used (the Map's first keys).
      for (const oldest of map.keys()) {
        if (map.size <= maxEntries) break;
        map.delete(oldest);
      }
    }
  };
  const guard = () => {
    if (closed) throw new DependencyUnavailableError('redis', new Error('the in-process cache is closed'));
  };

  return {
    driver: 'memory',
    get size() {
      return map.size;
    },
    async get(key) {
      guard();
      return live(key)?.value ?? null;
    },
    async getMany(keys) {
      guard();
      return keys.map((key) => live(key)?.value ?? null);
    },
    async set(key, value, ttlSeconds) {
      guard();
      store(key, { value, expiresAt: now() + ttlMs(ttlSeconds) });
    },
    async setIfAbsent(key, value, ttlSeconds) {
      guard();
      if (live(key)) return false;
      store(key, { value, expiresAt: now() + ttlMs(ttlSeconds) });
      return true;
    },
    async del(...keys) {
      guard();
      for (const key of keys) map.delete(key);
    },
    async exists(key) {
      guard();
      return live(key) !== undefined;
    },
    async hit(key, windowSeconds) {
      guard();
      const entry = live(key);
      if (!entry) {
        const expiresAt = now() + ttlMs(windowSeconds);
        store(key, { value: '1', expiresAt });
        return { count: 1, ttlSeconds: Math.ceil((expiresAt - now()) / 1000) };
      }
      const count = Number(entry.value) + 1;
      entry.value = String(count);
      return { count, ttlSeconds: Math.max(1, Math.ceil((entry.expiresAt - now()) / 1000)) };
    },
    async ping() {
      guard();
    },
    async ready() {
      return !closed; // nothing to connect to
    },
    async publish(channel, message) {
      guard();
      for (const h of channels.get(channel) ?? []) h.message(message);
    },
    subscribe(channel, handlers) {
      channels.set(channel, [...(channels.get(channel) ?? []), handlers]);
    },
    get listening() {
      return !closed;
    },
    async close() {
      closed = true;
      clearInterval(timer);
      map.clear();
      channels.clear();
    },
    keys(pattern) {
      const re = new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*')}$`);
      const t = now();
      return [...map.entries()].filter(([k, e]) => e.expiresAt > t && re.test(k)).map(([k]) => k);
    },
  };
}
