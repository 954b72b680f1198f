/** Webhooks (auth, signatures, replay, idempotency, audit), SSO, and the integration health check. */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signWebhook } from '../../../services/content-bridge/integrations/service-auth.ts';
import { client, type Client } from '../support/http.ts';
import { startTestBridge, type TestBridge } from '../support/content-bridge.ts';

const CURRICULUM_TOKEN = `curr-${randomBytes(16).toString('hex')}`;
const USERS_TOKEN = `user-${randomBytes(16).toString('hex')}`;
const SHARED_SECRET = randomBytes(32).toString('hex');
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });

let bridge: TestBridge;
let api: Client;
let modules: Server;
let modulesUrl: string;
let adminToken: string;

beforeAll(async () => {
  // One local server plays the other modules: a JWKS endpoint and health endpoints that behave differently.
  modules = createServer((req, res) => {
    if (req.url === '/jwks') {
      const jwk = rsa.publicKey.export({ format: 'jwk' });
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ keys: [{ ...jwk, kid: 'k1', alg: 'RS256', use: 'sig' }] }));
    } else if (req.url === '/ok/health') res.writeHead(200).end('ok');
    else if (req.url === '/broken/health') res.writeHead(500).end('no');
    else if (req.url === '/slow/health') setTimeout(() => res.writeHead(200).end('late'), 3000);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => modules.listen(0, '127.0.0.1', resolve));
  modulesUrl = `http://127.0.0.1:${(modules.address() as { port: number }).port}`;
  bridge = await startTestBridge({
    env: {
      // One module configured each way: the list variable, and the per-module variable the operator sets.
      HMA_SERVICE_TOKENS: `curriculum=${CURRICULUM_TOKEN}`,
      SERVICE_TOKEN_USER_MANAGEMENT: USERS_TOKEN,
      HMA_JWT_SECRET_SHARED: SHARED_SECRET,
      HMA_SSO_JWKS_URL: `${modulesUrl}/jwks`,
      HMA_CURRICULUM_API_URL: `${modulesUrl}/ok`,
      HMA_ANALYTICS_API_URL: `${modulesUrl}/broken`,
      HMA_SOCIAL_API_URL: `${modulesUrl}/slow`,
      HMA_ASSESSMENT_API_URL: 'http://127.0.0.1:1',
      HMA_INTEGRATION_HEALTH_TIMEOUT_MS: '500',
    },
  });
  api = client(bridge.url);
  adminToken = (await api.post('/auth/login', { username: 'admin', password: bridge.adminCredentials.password })).body.access_token;
});
afterAll(async () => {
  await bridge?.close();
  modules?.close();
});

function deliver(
  path: string,
  body: object,
  opts: { token?: string; skewSeconds?: number; signWith?: string; tamper?: boolean; bearer?: boolean } = {},
) {
  const token = opts.token ?? CURRICULUM_TOKEN;
  // Computed at send time: the replay window is measured from now, not from when the tests were collected.
  const timestamp = Math.floor(Date.now() / 1000) + (opts.skewSeconds ?? 0);
  const raw = JSON.stringify(body);
  const signature = signWebhook(opts.signWith ?? token, timestamp, raw);
  const sent = opts.tamper ? raw.replace('Safety', 'Danger') : raw;
  return api.call('POST', path, {
    raw: sent,
    headers: {
      'content-type': 'application/json',
      ...(opts.bearer ? { authorization: `Bearer ${token}` } : { 'x-service-token': token }),
      'x-hma-timestamp': String(timestamp),
      'x-hma-signature': signature,
    },
  });
}

const contentEvent = (overrides: object = {}) => ({
  event_type: 'content_created',
  content_id: 'curr-video-1',
  course_id: 'curr-course-1',
  timestamp: new Date().toISOString(),
  changes: { title: 'Firearm Safety Basics', type: 'video', sequence_number: 1 },
  ...overrides,
});

