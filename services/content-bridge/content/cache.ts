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
 * - In front of Redis, each process remembers the documents it just served for a few seconds, as the
 *   revocation list remembers "not revoked" (kit/auth/revocation.ts): only while the cache's
 *   invalidation channel is live. Every invalidation is published there, and every process (this one
 *   at once) forgets that item; if the subscription drops, everything remembered is forgotten and
 *   reads go to Redis until it is back; a document read before an invalidation but stored after it
 *   is not remembered (the generation check). If an announcement is lost, other processes see the
 *   write within rememberMs. A hot item then costs no Redis round trip at all.
 */
import { randomUUID } from 'node:crypto';
import type { Cache } from '../../kit/deps/cache.ts';
import { DependencyUnavailableError } from '../../kit/deps/errors.ts';
import type { Logger } from '../../kit/observability/logger.ts';
import type { ContentDoc } from './model.ts';

export const CONTENT_CHANNEL = 'content-invalidated';
export const genKey = (id: string) => `content:${id}:gen`;
export const docKey = (id: string) => `content:${id}:doc`;

/** A cached document remembers the generation it was read under; it is valid only while that is current. */
interface Entry {
  gen: string;
  doc: ContentDoc;
}

export interface LocalOptions {
  /** How long a document is served from process memory (default 5 s); 0: always ask Redis. */
  rememberMs?: number;
  /** Bound of the remembered documents (default 10,000, oldest dropped first). */
  maxRemembered?: number;
}

/** The documents this process remembers, one store per cache connection (every contentCache of a process shares it). */
interface Local {
  docs: Map<string, { doc: ContentDoc; until: number }>;
  generation: number;
  forget(id?: string): void;
}

const locals = new WeakMap<Cache, Local>();

function localFor(cache: Cache): Local {
  let local = locals.get(cache);
  if (!local) {
    const created: Local = {
      docs: new Map(),
      generation: 0,
      forget(id) {
        created.generation++;
        if (id === undefined) created.docs.clear();
        else created.docs.delete(id);
      },
    };
    cache.subscribe(CONTENT_CHANNEL, { message: (id) => created.forget(id), reset: () => created.forget() });
    locals.set(cache, (local = created));
  }
  return local;
}

export function contentCache(cache: Cache, logger: Logger, ttlSeconds: number, opts: LocalOptions = {}) {
  // A generation must outlive every document stored under the previous one.
  const genTtl = Math.max(24 * 3600, ttlSeconds * 2 + 3600);
  const rememberMs = opts.rememberMs ?? 5000;
  const maxRemembered = opts.maxRemembered ?? 10_000;
  const local = rememberMs > 0 ? localFor(cache) : undefined;

  /** Keeps `doc` in memory, unless an invalidation came since `asked` or the channel is down. */
  function remember(id: string, doc: ContentDoc, asked: number) {
    if (!local || !cache.listening || asked !== local.generation) return;
    if (local.docs.size >= maxRemembered) local.docs.delete(local.docs.keys().next().value!);
    local.docs.delete(id); // re-insert at the end: the Map's order is the eviction order
    local.docs.set(id, { doc, until: Date.now() + rememberMs });
  }

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
      if (local && cache.listening) {
        const remembered = local.docs.get(id);
        if (remembered && remembered.until > Date.now()) return { doc: remembered.doc, hit: true };
      }
      const asked = local?.generation ?? 0;
      // One round trip for both the generation and the document.
      const pair = await soft('get', () => cache.getMany([genKey(id), docKey(id)]));
      const gen = pair ? (pair[0] ?? '0') : undefined;
      if (pair?.[1]) {
        const entry = JSON.parse(pair[1]) as Entry;
        if (entry.gen === gen) {
          remember(id, entry.doc, asked);
          return { doc: entry.doc, hit: true };
        }
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
        local?.forget(id); // after the write: a read that saw the old generation cannot be remembered now
        await soft('announce', () => cache.publish(CONTENT_CHANNEL, id));
      }
    },
  };
}

export type ContentCache = ReturnType<typeof contentCache>;
