import { describe, expect, it } from 'vitest';
import { presignCache } from '../../../services/kit/deps/object-store.ts';

describe('presigned URL reuse', () => {
  it('reuses a URL for half its lifetime, then signs again, and forgets removed objects', async () => {
    let signed = 0;
    const cache = presignCache();
    const sign = async () => `url-${++signed}`;
    expect(await cache.get('a.pdf', 900, sign)).toBe('url-1');
    expect(await cache.get('a.pdf', 900, sign)).toBe('url-1');
    expect(await cache.get('a.pdf', 60, sign)).toBe('url-2'); // another lifetime is another URL
    cache.forget('a.pdf');
    expect(await cache.get('a.pdf', 900, sign)).toBe('url-3');
    const short = presignCache();
    expect(await short.get('b', 0.001, sign)).toBe('url-4');
    await new Promise((r) => setTimeout(r, 5));
    expect(await short.get('b', 0.001, sign)).toBe('url-5');
  });

  it('holds at most maxEntries URLs, dropping the oldest', async () => {
    let signed = 0;
    const cache = presignCache(2);
    const sign = async () => `url-${++signed}`;
    await cache.get('a', 900, sign);
    await cache.get('b', 900, sign);
    await cache.get('c', 60, sign); // evicts a
    expect(await cache.get('b', 900, sign)).toBe('url-2');
    expect(await cache.get('c', 60, sign)).toBe('url-3');
    expect(await cache.get('a', 900, sign)).toBe('url-4'); // signed again, evicting b
    expect(await cache.get('b', 900, sign)).toBe('url-5');
  });
});
