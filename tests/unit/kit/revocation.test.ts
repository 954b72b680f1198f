/** The in-process memory of "not revoked" answers: when it may and may not be reused. */
import { describe, expect, it } from 'vitest';
import { revocationList } from '../../../services/kit/auth/revocation.ts';
import type { Cache } from '../../../services/kit/deps/cache.ts';
import { createMemoryCache } from '../../../services/kit/deps/embedded/memory-cache.ts';
import { createLogger } from '../../../services/kit/observability/logger.ts';

const logger = createLogger({ service: 'test', level: 'silent' });
const inAMinute = () => Math.floor(Date.now() / 1000) + 60;

/** The embedded cache, with EXISTS counted and optionally held until released. */
function observedCache() {
  const inner = createMemoryCache();
  let hold: Promise<void> | undefined;
  const cache: Cache & { exists: Cache['exists'] } = Object.create(inner);
  const stats = { exists: 0 };
  cache.exists = async (key) => {
    stats.exists++;
    const answer = inner.exists(key);
    if (hold) await hold;
    return answer;
  };
  return {
    cache,
    stats,
    holdExists() {
      let release!: () => void;
      hold = new Promise((r) => (release = r));
      return () => {
        hold = undefined;
        release();
      };
    },
  };
}

describe('revocation list memory', () => {
  it('asks the cache once per token while nothing is revoked', async () => {
    const { cache, stats } = observedCache();
    const list = revocationList(cache, logger);
    for (let i = 0; i < 5; i++) expect(await list.isRevoked('a')).toBe(false);
    expect(stats.exists).toBe(1);
    expect(await list.isRevoked('b')).toBe(false);
    expect(stats.exists).toBe(2);
  });

  it('a revocation announced by another instance applies to the next check', async () => {
    const { cache } = observedCache();
    const here = revocationList(cache, logger);
    const elsewhere = revocationList(cache, logger);
    expect(await here.isRevoked('a')).toBe(false);
    await elsewhere.revoke('a', inAMinute());
    expect(await here.isRevoked('a')).toBe(true);
  });

  it('does not remember a "no" that was asked before a revocation and answered after it', async () => {
    const { cache, stats, holdExists } = observedCache();
    const here = revocationList(cache, logger);
    const elsewhere = revocationList(cache, logger);
    const release = holdExists();
    const stale = here.isRevoked('a'); // reads "absent" now, answers later
    await elsewhere.revoke('a', inAMinute());
    release();
    expect(await stale).toBe(false); // it was asked before the revocation
    expect(await here.isRevoked('a')).toBe(true); // but that answer was not kept
    expect(stats.exists).toBe(2);
  });

  it('asks every time when told not to remember', async () => {
    const { cache, stats } = observedCache();
    const list = revocationList(cache, logger, { rememberMs: 0 });
    for (let i = 0; i < 3; i++) await list.isRevoked('a');
    expect(stats.exists).toBe(3);
  });

  it('keeps at most maxRemembered answers', async () => {
    const { cache, stats } = observedCache();
    const list = revocationList(cache, logger, { maxRemembered: 2 });
    for (const jti of ['a', 'b', 'c']) await list.isRevoked(jti);
    await list.isRevoked('c');
    await list.isRevoked('b');
    expect(stats.exists).toBe(3);
    await list.isRevoked('a'); // the oldest was dropped
    expect(stats.exists).toBe(4);
  });
});
