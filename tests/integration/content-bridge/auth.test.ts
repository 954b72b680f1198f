/** Real auth against real PostgreSQL and Redis: registration, login, tokens, refresh, reset. */
import { createHash, generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectSql } from '../support/drivers.ts';
import { client, signUp, type Client } from '../support/http.ts';
import { startTestBridge, type TestBridge } from '../support/content-bridge.ts';

let bridge: TestBridge;
let api: Client;

beforeAll(async () => {
  bridge = await startTestBridge();
  api = client(bridge.url);
});
afterAll(() => bridge?.close());

const secret = () => bridge.bridge.context.tokens.verifyKey.export().toString('utf8');
const claims = (overrides: Record<string, unknown> = {}) => ({
  sub: '00000000-0000-4000-8000-000000000000',
  username: 'mallory',
  roles: ['admin'],
  jti: 'forged',
  iss: bridge.bridge.context.tokens.issuer,
  aud: bridge.bridge.context.tokens.audience,
  ...overrides,
});

describe('registration', () => {
  it('creates a student and hashes the password with argon2id', async () => {
    const res = await api.post('/auth/register', {
      username: 'hunter_one',
      email: 'Hunter.One@example.com',
      password: 'blaze-orange-vest',
      profile: { first_name: 'Ada', experience_level: 'beginner', interests: ['elk'] },
    });
    expect(res.status).toBe(201);
    expect(res.body.user).toMatchObject({
      username: 'hunter_one',
      email: 'Hunter.One@example.com',
      roles: ['student'],
      profile: { first_name: 'Ada', experience_level: 'beginner', interests: ['elk'], last_name: null },
      last_login: null,
    });
    expect(res.body.user).not.toHaveProperty('password_hash');
    const db = await connectSql(bridge.databaseUrl);
    const { rows } = await db.query('SELECT password_hash FROM users.users WHERE username = $1', ['hunter_one']);
    await db.end();
    expect(rows[0].password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(bridge.logLines.join('')).not.toContain('blaze-orange-vest');
  });

  it('serves the integration-spec alias path', async () => {
    const res = await api.post('/api/users/register', {
      username: 'alias_user',
      email: 'alias@example.com',
      password: 'long-enough-secret',
    });
    expect(res.status).toBe(201);
  });

  it('refuses duplicates of username or email, case-insensitively, with 409', async () => {
    const dupName = await api.post('/auth/register', {
      username: 'HUNTER_ONE',
      email: 'other@example.com',
      password: 'long-enough-secret',
    });
    expect(dupName.status).toBe(409);
    expect(dupName.headers.get('content-type')).toContain('application/problem+json');
    const dupEmail = await api.post('/auth/register', {
      username: 'someone',
      email: 'hunter.one@EXAMPLE.com',
      password: 'long-enough-secret',
    });
    expect(dupEmail.status).toBe(409);
  });

  it.each([
    ['short password', { username: 'shorty', email: 's@example.com', password: 'short' }, 'body.password'],
    ['password equal to username', { username: 'samesame_12', email: 'x@example.com', password: 'SAMESAME_12' }, 'body.password'],
    ['password equal to email', { username: 'mailpass', email: 'mailpass@example.com', password: 'mailpass@example.com' }, 'body.password'],
    ['bad email', { username: 'bademail', email: 'not-an-email', password: 'long-enough-secret' }, 'body.email'],
    ['bad username', { username: 'a b', email: 'ab@example.com', password: 'long-enough-secret' }, 'body.username'],
    ['unknown field', { username: 'extra', email: 'e@example.com', password: 'long-enough-secret', is_admin: true }, 'body'],
    [
      'unknown profile field',
      { username: 'extra2', email: 'e2@example.com', password: 'long-enough-secret', profile: { ssn: 1 } },
      'body.profile',
    ],
  ])('rejects %s with 422 naming the field', async (_name, body, location) => {
    const res = await api.post('/auth/register', body);
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ status: 422, title: 'Unprocessable Content' });
    expect(res.body.errors.some((e: { location: string }) => e.location === location)).toBe(true);
  });

  it('answers malformed JSON with 400 and oversized bodies with 413', async () => {
    const malformed = await api.call('POST', '/auth/register', { raw: '{"username":', headers: { 'content-type': 'application/json' } });
    expect(malformed.status).toBe(400);
    const huge = await api.call('POST', '/auth/register', {
      raw: JSON.stringify({ username: 'x'.repeat(1100 * 1024) }),
      headers: { 'content-type': 'application/json' },
    });
    expect(huge.status).toBe(413);
    expect(huge.body.type).toMatch(/^https:\/\//);
  });
});