describe('curriculum webhooks', () => {
  it('creates, updates and deletes content items and their course', async () => {
    const created = await deliver('/api/webhooks/curriculum/content-updated', contentEvent());
    expect(created.status).toBe(200);
    expect(created.body).toEqual({ status: 'applied', event_type: 'content_created' });
    const row = async () =>
      (
        await bridge.deps.db.query<{ title: string; sequence_number: number; course: string; version: number }>(
          `SELECT i.title, i.sequence_number, c.external_course_id AS course, i.version
             FROM content.content_items i JOIN content.courses c ON c.id = i.course_id WHERE i.external_content_id = 'curr-video-1'`,
        )
      ).rows[0];
    expect(await row()).toMatchObject({ title: 'Firearm Safety Basics', sequence_number: 1, course: 'curr-course-1' });

    const updated = await deliver(
      '/api/webhooks/curriculum/content-updated',
      contentEvent({
        event_type: 'content_updated',
        timestamp: new Date(Date.now() + 1000).toISOString(),
        changes: { title: 'Safety 101' },
      }),
      { bearer: true },
    );
    expect(updated.status).toBe(200);
    expect(await row()).toMatchObject({ title: 'Safety 101', version: 2 });

    const deleted = await deliver(
      '/api/webhooks/curriculum/content-updated',
      contentEvent({ event_type: 'content_deleted', timestamp: new Date(Date.now() + 2000).toISOString(), changes: {} }),
    );
    expect(deleted.status).toBe(200);
    expect(await row()).toBeUndefined();
  });

  it('is idempotent per (event_type, id, timestamp)', async () => {
    const event = contentEvent({
      content_id: 'curr-doc-7',
      timestamp: '2026-11-01T10:00:00Z',
      changes: { title: 'Tracking', type: 'document' },
    });
    // The timestamp header is fresh; the event's own timestamp is its identity.
    expect((await deliver('/api/webhooks/curriculum/content-updated', event)).body.status).toBe('applied');
    expect((await deliver('/api/webhooks/curriculum/content-updated', event)).body.status).toBe('duplicate');
    const { rows } = await bridge.deps.db.query(`SELECT version FROM content.content_items WHERE external_content_id = 'curr-doc-7'`);
    expect(rows).toEqual([{ version: 1 }]);
  });

  it.each([
    ['no token', { token: '' }, 401],
    ['an unknown token', { token: 'x'.repeat(40) }, 401],
    ['a wrong signature', { signWith: 'y'.repeat(40) }, 401],
    ['a tampered body', { tamper: true }, 401],
    ['a stale timestamp', { skewSeconds: -310 }, 401],
    ['a future timestamp', { skewSeconds: 310 }, 401],
    ['the wrong module', { token: USERS_TOKEN }, 403],
  ])('refuses %s', async (_name, opts, status) => {
    const res = await deliver('/api/webhooks/curriculum/content-updated', contentEvent({ content_id: `refused-${Math.random()}` }), opts);
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    const { rows } = await bridge.deps.db.query(
      `SELECT count(*)::int AS n FROM content.content_items WHERE external_content_id LIKE 'refused-%'`,
    );
    expect(rows[0]).toEqual({ n: 0 });
  });

  it('validates the payload with 422', async () => {
    const res = await deliver('/api/webhooks/curriculum/content-updated', contentEvent({ event_type: 'content_exploded' }));
    expect(res.status).toBe(422);
    expect(res.body.errors[0].location).toBe('body.event_type');
  });

  it('writes every call, accepted or not, to the audit log', async () => {
    const { rows } = await bridge.deps.db.query<{ source_service: string; outcome: string; status_code: number }>(
      'SELECT source_service, outcome, status_code FROM integrations.audit_log',
    );
    expect(rows.some((r) => r.source_service === 'curriculum' && r.outcome === 'accepted' && r.status_code === 200)).toBe(true);
    expect(rows.some((r) => r.source_service === 'curriculum' && r.status_code === 401)).toBe(true);
    expect(rows.some((r) => r.source_service === 'unknown' && r.status_code === 401)).toBe(true);
    expect(rows.some((r) => r.source_service === 'user-management' && r.status_code === 403)).toBe(true);
  });
});

describe('webhook text PostgreSQL cannot store', () => {
  it('refuses a NUL character with 422, not a 500, and creates nothing (found by the fuzz suite)', async () => {
    const res = await deliver('/api/webhooks/curriculum/content-updated', contentEvent({ content_id: 'nul-\u0000-id' }));
    expect(res.status, JSON.stringify(res.body)).toBe(422);
    expect(res.body.errors).toEqual([{ location: 'body.content_id', message: 'must be valid Unicode text without NUL characters' }]);
    const { rows } = await bridge.deps.db.query("SELECT 1 FROM content.content_items WHERE external_content_id LIKE 'nul-%'");
    expect(rows).toEqual([]);
  });
});

