/**
 * Every route of both APIs, fuzzed from the service's own /openapi.json with fast-check (issue 16,
 * section 3). For each operation, property-based requests: bodies that follow the schema and
 * mutations of them (missing, extra and wrongly typed fields, boundary and huge numbers, huge,
 * unicode and NUL strings), malformed JSON, wrong content types, path parameters that are no ids,
 * and every kind of caller (anonymous, student, instructor, admin; expired, tampered, unsigned,
 * revoked tokens and tokens of deleted users). The invariants, checked on every response:
 *
 * - never a 5xx (no dependency is down in this suite, so not even a 503);
 * - every error is problem+json with type, title, status, detail and instance (the Open Inference
 *   Protocol's /v2 routes answer `{"error": "..."}` instead, as that protocol says);
 * - an answer within REQUEST_TIMEOUT_MS;
 * - a refused request (4xx) changes no row and no object: the tables of every schema and the keys
 *   of both buckets are fingerprinted before and after it;
 * - afterwards, both processes are alive and ready.
 *
 * The seed is fixed (HMA_FUZZ_SEED, default below) so CI replays the same requests; HMA_FUZZ_RUNS
 * sets the runs per route. A failure prints fast-check's seed, path and the shrunk request.
 */
import { createHash, randomUUID } from 'node:crypto';
import fc from 'fast-check';
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signAccessToken } from '../../services/kit/auth/tokens.ts';
import type { Role } from '../../services/kit/http/routes.ts';
import { signWebhook } from '../../services/content-bridge/integrations/service-auth.ts';
import { startTestBridge, type TestBridge } from './support/content-bridge.ts';
import { listObjectKeys, TEST_DRIVERS } from './support/drivers.ts';
import {
  headerValue,
  jsonBody,
  multipartBody,
  operationsOf,
  pathSegment,
  queryString,
  vocabularyOf,
  type Fixtures,
  type Operation,
  type RawBody,
} from './support/fuzz.ts';
import { client, signUp } from './support/http.ts';
import { startTestMlServer, uploadVersion, type TestMlServer } from './support/ml-server.ts';

const SEED = Number(process.env.HMA_FUZZ_SEED ?? 16_03_2026);
const RUNS = Number(process.env.HMA_FUZZ_RUNS ?? 30);
const REQUEST_TIMEOUT_MS = 10_000;
const CURRICULUM_TOKEN = 'fuzz-curriculum-token-0123456789abcdef';
const USERS_TOKEN = 'fuzz-users-token-0123456789abcdef0123';
const SSO_SECRET = 'fuzz-sso-shared-secret-0123456789abcdef';
/**
 * Tables written for refused requests by design: the webhook audit trail records every call, and the
 * ML Server's request counters and sampled log count failed predictions too (flushed in the background).
 */
const WRITTEN_WHEN_REFUSED = new Set(['integrations.audit_log', 'ml.prediction_counts', 'ml.predictions']);

type Service = 'content-bridge' | 'ml-server';
type Caller =
  | 'anonymous'
  | Role
  | 'expired'
  | 'tampered-claims'
  | 'tampered-signature'
  | 'alg-none'
  | 'wrong-secret'
  | 'garbage'
  | 'deleted-user'
  | 'revoked'
  | 'basic-scheme';

interface User {
  id: string;
  username: string;
  roles: Role[];
}

let bridge: TestBridge;
let ml: TestMlServer;
const users = {} as Record<Role, User>;
let revokedToken: string;
let fixtures: Fixtures;
let tables: string[];
const tried = new Map<string, { requests: number; statuses: Map<number, number> }>();

