/**
 * Every Content Bridge route against every role, anonymous included. The expectations are written
 * out by hand from each route's documented access rule (not read from the routes' own `access` fields), and the test fails if a
 * route exists without an entry here, so a new route cannot ship without its row in the matrix.
 *
 * "allow" means the caller got past authorization (any status but 401/403: a 404 for a made-up id
 * or a 422 for an empty body still proves the door was open); "deny" means 401 for anonymous
 * callers and 403 for signed-in ones. "service" routes take module service tokens, never user tokens.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, signUp, type Client } from '../support/http.ts';
import { startTestBridge, type TestBridge } from '../support/content-bridge.ts';

type Role = 'anonymous' | 'student' | 'instructor' | 'admin';
type Outcome = 'allow' | 'deny';
interface Fixtures {
  victim: string;
  course: string;
  content: string;
  assessment: string;
  attempt: string;
  post: string;
}
interface Entry {
  request: (f: Fixtures) => { path: string; body?: unknown; headers?: Record<string, string> };
  expect: Record<Exclude<Role, 'anonymous'>, Outcome> | 'public' | 'service';
}

const everyone = 'public' as const;
const signedIn = { student: 'allow', instructor: 'allow', admin: 'allow' } as const;
const staff = { student: 'deny', instructor: 'allow', admin: 'allow' } as const;
const adminOnly = { student: 'deny', instructor: 'deny', admin: 'allow' } as const;
const selfOrAdmin = adminOnly; // the fixtures always target another user's resource
const selfOrStaff = staff;
const r = (path: string, body?: unknown) => () => ({ path, body });

const MATRIX: Record<string, Entry> = {
  'POST /auth/register': { request: r('/auth/register', {}), expect: everyone },
  'POST /auth/login': { request: r('/auth/login', {}), expect: everyone },
  'POST /auth/refresh': { request: r('/auth/refresh', {}), expect: everyone },
  // An invalid body: proves the door without revoking the caller's token.
  'POST /auth/logout': { request: r('/auth/logout', { unknown: 1 }), expect: signedIn },
  'POST /auth/token': { request: r('/auth/token', { unknown: 1 }), expect: everyone },
  'POST /api/users/reset-password': { request: r('/api/users/reset-password', {}), expect: everyone },
  'POST /auth/sso': { request: r('/auth/sso', {}), expect: everyone },
  'GET /user/profile': { request: r('/user/profile'), expect: signedIn },
  'GET /api/users/{user_id}': { request: (f) => ({ path: `/api/users/${f.victim}` }), expect: selfOrAdmin },
  'PUT /api/users/{user_id}': {
    request: (f) => ({ path: `/api/users/${f.victim}`, body: { profile: { bio: 'x' } } }),
    expect: selfOrAdmin,
  },
  'GET /admin/users': { request: r('/admin/users'), expect: adminOnly },
  'POST /api/analytics/events': { request: r('/api/analytics/events', {}), expect: signedIn },
  'POST /api/xapi/statements': {
    request: () => ({ path: '/api/xapi/statements', body: {}, headers: { 'x-experience-api-version': '1.0.3' } }),
    expect: signedIn,
  },
  'GET /api/analytics/user/{user_id}': { request: (f) => ({ path: `/api/analytics/user/${f.victim}` }), expect: selfOrStaff },
  'GET /api/analytics/content/{content_id}': { request: (f) => ({ path: `/api/analytics/content/${f.content}` }), expect: staff },
  'POST /api/analytics/reports': { request: r('/api/analytics/reports', {}), expect: staff },
  'GET /api/content/search': { request: r('/api/content/search?q=tracking'), expect: signedIn },
  'GET /api/manifest': { request: r('/api/manifest'), expect: signedIn },
  'POST /content/upload': { request: r('/content/upload', {}), expect: staff },
  'POST /api/content/uploads': { request: r('/api/content/uploads', {}), expect: staff },
  'POST /api/content/{content_id}/complete': { request: () => ({ path: `/api/content/${randomUUID()}/complete` }), expect: staff },
  'POST /api/content/metadata': { request: r('/api/content/metadata', {}), expect: staff },
  'GET /api/content/{content_id}': { request: (f) => ({ path: `/api/content/${f.content}` }), expect: signedIn },
  'DELETE /api/content/{content_id}': { request: () => ({ path: `/api/content/${randomUUID()}` }), expect: adminOnly },
  'GET /api/courses': { request: r('/api/courses'), expect: signedIn },
  'POST /api/courses': { request: r('/api/courses', {}), expect: staff },
  'GET /api/courses/{course_id}': { request: (f) => ({ path: `/api/courses/${f.course}` }), expect: signedIn },
  'PUT /api/courses/{course_id}': { request: (f) => ({ path: `/api/courses/${f.course}`, body: {} }), expect: staff },
  'DELETE /api/courses/{course_id}': { request: () => ({ path: `/api/courses/${randomUUID()}` }), expect: staff },
  'PUT /api/progress/{content_id}': { request: (f) => ({ path: `/api/progress/${f.content}`, body: {} }), expect: signedIn },
  'GET /api/users/{user_id}/progress': { request: (f) => ({ path: `/api/users/${f.victim}/progress` }), expect: selfOrStaff },
  'POST /api/assessments': { request: r('/api/assessments', {}), expect: staff },
  'GET /api/assessments/{assessment_id}': { request: (f) => ({ path: `/api/assessments/${f.assessment}` }), expect: signedIn },
  'POST /api/assessments/{assessment_id}/start': { request: () => ({ path: `/api/assessments/${randomUUID()}/start` }), expect: signedIn },
  'POST /api/assessments/submit': { request: r('/api/assessments/submit', {}), expect: signedIn },
  'GET /api/assessments/results/{attempt_id}': { request: (f) => ({ path: `/api/assessments/results/${f.attempt}` }), expect: selfOrStaff },
  'POST /api/assessments/grade': { request: r('/api/assessments/grade', {}), expect: staff },
  'GET /api/social/forums/{course_id}': { request: (f) => ({ path: `/api/social/forums/${f.course}` }), expect: signedIn },
  'POST /api/social/posts': { request: r('/api/social/posts', {}), expect: signedIn },
  'GET /api/social/posts/{post_id}': { request: (f) => ({ path: `/api/social/posts/${f.post}` }), expect: signedIn },
  // Authors and admins delete (the instructor here does not teach the course); moderation likewise.
  'DELETE /api/social/posts/{post_id}': { request: (f) => ({ path: `/api/social/posts/${f.post}` }), expect: adminOnly },
  'POST /api/social/posts/{post_id}/moderation': {
    request: (f) => ({ path: `/api/social/posts/${f.post}/moderation`, body: { action: 'unhide' } }),
    expect: adminOnly,
  },
  'GET /api/social/users/{user_id}/feed': { request: (f) => ({ path: `/api/social/users/${f.victim}/feed` }), expect: signedIn },
  'POST /api/social/interactions': { request: r('/api/social/interactions', {}), expect: signedIn },
  'DELETE /api/social/interactions/{interaction_id}': {
    request: () => ({ path: `/api/social/interactions/${randomUUID()}` }),
    expect: signedIn,
  },
  'POST /api/webhooks/curriculum/content-updated': { request: r('/api/webhooks/curriculum/content-updated', {}), expect: 'service' },
  'POST /api/webhooks/users/profile-updated': { request: r('/api/webhooks/users/profile-updated', {}), expect: 'service' },
  'GET /api/integrations/health': { request: r('/api/integrations/health'), expect: adminOnly },
};

let bridge: TestBridge;
let api: Client;
const tokens: Partial<Record<Role, string>> = {};
let fixtures: Fixtures;

beforeAll(async () => {
  bridge = await startTestBridge();
  api = client(bridge.url);
  tokens.admin = (await api.post('/auth/login', { username: 'admin', password: bridge.adminCredentials.password })).body.access_token;
  tokens.instructor = (await signUp(api, { username: 'matrix_instructor', adminToken: tokens.admin, roles: ['instructor'] })).token;
  tokens.student = (await signUp(api, { username: 'matrix_student' })).token;
  const victim = await signUp(api, { username: 'matrix_victim' });
  const db = bridge.deps.db;
  const course = (await api.post('/api/courses', { title: 'Matrix course' }, tokens.admin)).body;
  const courseId = course.course_id ?? course.id;
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO content.content_items (title, content_type, course_id, file_path, mime_type, size_bytes, sha256)
     VALUES ('Matrix item', 'document', $1, 'content/documents/pdf/matrix.pdf', 'application/pdf', 1, repeat('a', 64)) RETURNING id`,
    [courseId],
  );
  const assessment = await api.post(
    '/api/assessments',
    {
      title: 'Matrix quiz',
      type: 'quiz',
      passing_score: 50,
      questions: [{ question_id: 'q1', type: 'true_false', question_text: 'Safety first?', correct_answer: 'true', points: 1 }],
    },
    tokens.admin,
  );
  const attempt = await api.post(`/api/assessments/${assessment.body.assessment_id}/start`, {}, victim.token);
  const post = await api.post(
    '/api/social/interactions',
    {
      interaction_type: 'post',
      target_type: 'course',
      target_id: courseId,
      content: 'Public hello',
      metadata: { privacy_level: 'public' },
    },
    victim.token,
  );
  fixtures = {
    victim: victim.userId,
    course: courseId,
    content: rows[0]!.id,
    assessment: assessment.body.assessment_id,
    attempt: attempt.body.attempt_id,
    post: post.body.post_id ?? post.body.target_id ?? post.body.id,
  };
  for (const [name, value] of Object.entries(fixtures)) if (!value) throw new Error(`fixture ${name} missing`);
});
afterAll(() => bridge?.close());

describe('authorization matrix', () => {
  it('has an entry for every route the Content Bridge serves', () => {
    const served = bridge.bridge.routes.map(
      (spec) => `${spec.method.toUpperCase()} ${Array.isArray(spec.path) ? spec.path[0] : spec.path}`,
    );
    expect(served.filter((key) => !(key in MATRIX))).toEqual([]);
    expect(Object.keys(MATRIX).filter((key) => !served.includes(key))).toEqual([]);
  });

  for (const [key, entry] of Object.entries(MATRIX)) {
    it(key, async () => {
      const method = key.split(' ')[0]!;
      const outcomes: string[] = [];
      const expected: string[] = [];
      for (const role of ['anonymous', 'student', 'instructor', 'admin'] as const) {
        const req = entry.request(fixtures);
        const res = await api.call(method, req.path, {
          body: req.body,
          token: tokens[role as Exclude<Role, 'anonymous'>],
          headers: req.headers,
        });
        outcomes.push(`${role}: ${res.status}`);
        let want: string;
        if (entry.expect === 'public') want = 'allow';
        else if (entry.expect === 'service') want = 'service-401';
        else if (role === 'anonymous') want = 'deny-401';
        else want = entry.expect[role] === 'allow' ? 'allow' : 'deny-403';
        const got =
          want === 'allow'
            ? res.status === 401 || res.status === 403
              ? `denied with ${res.status}`
              : 'allow'
            : want === 'service-401' || want === 'deny-401'
              ? res.status === 401
                ? want
                : `got ${res.status}`
              : res.status === 403
                ? want
                : `got ${res.status}`;
        expected.push(`${role}: ${want}`);
        outcomes[outcomes.length - 1] = `${role}: ${got === want ? want : `${got} (status ${res.status})`}`;
        if (res.status >= 400) expect(res.headers.get('content-type'), `${key} as ${role}`).toContain('application/problem+json');
      }
      expect(outcomes).toEqual(expected);
    });
  }
});
