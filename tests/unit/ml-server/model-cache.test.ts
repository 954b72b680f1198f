import { describe, expect, it } from 'vitest';
import { ModelCache } from '../../../services/ml-server/serving/model-cache.ts';

const loaded = (value: string, bytes: number) => async () => ({ value, bytes });

describe('ModelCache', () => {
  it('evicts least recently used entries to stay within the byte budget', async () => {
    const changes: number[] = [];
    const cache = new ModelCache<string>({ maxBytes: 100, retryAfterMs: 0, onChange: (s) => changes.push(s.bytes) });
    await cache.get('a', loaded('A', 40));
    await cache.get('b', loaded('B', 40));
    expect(cache.peek('a')).toBe('A'); // a is now the most recently used
    await cache.get('c', loaded('C', 40));
    expect(cache.keys()).toEqual(['a', 'c']);
    expect(cache.bytes).toBe(80);
    expect(changes.at(-1)).toBe(80);
  });

  it('keeps a model larger than the whole budget, alone', async () => {
    const cache = new ModelCache<string>({ maxBytes: 100, retryAfterMs: 0 });
    await cache.get('a', loaded('A', 40));
    await cache.get('huge', loaded('H', 500));
    expect(cache.keys()).toEqual(['huge']);
    expect(cache.bytes).toBe(500);
  });

  it('loads once for concurrent requests of one key', async () => {
    const cache = new ModelCache<string>({ maxBytes: 100, retryAfterMs: 0 });
    let calls = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const load = async () => {
      calls++;
      await gate;
      return { value: 'A', bytes: 1 };
    };
    const all = Promise.all([cache.get('a', load), cache.get('a', load), cache.get('a', load)]);
    release();
    expect(await all).toEqual(['A', 'A', 'A']);
    expect(calls).toBe(1);
    expect(cache.loads).toBe(1);
  });

  it('remembers a failed load for the retry window, then tries again', async () => {
    let now = 1000;
    const cache = new ModelCache<string>({ maxBytes: 100, retryAfterMs: 500, now: () => now });
    let calls = 0;
    const failing = async () => {
      calls++;
      throw new Error('artifact missing');
    };
    await expect(cache.get('a', failing)).rejects.toThrow('artifact missing');
    await expect(cache.get('a', failing)).rejects.toThrow('artifact missing');
    expect(calls).toBe(1);
    now += 501;
    await expect(cache.get('a', loaded('A', 1))).resolves.toBe('A');
    expect(cache.size).toBe(1);
  });

  it('evicts by prefix', async () => {
    const cache = new ModelCache<string>({ maxBytes: 100, retryAfterMs: 0 });
    await cache.get('m1:1:x', loaded('1', 1));
    await cache.get('m1:2:y', loaded('2', 1));
    await cache.get('m2:1:z', loaded('3', 1));
    cache.evictPrefix('m1:1:');
    expect(cache.keys()).toEqual(['m1:2:y', 'm2:1:z']);
    cache.clear();
    expect(cache.bytes).toBe(0);
  });
});