describe('login', () => {
  beforeAll(async () => {
    await api.post('/auth/register', { username: 'tracker', email: 'tracker@example.com', password: 'follow-the-tracks' });
  });

  it('logs in by username or email and returns a token pair with no-store', async () => {
    for (const login of [{ username: 'tracker' }, { email: 'TRACKER@example.com' }]) {
      const res = await api.post('/api/authenticate', { ...login, password: 'follow-the-tracks' });
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.body).toMatchObject({ token_type: 'Bearer', expires_in: 900, user: { username: 'tracker' } });
      expect(res.body.refresh_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const decoded = jwt.decode(res.body.access_token, { complete: true }) as jwt.Jwt;
      expect(decoded.header.alg).toBe('HS256');
      expect(decoded.payload).toMatchObject({ iss: 'huntmaster-content-bridge', aud: 'huntmaster-platform', roles: ['student'] });
      expect((decoded.payload as jwt.JwtPayload).jti).toBeTruthy();
      expect((decoded.payload as jwt.JwtPayload).exp! - (decoded.payload as jwt.JwtPayload).iat!).toBe(900);
    }
    const me = await api.post('/auth/login', { username: 'tracker', password: 'follow-the-tracks' });
    expect(me.body.user.last_login).not.toBeNull();
  });

  it('gives the same 401 body for a wrong password and an unknown account', async () => {
    const wrong = await api.post('/auth/login', { username: 'tracker', password: 'not-the-password' });
    const unknown = await api.post('/auth/login', { username: 'nobody-here', password: 'not-the-password' });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    const strip = (b: Record<string, unknown>) => ({ ...b, request_id: undefined });
    expect(strip(wrong.body)).toEqual(strip(unknown.body));
  });

  it('requires exactly one of username and email', async () => {
    expect((await api.post('/auth/login', { password: 'x' })).status).toBe(422);
    expect((await api.post('/auth/login', { username: 'a', email: 'a@b.c', password: 'x' })).status).toBe(422);
  });
});

