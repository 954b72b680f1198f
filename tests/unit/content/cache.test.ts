/**
 * The content cache's in-process memory in front of Redis: when a process may serve a document from
 * memory, and when it must ask the shared cache (here the embedded one, shared by two "processes").
 */
import { describe, expect, it } from 'vitest';
import { contentCache } from '../../../services/content-bridge/content/cache.ts';
import type { ContentDoc } from '../../../services/content-bridge/content/model.ts';
import type { Cache } from '../../../services/kit/deps/cache.ts';
import { createMemoryCache } from '../../../services/kit/deps/embedded/memory-cache.ts';
import { createLogger } from '../../../services/kit/observability/logger.ts';

const logger = createLogger({ service: 'test', level: 'silent' });
const doc = (title: string) => ({ content_id: 'c1', title }) as ContentDoc;

/** Two processes on one shared cache: each its own connection (its own memory), reads counted. */
function sharedCache() {
  const inner = createMemoryCache();
  const connect = () => {
    const cache: Cache = Object.create(inner);
    const stats = { reads: 0, listening: true };
    cache.getMany = (keys) => {
      stats.reads++;
      return inner.getMany(keys);
    };
    Object.defineProperty(cache, 'listening', { get: () => stats.listening && inner.listening });
    return { cache, stats };
  };
  return { connect };
}

describe('content cache memory', () => {
  it('serves a hot document from memory: one shared-cache read, then none', async () => {
    const { cache, stats } = sharedCache().connect();
    const cc = contentCache(cache, logger, 300);
    let rows = 0;
    const load = async () => (rows++, doc('A'));
    expect(await cc.read('c1', load)).toEqual({ doc: doc('A'), hit: false });
    expect(await cc.read('c1', load)).toEqual({ doc: doc('A'), hit: true }); // from the shared cache
    const readsThen = stats.reads;
    for (let i = 0; i < 5; i++) expect(await cc.read('c1', load)).toEqual({ doc: doc('A'), hit: true });
    expect(stats.reads).toBe(readsThen);
    expect(rows).toBe(1);
  });

  it('forgets at once on an invalidation here, and on one announced by another process', async () => {
    const shared = sharedCache();
    const here = shared.connect();
    const there = shared.connect();
    const ccHere = contentCache(here.cache, logger, 300);
    const ccThere = contentCache(there.cache, logger, 300);
    let title = 'A';
    const load = async () => doc(title);
    await ccHere.read('c1', load);
    await ccHere.read('c1', load); // remembered here now
    title = 'B';
    await ccThere.invalidate('c1');
    expect(await ccHere.read('c1', load)).toEqual({ doc: doc('B'), hit: false });
    await ccHere.read('c1', load); // remembered again
    title = 'C';
    await ccHere.invalidate('c1');
    expect(await ccHere.read('c1', load)).toEqual({ doc: doc('C'), hit: false });
  });

  it('asks the shared cache on every read while the invalidation channel is down', async () => {
    const { cache, stats } = sharedCache().connect();
    const cc = contentCache(cache, logger, 300);
    const load = async () => doc('A');
    await cc.read('c1', load);
    await cc.read('c1', load);
    stats.listening = false;
    const readsThen = stats.reads;
    for (let i = 0; i < 3; i++) expect((await cc.read('c1', load)).hit).toBe(true);
    expect(stats.reads).toBe(readsThen + 3);
  });

  it('does not remember a document read before an invalidation and answered after it', async () => {
    const shared = sharedCache();
    const here = shared.connect();
    const there = shared.connect();
    const cc = contentCache(here.cache, logger, 300);
    await cc.read('c1', async () => doc('A')); // cached in the shared cache
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const inner = here.cache.getMany;
    here.cache.getMany = async (keys) => {
      const answer = await inner(keys);
      await held;
      return answer;
    };
    const slow = cc.read('c1', async () => doc('A'));
    await contentCache(there.cache, logger, 300).invalidate('c1');
    release();
    expect((await slow).doc?.title).toBe('A'); // it read the old generation: served, but not remembered
    here.cache.getMany = inner;
    expect(await cc.read('c1', async () => doc('B'))).toEqual({ doc: doc('B'), hit: false });
  });

  it('with rememberMs 0, always asks the shared cache', async () => {
    const { cache, stats } = sharedCache().connect();
    const cc = contentCache(cache, logger, 300, { rememberMs: 0 });
    const load = async () => doc('A');
    for (let i = 0; i < 4; i++) await cc.read('c1', load);
    expect(stats.reads).toBe(4);
  });
});
