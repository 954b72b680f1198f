/** Cache reads asked for in one batch of I/O go to Redis as one MGET; each caller gets its own values. */
import { describe, expect, it } from 'vitest';
import { coalescedReads } from '../../../services/kit/deps/cache.ts';

function fakeRedis(store: Record<string, string>) {
  const calls: string[][] = [];
  const mget = async (keys: string[]) => {
    calls.push(keys);
    return keys.map((k) => store[k] ?? null);
  };
  return { mget, calls };
}

describe('coalesced cache reads', () => {
  it('joins the reads of one turn of the event loop into one MGET, and answers each with its own keys', async () => {
    const redis = fakeRedis({ a: '1', b: '2', c: '3' });
    const read = coalescedReads(redis.mget);
    const answers = await Promise.all([read(['a']), read(['b', 'missing']), read(['c', 'a'])]);
    expect(answers).toEqual([['1'], ['2', null], ['3', '1']]);
    expect(redis.calls).toEqual([['a', 'b', 'missing', 'c', 'a']]);
  });

  it('sends reads of later turns in MGETs of their own', async () => {
    const redis = fakeRedis({ a: '1' });
    const read = coalescedReads(redis.mget);
    expect(await read(['a'])).toEqual(['1']);
    expect(await read(['a'])).toEqual(['1']);
    expect(redis.calls).toHaveLength(2);
  });

  it('fails every read of a batch with the MGET error', async () => {
    const read = coalescedReads(async () => {
      throw new Error('redis is down');
    });
    const results = await Promise.allSettled([read(['a']), read(['b'])]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect((results[0] as PromiseRejectedResult).reason).toEqual(new Error('redis is down'));
  });
});
