/**
 * Authentication against a real Content Bridge: its tokens work on the ML Server, its revocations
 * apply, logins are forwarded to it; and the authorization matrix of every route.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../../harness/index.ts';
import { startTestBridge, type TestBridge } from '../support/content-bridge.ts';
import { client, signUp, type Client } from '../support/http.ts';
import { ensureContentSchema, startTestMlServer, uploadVersion, type TestMlServer } from '../support/ml-server.ts';
import { createModel, expectProblem, shotModel } from './helpers.ts';

type Who = 'anonymous' | 'student' | 'instructor' | 'admin';
const WHO: Who[] = ['anonymous', 'student', 'instructor', 'admin'];

describe('ML Server with the Content Bridge', () => {
  let bridge: TestBridge;
  let ml: TestMlServer;
  let bapi: Client;
  let api: Client;
  const tokens: Record<Who, string | undefined> = { anonymous: undefined, student: undefined, instructor: undefined, admin: undefined };
  let studentId: string;
  let otherStudent: string;
  let jobId: string;

  beforeAll(async () => {
    bridge = await startTestBridge();
    await ensureContentSchema(bridge.databaseUrl);
    ml = await startTestMlServer({ bridge });
    bapi = client(bridge.url);
    api = client(ml.url);
    const adminLogin = await bapi.post('/auth/login', {
      username: bridge.adminCredentials.username,
      password: bridge.adminCredentials.password,
    });
    tokens.admin = adminLogin.body.access_token;
    const student = await signUp(bapi, { username: 'ml_student' });
    tokens.student = student.token;
    studentId = student.userId;
    tokens.instructor = (await signUp(bapi, { username: 'ml_instructor', adminToken: tokens.admin, roles: ['instructor'] })).token;
    otherStudent = (await signUp(bapi, { username: 'ml_other' })).token;

    await createModel(api, tokens.admin!, { name: 'matrix', task: 'classification', format: 'logistic' });
    expect((await uploadVersion(ml.url, tokens.admin!, 'matrix', shotModel(-0.01))).status).toBe(201);
    await api.put('/models/matrix/aliases/production', { version: 1 }, tokens.admin);
    const job = await api.post('/models/matrix/train', { task: 'completion_risk' }, tokens.admin);
    expect(job.status).toBe(202);
    jobId = job.body.job_id;
  });
  afterAll(async () => {
    await ml?.close();
    await bridge?.close();
  });

  it('accepts access tokens issued by the Content Bridge and refuses revoked or foreign ones', async () => {
    const user = await signUp(bapi, { username: 'ml_revoked' });
    expect((await api.get('/models', user.token)).status).toBe(200);
    expect((await bapi.post('/auth/logout', {}, user.token)).status).toBe(204);
    // The ML Server remembered "not revoked" for 10 s; the bridge's announcement reaches it over its
    // own Redis connection, so it applies within milliseconds, not in the same instant (a second here).
    await waitUntil('the ML Server refuses the revoked token', async () => (await api.get('/models', user.token)).status === 401, {
      timeoutMs: 1000,
    });
    expectProblem(await api.get('/models', user.token), 401, /revoked/);

    const foreign = await startTestMlServer();
    try {
      expectProblem(await api.get('/models', foreign.token({ roles: ['admin'] })), 401, /invalid token/);
    } finally {
      await foreign.close();
    }
  });

  it('forwards logins to the Content Bridge and returns its answer', async () => {
    const ok = await api.post('/auth/login', { username: bridge.adminCredentials.username, password: bridge.adminCredentials.password });
    expect(ok.status).toBe(200);
    expect(ok.body.token_type).toBe('Bearer');
    expect((await api.get('/admin/analytics', ok.body.access_token)).status).toBe(200);

    const bad = await api.post('/auth/login', { username: 'ml_student', password: 'wrong-password-entirely' });
    expectProblem(bad, 401);
    const invalid = await api.post('/auth/login', { password: 'x' });
    expectProblem(invalid, 422);
  });

  it('answers 503 when the Content Bridge is down or does not answer in time', async () => {
    const down = await startTestMlServer({ contentBridgeUrl: 'http://127.0.0.1:1' });
    const hanging: Server = createServer(() => undefined); // accepts and never answers
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    const port = (hanging.address() as { port: number }).port;
    const slow = await startTestMlServer({ contentBridgeUrl: `http://127.0.0.1:${port}`, env: { LOGIN_FORWARD_TIMEOUT_MS: '300' } });
    try {
      expectProblem(await client(down.url).post('/auth/login', { username: 'a', password: 'b' }), 503, /unreachable/);
      const timedOut = await client(slow.url).post('/auth/login', { username: 'a', password: 'b' });
      expectProblem(timedOut, 503, /did not answer the login within 300 ms/);
      expect(timedOut.headers.get('retry-after')).toBeTruthy();
    } finally {
      hanging.closeAllConnections();
      hanging.close();
      await down.close();
      await slow.close();
    }
  });

  it('lets a learner see their own insights but not another learner', async () => {
    const ins = await api.get(`/api/ml/insights/${studentId}`, tokens.student);
    expect(ins.status).toBe(200);
    expectProblem(await api.get(`/api/ml/insights/${studentId}`, otherStudent), 403);
    expectProblem(await api.get(`/api/ml/recommendations/${studentId}`, otherStudent), 403);
  });

  it('enforces the authorization matrix on every route', async () => {
    const rowsFor = (who: Who) => ({ distance_m: 100, wind_kph: WHO.indexOf(who) });
    interface Case {
      method: string;
      path: string;
      body?: (who: Who) => unknown;
      multipart?: boolean;
      expect: Record<Who, number>;
    }
    const all = (status: number) => ({ anonymous: status, student: status, instructor: status, admin: status });
    const signedIn = (status: number) => ({ anonymous: 401, student: status, instructor: status, admin: status });
    const managers = (status: number) => ({ anonymous: 401, student: 403, instructor: status, admin: status });
    const cases: Case[] = [
      { method: 'GET', path: '/', expect: all(200) },
      { method: 'GET', path: '/livez', expect: all(200) },
      { method: 'GET', path: '/readyz', expect: all(200) },
      { method: 'GET', path: '/metrics', expect: all(200) },
      { method: 'GET', path: '/openapi.json', expect: all(200) },
      {
        method: 'POST',
        path: '/auth/login',
        body: () => ({ username: bridge.adminCredentials.username, password: bridge.adminCredentials.password }),
        expect: all(200),
      },
      { method: 'GET', path: '/models', expect: signedIn(200) },
      { method: 'GET', path: '/models/matrix', expect: signedIn(200) },
      { method: 'GET', path: '/models/matrix/versions/1', expect: signedIn(200) },
      {
        method: 'POST',
        path: '/models',
        body: (who) => ({ name: `made-by-${who}`, task: 'regression', format: 'linear' }),
        expect: managers(201),
      },
      { method: 'POST', path: '/models/matrix/versions', multipart: true, expect: managers(201) },
      { method: 'PUT', path: '/models/matrix/aliases/staging', body: () => ({ version: 1 }), expect: managers(200) },
      { method: 'DELETE', path: '/models/matrix/aliases/never-set', expect: managers(404) },
      { method: 'DELETE', path: '/models/matrix/versions/999', expect: managers(404) },
      { method: 'POST', path: '/predict', body: (who) => ({ model: 'matrix', inputs: rowsFor(who) }), expect: signedIn(200) },
      { method: 'GET', path: '/v2/health/live', expect: all(200) },
      { method: 'GET', path: '/v2/health/ready', expect: all(200) },
      { method: 'GET', path: '/v2/models/matrix', expect: signedIn(200) },
      { method: 'GET', path: '/v2/models/matrix/versions/1', expect: signedIn(200) },
      { method: 'GET', path: '/v2/models/matrix/ready', expect: signedIn(200) },
      { method: 'GET', path: '/v2/models/matrix/versions/1/ready', expect: signedIn(200) },
      {
        method: 'POST',
        path: '/v2/models/matrix/infer',
        body: () => ({ inputs: [{ name: 'input', shape: [1, 2], datatype: 'FP64', data: [1, 2] }] }),
        expect: signedIn(200),
      },
      {
        method: 'POST',
        path: '/v2/models/matrix/versions/1/infer',
        body: () => ({ inputs: [{ name: 'input', shape: [1, 2], datatype: 'FP64', data: [1, 2] }] }),
        expect: signedIn(200),
      },
      { method: 'POST', path: '/models/matrix/train', body: () => ({ task: 'completion_risk' }), expect: managers(202) },
      { method: 'GET', path: `/jobs/${jobId}`, expect: managers(200) },
      { method: 'GET', path: `/api/ml/insights/${studentId}`, expect: signedIn(200) },
      { method: 'GET', path: `/api/ml/recommendations/${studentId}`, expect: signedIn(200) },
      {
        method: 'POST',
        path: '/api/ml/events/batch',
        body: (who) => ({
          events: [
            {
              event_id: randomUUID(),
              event_type: 'content_view',
              user_id: studentId,
              timestamp: new Date().toISOString(),
              data: { time_spent_seconds: WHO.indexOf(who) },
            },
          ],
        }),
        expect: managers(200),
      },
      { method: 'GET', path: '/admin/analytics', expect: { anonymous: 401, student: 403, instructor: 403, admin: 200 } },
      // Error simulation is off unless ENABLE_ERROR_SIMULATION.
      { method: 'GET', path: '/server-error', expect: all(404) },
    ];
    const documented = Object.keys((await api.get('/openapi.json')).body.paths as Record<string, unknown>);
    const covered = new Set(cases.map((c) => c.path.replace(studentId, '{user_id}').replace(jobId, '{job_id}')));
    for (const path of documented) {
      const generic = path
        .replace('{name}', 'matrix')
        .replace('{v}', '1')
        .replace('{version}', '1')
        .replace('{alias}', path.startsWith('/models/{name}/aliases') ? 'staging' : '{alias}');
      const alternatives = [
        generic,
        generic.replace('/aliases/staging', '/aliases/never-set'),
        generic.replace('/versions/1', '/versions/999'),
      ];
      expect(
        alternatives.some((p) => covered.has(p)),
        `route ${path} is not in the matrix`,
      ).toBe(true);
    }

    const failures: string[] = [];
    for (const c of cases) {
      for (const who of WHO) {
        const headers: Record<string, string> = {};
        const token = tokens[who];
        if (token) headers.authorization = `Bearer ${token}`;
        let body: FormData | string | undefined;
        if (c.multipart) {
          const form = new FormData();
          form.append('file', new Blob([JSON.stringify(shotModel(-0.03))], { type: 'application/json' }), 'model.json');
          body = form;
        } else if (c.body) {
          headers['content-type'] = 'application/json';
          body = JSON.stringify(c.body(who));
        }
        const res = await fetch(`${ml.url}${c.path}`, { method: c.method, headers, body });
        await res.arrayBuffer();
        if (res.status !== c.expect[who]) failures.push(`${c.method} ${c.path} as ${who}: ${res.status}, expected ${c.expect[who]}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('serves the error-simulation endpoints only when enabled', async () => {
    const sim = await startTestMlServer({ env: { ENABLE_ERROR_SIMULATION: 'true' } });
    try {
      const sapi = client(sim.url);
      expectProblem(await sapi.get('/bad-request'), 400);
      expectProblem(await sapi.get('/unprocessable'), 422);
      const err = await sapi.get('/server-error');
      expectProblem(err, 500);
      expect(JSON.stringify(err.body)).not.toContain('secret');
    } finally {
      await sim.close();
    }
  });

  it('answers the root, probes and OpenAPI', async () => {
    expect((await api.get('/')).body).toMatchObject({ service: 'ml-server', status: 'healthy' });
    const ready = await api.get('/readyz');
    expect(ready.body.checks).toEqual({ postgres: 'ok', redis: 'ok', 'object-store': 'ok' });
    const openapi = (await api.get('/openapi.json')).body;
    expect(openapi.paths['/predict'].post.description).toBe('Any signed-in user.');
    expect(openapi.paths['/models'].post.description).toBe('Roles: admin, instructor.');
  });
});