describe('access tokens', () => {
  let user: Awaited<ReturnType<typeof signUp>>;
  beforeAll(async () => {
    user = await signUp(api, { username: 'token_tester' });
  });

  it('validates a good token at /auth/token, from the body or the header', async () => {
    const fromBody = await api.post('/auth/token', { token: user.token });
    expect(fromBody.status).toBe(200);
    expect(fromBody.body).toMatchObject({ valid: true, roles: ['student'], user: { username: 'token_tester' } });
    const fromHeader = await api.post('/auth/token', undefined, user.token);
    expect(fromHeader.body.valid).toBe(true);
    expect((await api.get('/user/profile', user.token)).body.username).toBe('token_tester');
  });

  const tampered: Array<[string, () => string]> = [
    ['alg none', () => jwt.sign(claims(), '', { algorithm: 'none' })],
    ['a different HMAC algorithm', () => jwt.sign(claims(), secret(), { algorithm: 'HS512' })],
    [
      'RS256 signed by an attacker key',
      () =>
        jwt.sign(claims(), generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }), {
          algorithm: 'RS256',
        }),
    ],
    ['a wrong issuer', () => jwt.sign(claims({ iss: 'evil' }), secret(), { algorithm: 'HS256', expiresIn: 60 })],
    ['a wrong audience', () => jwt.sign(claims({ aud: 'other' }), secret(), { algorithm: 'HS256', expiresIn: 60 })],
    ['an expired token', () => jwt.sign({ ...claims(), exp: Math.floor(Date.now() / 1000) - 60 }, secret(), { algorithm: 'HS256' })],
    ['a wrong secret', () => jwt.sign(claims(), 'x'.repeat(40), { algorithm: 'HS256', expiresIn: 60 })],
    ['a token without jti', () => jwt.sign({ ...claims(), jti: undefined }, secret(), { algorithm: 'HS256', expiresIn: 60 })],
    [
      'a modified payload',
      () => {
        const [h, , s] = user.token.split('.');
        const payload = Buffer.from(JSON.stringify({ ...(jwt.decode(user.token) as object), roles: ['admin'] })).toString('base64url');
        return `${h}.${payload}.${s}`;
      },
    ],
  ];

  it.each(tampered)('rejects %s', async (_name, make) => {
    const token = make();
    const validate = await api.post('/auth/token', { token });
    expect(validate.status).toBe(401);
    expect(validate.body.valid).toBe(false);
    expect(typeof validate.body.error).toBe('string');
    const admin = await api.get('/admin/users', token);
    expect(admin.status).toBe(401);
    expect(admin.headers.get('www-authenticate')).toContain('Bearer');
  });

  it('accepts a correctly forged-looking token only when signed with the real secret (control case)', async () => {
    // Proves the tampering cases fail for the reason claimed: the same claims signed properly pass.
    const good = jwt.sign(claims({ sub: user.userId, jti: 'control-jti' }), secret(), { algorithm: 'HS256', expiresIn: 60 });
    expect((await api.post('/auth/token', { token: good })).status).toBe(200);
  });

  it('shows a role change in /auth/token at once (the short user cache forgets on write)', async () => {
    const admin = await api.post('/auth/login', { username: 'admin', password: bridge.adminCredentials.password });
    expect((await api.post('/auth/token', { token: user.token })).body.user.roles).toEqual(['student']);
    expect((await api.put(`/api/users/${user.userId}`, { roles: ['student', 'instructor'] }, admin.body.access_token)).status).toBe(200);
    const after = await api.post('/auth/token', { token: user.token });
    expect(after.body.user.roles).toEqual(['student', 'instructor']);
    expect(after.body.roles).toEqual(['student']); // the token's own claims are what they were when it was issued
    await api.put(`/api/users/${user.userId}`, { roles: ['student'] }, admin.body.access_token);
  });

  it('revokes the access token at logout, until it would have expired', async () => {
    const session = await api.post('/auth/login', { username: 'token_tester', password: user.password });
    const token = session.body.access_token as string;
    expect((await api.get('/api/users/me', token)).status).toBe(200);
    expect((await api.post('/auth/logout', {}, token)).status).toBe(204);
    expect((await api.get('/api/users/me', token)).status).toBe(401);
    const validate = await api.post('/auth/token', { token });
    // problem+json like every error, with the `valid` and `error` members the other modules read.
    expect(validate.headers.get('content-type')).toContain('application/problem+json');
    expect(validate.body).toMatchObject({ valid: false, error: 'token revoked', status: 401, detail: 'token revoked' });
    const ttl = await bridge.deps.cache.get(`revoked:${(jwt.decode(token) as jwt.JwtPayload).jti}`);
    expect(ttl).toBe('1');
  });
});

describe('refresh tokens', () => {
  it('rotates on use, and reuse of a rotated token revokes the whole family', async () => {
    const user = await signUp(api, { username: 'refresher' });
    const first = await api.post('/auth/refresh', { refresh_token: user.refresh });
    expect(first.status).toBe(200);
    expect(first.body.refresh_token).not.toBe(user.refresh);
    const second = await api.post('/auth/refresh', { refresh_token: first.body.refresh_token });
    expect(second.status).toBe(200);

    const reuse = await api.post('/auth/refresh', { refresh_token: user.refresh });
    expect(reuse.status).toBe(401);
    expect(reuse.body.detail).toMatch(/reuse/);
    // The newest token of the family is now dead too.
    expect((await api.post('/auth/refresh', { refresh_token: second.body.refresh_token })).status).toBe(401);
    // Another login is a different family and unaffected.
    const other = await api.post('/auth/login', { username: 'refresher', password: user.password });
    expect((await api.post('/auth/refresh', { refresh_token: other.body.refresh_token })).status).toBe(200);
  });

  it('stores refresh tokens only as hashes', async () => {
    const user = await signUp(api, { username: 'hashcheck' });
    const db = await connectSql(bridge.databaseUrl);
    const { rows } = await db.query('SELECT token_hash FROM users.refresh_tokens WHERE user_id = $1', [user.userId]);
    await db.end();
    expect(rows.map((r) => r.token_hash)).not.toContain(user.refresh);
    expect(rows[0].token_hash).toBe(createHash('sha256').update(user.refresh).digest('hex'));
  });

  it('rejects unknown refresh tokens', async () => {
    expect((await api.post('/auth/refresh', { refresh_token: 'x'.repeat(43) })).status).toBe(401);
  });
});