beforeAll(async () => {
  bridge = await startTestBridge({
    env: {
      RATE_LIMIT_SCALE: '10000', // 429s would hide what a handler does with the input
      HMA_SERVICE_TOKENS: `curriculum=${CURRICULUM_TOKEN},user-management=${USERS_TOKEN}`,
      HMA_JWT_SECRET_SHARED: SSO_SECRET,
    },
  });
  ml = await startTestMlServer({ bridge });
  const api = client(bridge.url);
  const mlApi = client(ml.url);
  const login = await api.post('/auth/login', { username: 'admin', password: bridge.adminCredentials.password });
  const adminToken = login.body.access_token as string;
  const adminId = login.body.user.user_id as string;
  users.admin = { id: adminId, username: 'admin', roles: ['admin', 'instructor'] };
  const instructor = await signUp(api, { username: 'fuzz_instructor', adminToken, roles: ['instructor'] });
  users.instructor = { id: instructor.userId, username: 'fuzz_instructor', roles: ['instructor'] };
  const student = await signUp(api, { username: 'fuzz_student' });
  users.student = { id: student.userId, username: 'fuzz_student', roles: ['student'] };
  const leaving = await signUp(api, { username: 'fuzz_leaving' });
  expect((await api.post('/auth/logout', {}, leaving.token)).status).toBe(204);
  revokedToken = leaving.token;

  const course = await api.post('/api/courses', { title: 'Fuzz course' }, adminToken);
  const courseId = course.body.course_id as string;
  const { rows } = await bridge.deps.db.query<{ id: string }>(
    `INSERT INTO content.content_items (title, content_type, course_id, file_path, mime_type, size_bytes, sha256, status)
     VALUES ('Fuzz item', 'document', $1, 'content/documents/pdf/fuzz.pdf', 'application/pdf', 1, repeat('a', 64), 'published') RETURNING id`,
    [courseId],
  );
  const contentId = rows[0]!.id;
  const assessment = await api.post(
    '/api/assessments',
    {
      title: 'Fuzz quiz',
      type: 'quiz',
      passing_score: 50,
      questions: [{ question_id: 'q1', type: 'true_false', question_text: 'Safety first?', correct_answer: 'true', points: 1 }],
    },
    adminToken,
  );
  const assessmentId = assessment.body.assessment_id as string;
  const attempt = await api.post(`/api/assessments/${assessmentId}/start`, {}, student.token);
  const post = await api.post(
    '/api/social/interactions',
    { interaction_type: 'post', target_type: 'course', target_id: courseId, content: 'Hello', metadata: { privacy_level: 'public' } },
    student.token,
  );
  const mlAdmin = ml.token({ userId: adminId, username: 'admin', roles: ['admin', 'instructor'] });
  expect((await mlApi.post('/models', { name: 'fuzz-model', task: 'classification', format: 'logistic' }, mlAdmin)).status).toBe(201);
  const artifact = {
    format: 'logistic',
    feature_names: ['distance_m', 'wind_kph'],
    coefficients: [0.1, -0.2],
    intercept: 1,
    classes: ['miss', 'hit'],
  };
  expect((await uploadVersion(ml.url, mlAdmin, 'fuzz-model', artifact)).status).toBe(201);
  expect((await mlApi.put('/models/fuzz-model/aliases/production', { version: 1 }, mlAdmin)).status).toBe(200);

  const ids = { course: courseId, content: contentId, assessment: assessmentId, attempt: attempt.body.attempt_id, post: post.body.post_id };
  for (const [name, value] of Object.entries(ids)) if (typeof value !== 'string') throw new Error(`fixture ${name} missing`);
  // Known values by field or parameter name: they take requests past "not found" into the handlers.
  fixtures = {
    user_id: [users.student.id, users.instructor.id, adminId],
    course_id: [courseId],
    content_id: [contentId],
    target_id: [courseId, contentId, ids.post, users.student.id],
    prerequisites: [[contentId]],
    assessment_id: [assessmentId],
    attempt_id: [ids.attempt],
    post_id: [ids.post],
    parent_id: [ids.post],
    name: ['fuzz-model'],
    model: ['fuzz-model'],
    v: ['1'],
    version: ['1', 1],
    alias: ['production'],
    username: ['fuzz_student', 'admin'],
    email: ['fuzz_student@huntmaster.test'],
    inputs: [{ distance_m: 10, wind_kph: 3 }, [{ distance_m: 1e308, wind_kph: -0 }]],
    features: [{ distance_m: 10, wind_kph: 3 }],
    token: [
      revokedToken,
      jwt.sign({ sub: 'ext-fuzz', email: 'ext@huntmaster.test', username: 'ext_fuzz' }, SSO_SECRET, { algorithm: 'HS256', expiresIn: 60 }),
      jwt.sign({ sub: 'ext-\u0000', email: 'nul@huntmaster.test', profile: { bio: 'a\u0000b' } }, SSO_SECRET, {
        algorithm: 'HS256',
        expiresIn: 60,
      }),
    ],
  };

  const found = await bridge.deps.db.query<{ name: string }>(
    `SELECT table_schema || '.' || table_name AS name FROM information_schema.tables
      WHERE table_schema IN ('users', 'content', 'social', 'integrations', 'ml') AND table_type = 'BASE TABLE' ORDER BY 1`,
  );
  tables = found.rows.map((r) => r.name).filter((t) => !WRITTEN_WHEN_REFUSED.has(t));
  expect(tables.length).toBeGreaterThan(20);
});

