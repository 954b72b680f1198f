import { createSecretKey } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { describe, expect, it, vi } from 'vitest';
import { cachedVerifier, signAccessToken, TokenError, type TokenSettings } from '../../../services/kit/auth/tokens.ts';

const key = createSecretKey(Buffer.from('k'.repeat(40)));
const settings: TokenSettings = { algorithm: 'HS256', signingKey: key, verifyKey: key, issuer: 'i', audience: 'a', accessTtlSeconds: 60 };

describe('cachedVerifier', () => {
  it('returns the claims of a good token and keeps rejecting a bad one', () => {
    const verify = cachedVerifier(settings);
    const { token } = signAccessToken(settings, { userId: 'u1', username: 'u', roles: ['student'] });
    expect(verify(token).sub).toBe('u1');
    expect(verify(token).sub).toBe('u1');
    const forged = jwt.sign({ sub: 'u1', jti: 'x', roles: ['admin'] }, 'other-secret-other-secret-other-secret', {
      algorithm: 'HS256',
      issuer: 'i',
      audience: 'a',
      expiresIn: 60,
    });
    expect(() => verify(forged)).toThrow(TokenError);
    expect(() => verify(forged)).toThrow(TokenError); // a failure is never cached as a success
  });

  it('still enforces expiry for a cached token', () => {
    vi.useFakeTimers();
    try {
      const verify = cachedVerifier(settings);
      const { token } = signAccessToken(settings, { userId: 'u1', username: 'u', roles: [] });
      verify(token);
      vi.setSystemTime(Date.now() + 120_000);
      expect(() => verify(token)).toThrow(/expired/);
    } finally {
      vi.useRealTimers();
    }
  });

  it('stays bounded', () => {
    const verify = cachedVerifier(settings, 3);
    for (let i = 0; i < 10; i++) verify(signAccessToken(settings, { userId: `u${i}`, username: 'u', roles: [] }).token);
    expect(verify.size()).toBe(3);
  });
});
