/**
 * Revocation across processes on a real Redis: a "not revoked" answer is remembered in-process, so
 * these check that a revocation made elsewhere still takes effect at once (pub/sub), and that a lost
 * subscription forgets what was remembered. Each "process" is its own Redis client, as two replicas
 * would be. Uses its own Redis, since it kills connections and stops the server.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { revocationList } from '../../../services/kit/auth/revocation.ts';
import { createRedisCache, type Cache } from '../../../services/kit/deps/cache.ts';
import { createLogger } from '../../../services/kit/observability/logger.ts';
import { startRedis, waitUntil, type RedisHandle } from '../../harness/index.ts';

const logger = createLogger({ service: 'revocation-test', level: 'silent' });
const inAMinute = () => Math.floor(Date.now() / 1000) + 60;

describe('revocation list on Redis', () => {
  let redis: RedisHandle;
  let admin: Redis;
  const caches: Cache[] = [];
  const replica = async (prefix: string) => {
    const cache = createRedisCache(redis.url, { keyPrefix: prefix });
    caches.push(cache);
    await cache.ready(5000);
    const list = revocationList(cache, logger);
    await waitUntil('subscribed', async () => cache.listening, { timeoutMs: 5000 });
    return { cache, list };
  };
  /** Counts the EXISTS commands Redis runs while `fn` does, from INFO commandstats. */
  const existsCalls = async (fn: () => Promise<void>) => {
    const count = async () => Number(/cmdstat_exists:calls=(\d+)/.exec(await admin.info('commandstats'))?.[1] ?? 0);
    const before = await count();
    await fn();
    return (await count()) - before;
  };

  beforeAll(async () => {
    redis = await startRedis();
    admin = new Redis(redis.url);
  });
  afterAll(async () => {
    for (const cache of caches) await cache.close();
    admin.disconnect();
    await redis.close();
  });

  it('remembers "not revoked", and a revocation on another replica still applies at once', async () => {
    const prefix = `t${randomUUID().slice(0, 8)}:`;
    const a = await replica(prefix);
    const b = await replica(prefix);
    const jti = randomUUID();
    expect(await a.list.isRevoked(jti)).toBe(false);
    expect(await existsCalls(async () => void (await a.list.isRevoked(jti)))).toBe(0); // remembered

    await b.list.revoke(jti, inAMinute());
    // The announcement reaches A over its own connection, within milliseconds. The bound stays well
    // under the 10 s for which "not revoked" is remembered, so only the announcement can pass this,
    // while leaving room for a busy machine.
    await waitUntil('replica A sees the revocation', async () => a.list.isRevoked(jti), { timeoutMs: 5000 });
    expect(await b.list.isRevoked(jti)).toBe(true);
  });

  it('forgets everything when its subscription is lost, and asks Redis until it is back', async () => {
    const prefix = `t${randomUUID().slice(0, 8)}:`;
    const a = await replica(prefix);
    const jti = randomUUID();
    expect(await a.list.isRevoked(jti)).toBe(false);

    let resets = 0;
    a.cache.subscribe('revoked', { message: () => undefined, reset: () => resets++ });

    // Kill the subscriber connection, then revoke behind its back (no announcement at all).
    await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
    await admin.set(`${prefix}revoked:${jti}`, '1', 'EX', 60);
    await waitUntil('the process noticed the lost subscription', async () => resets > 0, { timeoutMs: 5000 });
    // Whether or not it has resubscribed yet, the old answer must not be reused.
    expect(await a.list.isRevoked(jti)).toBe(true);
    await waitUntil('resubscribed', async () => a.cache.listening, { timeoutMs: 5000 });
    expect(await a.list.isRevoked(jti)).toBe(true);
  });

  it('fails open while Redis is down, and remembers nothing from that time', async () => {
    const prefix = `t${randomUUID().slice(0, 8)}:`;
    const a = await replica(prefix);
    const jti = randomUUID();
    await redis.stop();
    try {
      expect(await a.list.isRevoked(jti)).toBe(false);
      // The subscriber learns that its connection closed asynchronously (later still on a busy machine).
      await waitUntil('A noticed its subscription is gone', async () => !a.cache.listening, { timeoutMs: 5000 });
      expect(await a.list.isRevoked(jti)).toBe(false);
    } finally {
      await redis.start();
    }
    expect(await a.cache.ready(10_000)).toBe(true);
    await waitUntil('admin reconnected', async () => (await admin.ping().catch(() => '')) === 'PONG', { timeoutMs: 10_000 });
    await admin.set(`${prefix}revoked:${jti}`, '1', 'EX', 60);
    expect(await a.list.isRevoked(jti)).toBe(true);
  });
});
