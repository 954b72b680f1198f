import { describe, expect, it } from 'vitest';
import { hashPassword, passwordProblems, verifyPassword } from '../../../services/kit/auth/passwords.ts';

describe('argon2id passwords', () => {
  it('hashes with a random salt and verifies', async () => {
    const a = await hashPassword('correct horse battery');
    const b = await hashPassword('correct horse battery');
    expect(a).not.toBe(b);
    expect(a).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$[\w-]{22}\$[\w-]{43}$/);
    expect(await verifyPassword('correct horse battery', a)).toBe(true);
    expect(await verifyPassword('correct horse battery!', a)).toBe(false);
  });

  it('refuses malformed hashes instead of throwing', async () => {
    expect(await verifyPassword('x', 'plaintext')).toBe(false);
    expect(await verifyPassword('x', '$argon2i$v=19$m=1,t=1,p=1$aaaa$bbbb')).toBe(false);
  });

  it('applies the policy', () => {
    expect(passwordProblems({ password: 'short' })).toEqual(['must be at least 12 characters']);
    expect(passwordProblems({ password: 'Ranger_Rick_1', username: 'ranger_rick_1' })).toEqual(['must not equal the username']);
    expect(passwordProblems({ password: 'a@b.example.com', email: 'A@B.example.com' })).toEqual(['must not equal the email']);
    expect(passwordProblems({ password: 'a perfectly fine passphrase', username: 'x', email: 'y@z.com' })).toEqual([]);
    // Length counts characters, not UTF-16 units or bytes.
    expect(passwordProblems({ password: '🦌'.repeat(11) })).toEqual(['must be at least 12 characters']);
  });
});