afterAll(async () => {
  const lines = [...tried].map(([route, t]) => {
    const statuses = [...t.statuses].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`);
    return `fuzz ${TEST_DRIVERS} ${route}: ${t.requests} requests (${statuses.join(' ')})`;
  });
  const total = [...tried.values()].reduce((sum, t) => sum + t.requests, 0);
  console.log(
    `${lines.join('\n')}\nfuzz ${TEST_DRIVERS}: ${total} requests over ${tried.size} routes, seed ${SEED}, ${RUNS} runs per route`,
  );
  await ml?.close();
  await bridge?.close();
});

// ---------------------------------------------------------------------------------------------
// Callers

function tokenFor(user: User): string {
  return signAccessToken(bridge.bridge.context.tokens, { userId: user.id, username: user.username, roles: user.roles }).token;
}

/** An Authorization header for `caller`; every signed-in caller gets a fresh token, so a fuzzed logout revokes only that one. */
function authorization(caller: Caller): string | undefined {
  const config = bridge.bridge.context.config;
  const claims = (user: User) => ({
    sub: user.id,
    username: user.username,
    roles: user.roles,
    jti: randomUUID(),
    iss: config.JWT_ISSUER,
    aud: config.JWT_AUDIENCE,
  });
  const now = Math.floor(Date.now() / 1000);
  switch (caller) {
    case 'anonymous':
      return undefined;
    case 'student':
    case 'instructor':
    case 'admin':
      return `Bearer ${tokenFor(users[caller])}`;
    case 'expired':
      return `Bearer ${jwt.sign({ ...claims(users.admin), iat: now - 7200, exp: now - 3600 }, config.JWT_SECRET!, { algorithm: 'HS256' })}`;
    case 'tampered-claims': {
      const [header, , signature] = tokenFor(users.student).split('.');
      const payload = Buffer.from(JSON.stringify({ ...claims(users.student), roles: ['admin'], exp: now + 600 })).toString('base64url');
      return `Bearer ${header}.${payload}.${signature}`;
    }
    case 'tampered-signature': {
      const token = tokenFor(users.admin);
      return `Bearer ${token.slice(0, -4)}${token.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
    }
    case 'alg-none': {
      const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
      const payload = Buffer.from(JSON.stringify({ ...claims(users.admin), exp: now + 600 })).toString('base64url');
      return `Bearer ${header}.${payload}.`;
    }
    case 'wrong-secret':
      return `Bearer ${jwt.sign({ ...claims(users.admin), exp: now + 600 }, 'not-the-secret-0123456789abcdef0123456789', { algorithm: 'HS256' })}`;
    case 'garbage':
      return 'Bearer not.a.jwt';
    case 'deleted-user':
      return `Bearer ${tokenFor({ id: randomUUID(), username: 'ghost', roles: ['admin', 'instructor'] })}`;
    case 'revoked':
      return `Bearer ${revokedToken}`;
    case 'basic-scheme':
      return `Basic ${Buffer.from('admin:admin').toString('base64')}`;
  }
}

const caller: fc.Arbitrary<Caller> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom<Caller>('anonymous', 'student', 'instructor') },
  { weight: 2, arbitrary: fc.constant<Caller>('admin') },
  {
    weight: 1,
    arbitrary: fc.constantFrom<Caller>(
      'expired',
      'tampered-claims',
      'tampered-signature',
      'alg-none',
      'wrong-secret',
      'garbage',
      'deleted-user',
      'revoked',
      'basic-scheme',
    ),
  },
);

