import { describe, expect, it } from 'vitest';
import { RateLimiter, WorkQueue } from '../../../operator/controller/workqueue.ts';

describe('WorkQueue', () => {
  it('de-duplicates keys that are waiting', async () => {
    const q = new WorkQueue();
    q.add('ns/a');
    q.add('ns/a');
    q.add('ns/b');
    expect(q.length).toBe(2);
    expect(await q.get()).toBe('ns/a');
    expect(await q.get()).toBe('ns/b');
  });

  it('never hands one key to two workers: a key added while processing waits for done()', async () => {
    const q = new WorkQueue();
    q.add('ns/a');
    const first = await q.get();
    q.add('ns/a'); // an event arrives mid-reconcile
    expect(q.length).toBe(0);
    let second: string | undefined;
    void q.get().then((k) => (second = k));
    await new Promise((r) => setTimeout(r, 10));
    expect(second).toBeUndefined();
    q.done(first!);
    await new Promise((r) => setTimeout(r, 0));
    expect(second).toBe('ns/a');
  });

  it('wakes a waiting worker on add and returns undefined after shutdown', async () => {
    const q = new WorkQueue();
    const waiting = q.get();
    q.add('k');
    expect(await waiting).toBe('k');
    const after = q.get();
    q.shutDown();
    expect(await after).toBeUndefined();
  });

  it('addAfter keeps the earliest schedule', async () => {
    const q = new WorkQueue();
    q.addAfter('k', 1000);
    q.addAfter('k', 20);
    q.addAfter('k', 500);
    expect(await Promise.race([q.get(), new Promise((r) => setTimeout(() => r('timeout'), 300))])).toBe('k');
    q.shutDown();
  });
});

describe('RateLimiter', () => {
  it('backs off per key exponentially from 5 ms, capped at 1000 s, and forgets', () => {
    let now = 0;
    const limiter = new RateLimiter({ baseDelayMs: 5, maxDelayMs: 1000_000, qps: 1e9, burst: 1e9 }, () => now);
    expect([1, 2, 3, 4].map(() => limiter.when('a'))).toEqual([5, 10, 20, 40]);
    expect(limiter.when('b')).toBe(5); // per key
    for (let i = 0; i < 30; i++) limiter.when('a');
    expect(limiter.when('a')).toBe(1000_000);
    limiter.forget('a');
    expect(limiter.when('a')).toBe(5);
    now += 1;
  });

  it('applies a global token bucket of 10 qps with a burst of 100', () => {
    const now = 0;
    const limiter = new RateLimiter(undefined, () => now);
    const delays = Array.from({ length: 120 }, (_, i) => limiter.when(`key-${i}`));
    expect(delays.slice(0, 100).every((d) => d === 5)).toBe(true);
    expect(delays[100]).toBeCloseTo(100, 5); // 101st token is 0.1 s away at 10 qps
    expect(delays[119]).toBeCloseTo(2000, 5);
  });
});