describe('password reset', () => {
  it('always answers 202, mails only real accounts, and the token works once', async () => {
    const user = await signUp(api, { username: 'forgetful' });
    const unknown = await api.post('/api/users/reset-password', { email: 'ghost@example.com' });
    const known = await api.post('/api/users/reset-password', { email: user.email });
    expect(unknown.status).toBe(202);
    expect(known.status).toBe(202);
    expect(unknown.body).toEqual(known.body);
    const mail = bridge.mail.filter((m) => m.email === user.email);
    expect(mail).toHaveLength(1);
    const token = new URL(mail[0]!.link).searchParams.get('token')!;

    const weak = await api.post('/api/users/reset-password', { token, new_password: 'short' });
    expect(weak.status).toBe(422);
    const done = await api.post('/api/users/reset-password', { token, new_password: 'a-brand-new-passphrase' });
    expect(done.status).toBe(204);
    expect((await api.post('/api/users/reset-password', { token, new_password: 'another-new-passphrase' })).status).toBe(400);
    expect((await api.post('/auth/login', { username: 'forgetful', password: user.password })).status).toBe(401);
    expect((await api.post('/auth/login', { username: 'forgetful', password: 'a-brand-new-passphrase' })).status).toBe(200);
    // Old sessions' refresh tokens were revoked by the reset.
    expect((await api.post('/auth/refresh', { refresh_token: user.refresh })).status).toBe(401);
  });

  it('rejects an expired token', async () => {
    const user = await signUp(api, { username: 'slowpoke' });
    await api.post('/api/users/reset-password', { email: user.email });
    const token = new URL(bridge.mail.find((m) => m.email === user.email)!.link).searchParams.get('token')!;
    await bridge.deps.db.query(`UPDATE users.password_resets SET expires_at = now() - interval '1 minute'`);
    expect((await api.post('/api/users/reset-password', { token, new_password: 'a-brand-new-passphrase' })).status).toBe(400);
  });
});

describe('rate limiting', () => {
  it('answers 429 with Retry-After once an account+IP exceeds its login limit', async () => {
    const limited = await startTestBridge({ rateRules: { loginPerAccount: { name: 'login-account', limit: 3, windowSeconds: 60 } } });
    try {
      const lapi = client(limited.url);
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await lapi.post('/auth/login', { username: 'victim', password: 'guess-' + i })).status);
      expect(statuses).toEqual([401, 401, 401, 429, 429]);
      const res = await lapi.post('/auth/login', { username: 'victim', password: 'guess' });
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(res.body.status).toBe(429);
      // A different account from the same IP is not limited by the per-account rule.
      expect((await lapi.post('/auth/login', { username: 'someone-else', password: 'guess' })).status).toBe(401);
    } finally {
      await limited.close();
    }
  });
});

describe('first admin', () => {
  it('is created from ADMIN_EMAIL and ADMIN_PASSWORD and can log in', async () => {
    const res = await api.post('/auth/login', { email: bridge.adminCredentials.email, password: bridge.adminCredentials.password });
    expect(res.status).toBe(200);
    expect(res.body.user.roles).toContain('admin');
    expect(bridge.logLines.join('')).not.toContain(bridge.adminCredentials.password);
  });
});