/** How a webhook caller authenticates: the module's token and a correct signature, or something less. */
type ServiceCall = 'signed' | 'bad-signature' | 'stale' | 'unknown-token' | 'none';
const serviceCall: fc.Arbitrary<ServiceCall> = fc.oneof(
  { weight: 4, arbitrary: fc.constant<ServiceCall>('signed') },
  { weight: 1, arbitrary: fc.constantFrom<ServiceCall>('bad-signature', 'stale', 'unknown-token', 'none') },
);

function webhookHeaders(path: string, call: ServiceCall, body: string): Record<string, string> {
  const token = path.includes('/curriculum/') ? CURRICULUM_TOKEN : USERS_TOKEN;
  const now = Math.floor(Date.now() / 1000);
  switch (call) {
    case 'none':
      return {};
    case 'unknown-token':
      return { 'x-service-token': 'not-a-module-token' };
    case 'stale':
      return {
        'x-service-token': token,
        'x-hma-timestamp': String(now - 86_400),
        'x-hma-signature': signWebhook(token, now - 86_400, body),
      };
    case 'bad-signature':
      return { 'x-service-token': token, 'x-hma-timestamp': String(now), 'x-hma-signature': signWebhook(token, now, `${body} `) };
    case 'signed':
      return { 'x-service-token': token, 'x-hma-timestamp': String(now), 'x-hma-signature': signWebhook(token, now, body) };
  }
}

// ---------------------------------------------------------------------------------------------
// Requests

interface FuzzRequest {
  method: string;
  /** Path and query, encoded. */
  url: string;
  caller: Caller;
  serviceCall?: ServiceCall;
  headers: Record<string, string>;
  body: RawBody;
}

function requestFor(op: Operation, vocabulary: string[], fileSamples: Uint8Array[]): fc.Arbitrary<FuzzRequest> {
  const pathParams = op.parameters.filter((p) => p.in === 'path');
  const headerParams = op.parameters.filter((p) => p.in === 'header' && !/^x-(service-token|hma-)/i.test(p.name));
  const isWebhook = op.parameters.some((p) => /^x-service-token$/i.test(p.name));
  // A DELETE never gets a fixture's id: it would remove what the other routes need to go deep.
  const known = (name: string) => (op.method === 'DELETE' ? undefined : (fixtures[name] as readonly unknown[] | undefined));
  const segments = fc.tuple(...pathParams.map((p) => pathSegment(p.schema, known(p.name))));
  const body: fc.Arbitrary<RawBody> = !op.body
    ? fc.oneof(
        { weight: 6, arbitrary: fc.constant<RawBody>({ label: 'no body' }) },
        { weight: 1, arbitrary: jsonBody({}, fixtures, vocabulary, 1 << 20) },
      )
    : op.body.mediaType === 'multipart/form-data'
      ? multipartBody(
          ['title', 'type', 'course_id', 'metadata', 'description', 'metrics', 'training_stats', 'file'],
          fixtures,
          vocabulary,
          fileSamples,
        )
      : jsonBody(op.body.schema, fixtures, vocabulary, bridge.bridge.context.config.MAX_JSON_BODY_BYTES);
  const headers = fc.tuple(...headerParams.map(() => fc.option(headerValue, { freq: 2 })));
  const method = fc.oneof({ weight: 29, arbitrary: fc.constant(op.method) }, { weight: 1, arbitrary: fc.constant('PATCH') });
  return fc
    .record({
      method,
      segments,
      query: queryString(op.parameters, fixtures),
      caller,
      serviceCall: isWebhook ? serviceCall : fc.constant(undefined),
      headers,
      body,
    })
    .map((r) => {
      let path = op.path;
      pathParams.forEach((p, i) => (path = path.replace(`{${p.name}}`, r.segments[i]!)));
      const headerEntries = headerParams.flatMap((p, i) => (r.headers[i] === null ? [] : [[p.name, r.headers[i]!] as const]));
      return {
        method: r.method,
        url: `${path}${r.query}`,
        caller: r.caller,
        ...(r.serviceCall ? { serviceCall: r.serviceCall } : {}),
        headers: Object.fromEntries(headerEntries),
        body: r.body,
      };
    });
}

