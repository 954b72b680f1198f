/** Progress: never backwards, completion, prerequisites and the per-course roll-up, against real services. */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBridge, type TestBridge } from '../support/content-bridge.ts';
import { client, signUp, type Client } from '../support/http.ts';

describe('progress', () => {
  let tb: TestBridge;
  let api: Client;
  let admin: string;
  let instructor: string;
  let course: string;
  let a: string; // first item
  let b: string; // requires a
  let c: string; // requires a and b
  let loose: string; // in no course

  async function item(title: string, token: string): Promise<string> {
    const form = new FormData();
    form.append('title', title);
    form.append('type', 'document');
    form.append('file', new Blob([new Uint8Array(Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(300)]))]), 'x.pdf');
    const res = await api.call('POST', '/api/content/upload', { token, raw: form });
    expect(res.status).toBe(201);
    return res.body.content_id;
  }
  const put = (contentId: string, body: unknown, token?: string) => api.put(`/api/progress/${contentId}`, body, token);

  beforeAll(async () => {
    tb = await startTestBridge();
    api = client(tb.url);
    admin = (await api.post('/auth/login', { username: 'admin', password: tb.adminCredentials.password })).body.access_token;
    instructor = (await signUp(api, { username: 'coach', adminToken: admin, roles: ['instructor'] })).token;
    [a, b, c, loose] = [
      await item('A', instructor),
      await item('B', instructor),
      await item('C', instructor),
      await item('Loose', instructor),
    ];
    const created = await api.post(
      '/api/courses',
      {
        title: 'Hunter education',
        items: [
          { content_id: a, sequence_number: 1 },
          { content_id: b, sequence_number: 2, prerequisites: [a] },
          { content_id: c, sequence_number: 3, prerequisites: [a, b] },
        ],
      },
      instructor,
    );
    expect(created.status).toBe(201);
    course = created.body.course_id;
  });

  afterAll(async () => {
    await tb?.close();
  });

  it('never goes backwards, and sets completed_at once when reaching 100', async () => {
    const me = await signUp(api, { username: 'steady' });
    const first = await put(a, { progress_percentage: 50, time_spent_minutes: 10 }, me.token);
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body).toMatchObject({
      user_id: me.userId,
      content_id: a,
      course_id: course,
      progress_percentage: 50,
      time_spent_minutes: 10,
      completed: false,
      completed_at: null,
    });

    const lower = await put(a, { progress_percentage: 30, time_spent_minutes: 4 }, me.token);
    expect(lower.body).toMatchObject({ progress_percentage: 50, time_spent_minutes: 10 });
    const keep = await put(a, { progress_percentage: 75.555 }, me.token);
    expect(keep.body).toMatchObject({ progress_percentage: 75.56, time_spent_minutes: 10 });

    const done = await put(a, { progress_percentage: 100, time_spent_minutes: 25 }, me.token);
    expect(done.body).toMatchObject({ progress_percentage: 100, time_spent_minutes: 25, completed: true });
    expect(Date.parse(done.body.completed_at)).not.toBeNaN();
    const again = await put(a, { progress_percentage: 20, time_spent_minutes: 30 }, me.token);
    expect(again.body).toMatchObject({ progress_percentage: 100, time_spent_minutes: 30, completed_at: done.body.completed_at });
  });

  it('keeps the maximum under concurrent updates (one upsert per request)', async () => {
    const me = await signUp(api, { username: 'racer' });
    const values = Array.from({ length: 20 }, (_, i) => (i * 37) % 97);
    const results = await Promise.all(values.map((v) => put(loose, { progress_percentage: v, time_spent_minutes: v }, me.token)));
    expect(results.every((r) => r.status === 200)).toBe(true);
    const final = await put(loose, { progress_percentage: 0 }, me.token);
    expect(final.body).toMatchObject({ progress_percentage: Math.max(...values), time_spent_minutes: Math.max(...values) });
  });

  it('refuses to complete an item before its prerequisites (409 listing them) and records nothing', async () => {
    const me = await signUp(api, { username: 'eager' });
    const refused = await put(c, { progress_percentage: 100, time_spent_minutes: 5 }, me.token);
    expect(refused.status).toBe(409);
    expect(refused.headers.get('content-type')).toMatch(/problem\+json/);
    expect(refused.body.missing_prerequisites).toEqual([a, b]);
    const mine = await api.get(`/api/users/${me.userId}/progress`, me.token);
    expect(mine.body.items).toEqual([]);

    // Partial progress is fine before the prerequisites are done.
    expect((await put(c, { progress_percentage: 99.99 }, me.token)).status).toBe(200);
    expect((await put(a, { progress_percentage: 100 }, me.token)).status).toBe(200);
    const stillB = await put(c, { progress_percentage: 100 }, me.token);
    expect(stillB.status).toBe(409);
    expect(stillB.body.missing_prerequisites).toEqual([b]);
    expect((await put(b, { progress_percentage: 100 }, me.token)).status).toBe(200);
    const ok = await put(c, { progress_percentage: 100 }, me.token);
    expect(ok.status).toBe(200);
    expect(ok.body.completed).toBe(true);
  });

  it('validates the request', async () => {
    const me = await signUp(api, { username: 'validator' });
    expect((await put(a, { progress_percentage: 101 }, me.token)).status).toBe(422);
    expect((await put(a, { progress_percentage: -1 }, me.token)).status).toBe(422);
    expect((await put(a, { progress_percentage: '50' }, me.token)).status).toBe(422);
    expect((await put(a, { progress_percentage: 10, time_spent_minutes: -5 }, me.token)).status).toBe(422);
    expect((await put(a, { progress_percentage: 10, time_spent_minutes: 1.5 }, me.token)).status).toBe(422);
    expect((await put(a, { progress_percentage: 10, user_id: randomUUID() }, me.token)).status).toBe(422);
    expect((await put(a, {}, me.token)).status).toBe(422);
    expect((await put('not-a-uuid', { progress_percentage: 10 }, me.token)).status).toBe(422);
    expect((await put(randomUUID(), { progress_percentage: 10 }, me.token)).status).toBe(404);
    expect((await put(a, { progress_percentage: 10 })).status).toBe(401);
  });

  it('rolls progress up per course, for the user, instructors and admins only', async () => {
    const me = await signUp(api, { username: 'rollup' });
    const other = await signUp(api, { username: 'nosy' });
    await put(a, { progress_percentage: 100, time_spent_minutes: 20 }, me.token);
    await put(b, { progress_percentage: 40, time_spent_minutes: 15 }, me.token);
    await put(loose, { progress_percentage: 100, time_spent_minutes: 7 }, me.token);

    const res = await api.get(`/api/users/${me.userId}/progress`, me.token);
    expect(res.status).toBe(200);
    expect(res.body.user_id).toBe(me.userId);
    expect(res.body.items).toHaveLength(3);
    expect(res.body.items.find((i: { content_id: string }) => i.content_id === b)).toMatchObject({
      title: 'B',
      progress_percentage: 40,
      completed: false,
    });
    expect(res.body.courses).toEqual([
      {
        course_id: course,
        title: 'Hunter education',
        total_items: 3,
        completed_items: 1,
        started_items: 2,
        percent_complete: 33.33,
        time_spent_minutes: 35,
      },
    ]);
    expect(res.body.totals).toEqual({ started_items: 3, completed_items: 2, time_spent_minutes: 42 });

    expect((await api.get(`/api/users/${me.userId}/progress`, instructor)).status).toBe(200);
    expect((await api.get(`/api/users/${me.userId}/progress`, admin)).status).toBe(200);
    expect((await api.get(`/api/users/${me.userId}/progress`, other.token)).status).toBe(403);
    expect((await api.get(`/api/users/${me.userId}/progress`)).status).toBe(401);
    expect((await api.get('/api/users/not-a-uuid/progress', admin)).status).toBe(422);
    expect((await api.get(`/api/users/${randomUUID()}/progress`, admin)).status).toBe(404);

    const empty = await api.get(`/api/users/${other.userId}/progress`, other.token);
    expect(empty.body).toEqual({
      user_id: other.userId,
      items: [],
      courses: [],
      totals: { started_items: 0, completed_items: 0, time_spent_minutes: 0 },
    });
  });
});