describe('user-management webhooks', () => {
  const path = '/api/webhooks/users/profile-updated';
  const at = (s: number) => new Date(Date.now() + s * 1000).toISOString();

  it('creates, updates, re-roles and deletes users by external id', async () => {
    const opts = { token: USERS_TOKEN };
    const create = {
      event_type: 'user_created',
      user_id: 'ext-42',
      timestamp: at(0),
      changes: { username: 'ext_hunter', email: 'ext@example.com' },
    };
    expect((await deliver(path, create, opts)).status).toBe(200);
    const update = { event_type: 'user_updated', user_id: 'ext-42', timestamp: at(1), changes: { profile: { location: 'Montana' } } };
    expect((await deliver(path, update, opts)).status).toBe(200);
    const roles = { event_type: 'role_changed', user_id: 'ext-42', timestamp: at(2), changes: { roles: ['instructor'] } };
    expect((await deliver(path, roles, opts)).status).toBe(200);
    const user = await bridge.bridge.context.users.findByExternalId('ext-42');
    expect(user).toMatchObject({
      username: 'ext_hunter',
      roles: ['instructor'],
      profile_data: { location: 'Montana' },
      password_hash: null,
    });
    expect((await deliver(path, { event_type: 'user_deleted', user_id: 'ext-42', timestamp: at(3), changes: {} }, opts)).status).toBe(200);
    expect(await bridge.bridge.context.users.findByExternalId('ext-42')).toBeUndefined();
  });
});

describe('SSO', () => {
  const sso = (claims: object, key: string | Buffer = SHARED_SECRET, options: jwt.SignOptions = { algorithm: 'HS256' }) =>
    api.post('/auth/sso', {
      token: jwt.sign(claims, key, { issuer: 'huntmaster-user-management', audience: 'huntmaster-platform', expiresIn: 60, ...options }),
    });

  it('creates the local user from an HS256 token and returns a working token pair', async () => {
    const res = await sso({
      sub: 'um-1',
      preferred_username: 'sso_hunter',
      email: 'sso@example.com',
      roles: ['student'],
      profile: { bio: 'hi' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ valid: true, token_type: 'Bearer', user: { username: 'sso_hunter', profile: { bio: 'hi' } } });
    expect((await api.get('/api/users/me', res.body.access_token)).body.username).toBe('sso_hunter');
    // A second login updates the same user instead of creating another.
    const again = await sso({ sub: 'um-1', preferred_username: 'sso_hunter', email: 'sso2@example.com', roles: ['instructor'] });
    expect(again.body.user).toMatchObject({ user_id: res.body.user.user_id, email: 'sso2@example.com', roles: ['instructor'] });
  });

  it('accepts RS256 tokens signed by a key from the JWKS URL', async () => {
    const res = await sso(
      { sub: 'um-2', username: 'rsa_user', email: 'rsa@example.com' },
      rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }),
      {
        algorithm: 'RS256',
        keyid: 'k1',
      },
    );
    expect(res.status).toBe(200);
    expect(res.body.user.username).toBe('rsa_user');
  });

  it.each([
    ['a wrong secret', () => sso({ sub: 'x', email: 'x@example.com' }, 'z'.repeat(40))],
    ['a wrong issuer', () => sso({ sub: 'x', email: 'x@example.com' }, SHARED_SECRET, { algorithm: 'HS256', issuer: 'evil' })],
    ['a wrong audience', () => sso({ sub: 'x', email: 'x@example.com' }, SHARED_SECRET, { algorithm: 'HS256', audience: 'evil' })],
    [
      'an unknown kid',
      () =>
        sso({ sub: 'x', email: 'x@example.com' }, rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }), {
          algorithm: 'RS256',
          keyid: 'k9',
        }),
    ],
    ['HS512', () => sso({ sub: 'x', email: 'x@example.com' }, SHARED_SECRET, { algorithm: 'HS512' })],
    ['missing email', () => sso({ sub: 'x' })],
    ['garbage', () => api.post('/auth/sso', { token: 'not.a.jwt' })],
  ])('answers 401 {valid:false} for %s', async (_name, call) => {
    const res = await call();
    expect(res.status).toBe(401);
    expect(res.body.valid).toBe(false);
    expect(typeof res.body.error).toBe('string');
    // problem+json like every error (the fuzz suite found plain JSON here), the members above included.
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.body).toMatchObject({ status: 401, detail: res.body.error });
  });
});

describe('integration health', () => {
  it('reports each configured module as healthy, error or timeout', async () => {
    const res = await api.get('/api/integrations/health', adminToken);
    expect(res.status).toBe(200);
    expect(res.body.curriculum).toMatchObject({ status: 'healthy', response_time_ms: expect.any(Number) });
    expect(res.body.analytics).toMatchObject({ status: 'error', error: 'HTTP 500' });
    expect(res.body.social.status).toBe('timeout');
    expect(res.body.social.response_time_ms).toBeGreaterThanOrEqual(400);
    expect(res.body.assessment.status).toBe('error');
    expect(res.body).not.toHaveProperty('user_management');
  });

  it('is for admins only', async () => {
    expect((await api.get('/api/integrations/health')).status).toBe(401);
  });
});