interface Answer {
  status: number;
  contentType: string;
  text: string;
}

async function send(baseUrl: string, req: FuzzRequest): Promise<Answer> {
  const headers: Record<string, string> = { ...req.headers };
  const auth = authorization(req.caller);
  if (auth) headers.authorization = auth;
  let body: RequestInit['body'];
  if (req.body.form) {
    const form = new FormData();
    for (const part of req.body.form) {
      if ('file' in part) form.append(part.name, new Blob([Buffer.from(part.file.bytes)], { type: part.file.type }), part.file.filename);
      else form.append(part.name, part.value);
    }
    body = form;
  } else if (req.body.text !== undefined) {
    body = req.body.text;
    if (req.body.contentType) headers['content-type'] = req.body.contentType;
  }
  if (req.serviceCall) Object.assign(headers, webhookHeaders(req.url, req.serviceCall, req.body.text ?? ''));
  if (req.method === 'GET' || req.method === 'DELETE') body = req.method === 'DELETE' ? body : undefined;
  let res: Response;
  try {
    res = await fetch(`${baseUrl}${req.url}`, { method: req.method, headers, body, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  } catch (err) {
    const name = (err as Error).name;
    throw new Error(name === 'TimeoutError' ? `no answer within ${REQUEST_TIMEOUT_MS} ms` : `request failed: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', text: await res.text() };
}

/** What is wrong with an answer, if anything. */
function violations(service: Service, path: string, answer: Answer): string[] {
  const found: string[] = [];
  if (answer.status >= 500) found.push(`status ${answer.status}`);
  if (answer.status < 400) return found;
  let body: Record<string, unknown> | undefined;
  try {
    body = JSON.parse(answer.text) as Record<string, unknown>;
  } catch {
    found.push('the error body is not JSON');
    return found;
  }
  if (service === 'ml-server' && (path === '/v2' || path.startsWith('/v2/'))) {
    // The Open Inference Protocol's own error shape.
    if (!answer.contentType.startsWith('application/json')) found.push(`content-type ${answer.contentType}`);
    if (typeof body.error !== 'string') found.push('no "error" string');
    return found;
  }
  if (!answer.contentType.startsWith('application/problem+json')) found.push(`content-type ${answer.contentType || '(none)'}`);
  for (const member of ['type', 'title', 'detail', 'instance']) if (typeof body[member] !== 'string') found.push(`no "${member}" string`);
  if (body.status !== answer.status) found.push(`"status" ${String(body.status)} ≠ ${answer.status}`);
  return found;
}

// ---------------------------------------------------------------------------------------------
// What the data looked like

/** Every table's row count and content hash, and the keys of both buckets. */
async function fingerprint(): Promise<Record<string, string>> {
  const columns = tables.map(
    (t, i) => `(SELECT count(*) || ':' || coalesce(md5(string_agg(x::text, ',' ORDER BY x::text)), '') FROM ${t} x) AS t${i}`,
  );
  const { rows } = await bridge.deps.db.query<Record<string, string>>(`SELECT ${columns.join(', ')}`);
  const print: Record<string, string> = Object.fromEntries(tables.map((t, i) => [t, rows[0]![`t${i}`]!]));
  for (const bucket of [bridge.bucket, ml.bucket]) {
    print[`bucket ${bucket}`] = createHash('sha256')
      .update((await listObjectKeys(bucket)).join('\n'))
      .digest('hex');
  }
  return print;
}

/** The error the service logged for a 5xx answer, so a failure names its cause. */
function serverError(service: Service, answer: Answer): string {
  const requestId = /"request_id":"([^"]+)"/.exec(answer.text)?.[1];
  if (answer.status < 500 || !requestId) return '';
  const lines = service === 'content-bridge' ? bridge.logLines : ml.logLines;
  const line = lines.find((l) => l.includes(requestId) && l.includes('"err"'));
  return line ? `\n  logged: ${line.slice(0, 600)}` : '';
}

const changedParts = (before: Record<string, string>, after: Record<string, string>) =>
  Object.keys({ ...before, ...after }).filter((k) => before[k] !== after[k]);

/** Work an accepted request started in the background (training, the prediction log) is finished before the next baseline. */
async function settle(): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (ml.server.context.jobs.active > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  await ml.server.context.predictionLog.flush();
}

// ---------------------------------------------------------------------------------------------

describe.each<Service>(['content-bridge', 'ml-server'])('%s: every route fuzzed from /openapi.json', (service) => {
  let operations: Operation[] = [];
  let vocabulary: string[] = [];
  const fileSamples = [
    new TextEncoder().encode(JSON.stringify({ format: 'linear', feature_names: ['a'], coefficients: [1], intercept: 0 })),
    new TextEncoder().encode('{"format":"logistic","feature_names":[],"coefficients":[],"intercept":1e999}'),
  ];
  const baseUrl = () => (service === 'content-bridge' ? bridge.url : ml.url);

  beforeAll(async () => {
    const doc = (await (await fetch(`${baseUrl()}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    operations = operationsOf(doc);
    vocabulary = vocabularyOf(doc);
  });

  it('covers every route the service declares', () => {
    const declared = (service === 'content-bridge' ? bridge.bridge.routes : ml.server.routes).flatMap((spec) =>
      (Array.isArray(spec.path) ? spec.path : [spec.path]).map((p) => `${spec.method.toUpperCase()} ${p}`),
    );
    expect(operations.map((op) => `${op.method} ${op.path}`).sort()).toEqual(declared.sort());
  });

  it('answers every fuzzed request without a 5xx, with problem+json, in time, and a refusal changes nothing', async () => {
    const failures: string[] = [];
    let baseline = await fingerprint();
    for (const op of operations) {
      const route = `${service} ${op.method} ${op.path}`;
      const stats = { requests: 0, statuses: new Map<number, number>() };
      tried.set(route, stats);
      const property = fc.asyncProperty(requestFor(op, vocabulary, fileSamples), async (req) => {
        stats.requests++;
        const answer = await send(baseUrl(), req);
        stats.statuses.set(answer.status, (stats.statuses.get(answer.status) ?? 0) + 1);
        const problems = violations(service, req.url.split('?')[0]!, answer);
        if (answer.status >= 400 && answer.status < 500) {
          const after = await fingerprint();
          const changed = changedParts(baseline, after);
          if (changed.length) problems.push(`refused with ${answer.status} but changed ${changed.join(', ')}`);
          baseline = after;
        } else {
          await settle();
          baseline = await fingerprint();
        }
        if (problems.length) {
          throw new Error(
            `${problems.join('; ')}\n  ${req.method} ${req.url.slice(0, 300)} as ${req.caller}${req.serviceCall ? ` (${req.serviceCall})` : ''}, ` +
              `body: ${req.body.label} ${JSON.stringify(req.body.text ?? req.body.form ?? '').slice(0, 300)}\n` +
              `  answer ${answer.status} ${answer.contentType}: ${answer.text.slice(0, 300)}${serverError(service, answer)}`,
          );
        }
      });
      // One seed per route, derived from the suite's: adding a route does not change what the others get.
      const seed = (SEED ^ Number.parseInt(createHash('sha256').update(route).digest('hex').slice(0, 7), 16)) | 0;
      const result = await fc.check(property, { seed, numRuns: RUNS, endOnFailure: process.env.HMA_FUZZ_SHRINK !== 'true' });
      if (result.failed)
        failures.push(`${route} (seed ${seed}, path ${result.counterexamplePath}):\n  ${(result.errorInstance as Error).message}`);
    }
    expect(failures, failures.join('\n\n')).toEqual([]);
  }, 600_000);
});

describe('after the fuzz run', () => {
  it('both services are alive and ready', async () => {
    for (const url of [bridge.url, ml.url]) {
      for (const probe of ['/livez', '/readyz']) {
        const res = await fetch(`${url}${probe}`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
        expect(res.status, `${url}${probe}`).toBe(200);
      }
    }
  });
});
