/**
 * Read-through cache of content documents in Redis, keyed by a per-item generation.
 *
 * - What is cached: the item without its presigned URLs (`ContentDoc`); URLs are signed fresh on every
 *   response (signing is a local HMAC), so a cached entry can never hand out an expired URL.
 * - Invalidation: every write sets `content:<id>:gen` to a new random value; a document is stored at
 *   `content:<id>:doc` together with the generation it was read under, and both keys are read in one
 *   round trip. A reader that loaded the old row just before a write stores it under the old
 *   generation, which no later reader accepts, so a slow reader cannot re-poison the cache after an
 *   invalidation (the race a plain DEL has).
 * - Redis down: every cache call may throw DependencyUnavailableError; reads fall back to Postgres and
 *   writes skip invalidation with a warning (entries expire after CONTENT_CACHE_TTL_SECONDS anyway).
 */
import { randomUUID } from 'node:crypto';
import type { Cache } from '../../kit/deps/cache.ts';
import { DependencyUnavailableError } from '../../kit/deps/errors.ts';
import type { Logger } from '../../kit/observability/logger.ts';
import type { ContentDoc } from './model.ts';

export const genKey = (id: string) => `content:${id}:gen`;
export const docKey = (id: string) => `content:${id}:doc`;

/** A cached document remembers the generation it was read under; it is valid only while that is current. */
interface Entry {
  gen: string;
  doc: ContentDoc;
}

export function contentCache(cache: Cache, logger: Logger, ttlSeconds: number) {
  // A generation must outlive every document stored under the previous one.
  const genTtl = Math.max(24 * 3600, ttlSeconds * 2 + 3600);

  async function soft<T>(what: string, fn: () => Promise<T>): Promise<T | undefined> {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof DependencyUnavailableError)) throw err;
      logger.warn({ op: what }, 'content cache unavailable; using the database');
      return undefined;
    }
  }

  return {
    /** The item from the cache, or from `load` (then cached). `hit` tells which. */
    async read(id: string, load: () => Promise<ContentDoc | undefined>): Promise<{ doc: ContentDoc | undefined; hit: boolean }> {
      // One round trip for both the generation and the document.
      const pair = await soft('get', () => cache.getMany([genKey(id), docKey(id)]));
      const gen = pair ? (pair[0] ?? '0') : undefined;
      if (pair?.[1]) {
        const entry = JSON.parse(pair[1]) as Entry;
        if (entry.gen === gen) return { doc: entry.doc, hit: true };
      }
      const doc = await load();
      // Only when the generation was read: otherwise Redis was down and nothing should be stored.
      if (doc && gen !== undefined) {
        const entry: Entry = { gen, doc };
        await soft('set', () => cache.set(docKey(id), JSON.stringify(entry), ttlSeconds));
      }
      return { doc, hit: false };
    },
    /** Makes every cached copy of these items unreachable. Call after the database write committed. */
    async invalidate(...ids: string[]): Promise<void> {
      for (const id of new Set(ids)) {
        await soft('invalidate', () => cache.set(genKey(id), randomUUID(), genTtl));
      }
    },
  };
}

export type ContentCache = ReturnType<typeof contentCache>;
