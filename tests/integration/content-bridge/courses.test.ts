/** Courses: ordered items and prerequisites, against real PostgreSQL, Redis and MinIO. */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectSql, type SqlClient } from '../support/drivers.ts';
import { startTestBridge, type TestBridge } from '../support/content-bridge.ts';
import { client, signUp, type ApiResponse, type Client } from '../support/http.ts';

describe('courses', () => {
  let tb: TestBridge;
  let api: Client;
  let admin: string;
  let instructor: string;
  let student: string;
  let sql: SqlClient;

  async function item(title: string): Promise<string> {
    const form = new FormData();
    form.append('title', title);
    form.append('type', 'document');
    form.append('metadata', JSON.stringify({ duration_minutes: 5, difficulty_level: 'beginner' }));
    form.append('file', new Blob([new Uint8Array(Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(500)]))]), `${title}.pdf`);
    const res = await api.call('POST', '/api/content/upload', { token: instructor, raw: form });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.content_id;
  }

  beforeAll(async () => {
    tb = await startTestBridge();
    api = client(tb.url);
    admin = (await api.post('/auth/login', { username: 'admin', password: tb.adminCredentials.password })).body.access_token;
    instructor = (await signUp(api, { username: 'teacher', adminToken: admin, roles: ['instructor'] })).token;
    student = (await signUp(api, { username: 'learner' })).token;
    sql = await connectSql(tb.databaseUrl);
  });

  afterAll(async () => {
    await sql?.end();
    await tb?.close();
  });

  it('creates a course with ordered items and prerequisites, and returns them in order', async () => {
    const [a, b, c] = [await item('Rifle basics'), await item('Shot placement'), await item('Field dressing')];
    // Warm the content cache, to prove the course write invalidates it.
    expect((await api.get(`/api/content/${b}`, student)).body.course_id).toBeNull();
    const res = await api.post(
      '/api/courses',
      {
        title: 'Big game 101',
        description: 'From the range to the field',
        difficulty_level: 'beginner',
        estimated_hours: 6,
        metadata: { season: 'fall' },
        items: [
          { content_id: c, sequence_number: 30, prerequisites: [a, b] },
          { content_id: a, sequence_number: 10 },
          { content_id: b, sequence_number: 20, prerequisites: [a] },
        ],
      },
      instructor,
    );
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.headers.get('location')).toBe(`/api/courses/${res.body.course_id}`);
    expect(res.body).toMatchObject({
      title: 'Big game 101',
      description: 'From the range to the field',
      difficulty_level: 'beginner',
      estimated_hours: 6,
      metadata: { season: 'fall' },
    });
    const got = await api.get(`/api/courses/${res.body.course_id}`, student);
    expect(got.status).toBe(200);
    expect(got.body.items).toEqual([
      {
        content_id: a,
        title: 'Rifle basics',
        type: 'document',
        sequence_number: 10,
        prerequisites: [],
        duration_minutes: 5,
        difficulty_level: 'beginner',
      },
      {
        content_id: b,
        title: 'Shot placement',
        type: 'document',
        sequence_number: 20,
        prerequisites: [a],
        duration_minutes: 5,
        difficulty_level: 'beginner',
      },
      {
        content_id: c,
        title: 'Field dressing',
        type: 'document',
        sequence_number: 30,
        prerequisites: [a, b],
        duration_minutes: 5,
        difficulty_level: 'beginner',
      },
    ]);
    const content = await api.get(`/api/content/${b}`, student);
    expect(content.body).toMatchObject({
      course_id: res.body.course_id,
      sequence_number: 20,
      metadata: { prerequisites: [a] },
      version: 2,
    });
  });

  it('validates the body: unknown field, bad enum, bad uuid, duplicates, prerequisites outside the course', async () => {
    const [a, b] = [await item('V1'), await item('V2')];
    const post = (body: unknown) => api.post('/api/courses', body, instructor);
    const unknown = await post({ title: 'x', colour: 'red' });
    expect(unknown.status).toBe(422);
    expect(unknown.body.errors[0].message).toMatch(/colour/);
    expect((await post({ title: 'x', difficulty_level: 'expert' })).status).toBe(422);
    expect((await post({ title: '' })).status).toBe(422);
    expect((await post({ title: 'x', items: [{ content_id: 'nope', sequence_number: 1 }] })).status).toBe(422);
    expect((await post({ title: 'x', items: [{ content_id: a, sequence_number: 1, extra: true }] })).status).toBe(422);
    const dup = await post({
      title: 'x',
      items: [
        { content_id: a, sequence_number: 1 },
        { content_id: a, sequence_number: 2 },
      ],
    });
    expect(dup.status).toBe(422);
    expect(dup.body.errors[0].location).toBe('body.items.1.content_id');
    const outside = await post({ title: 'x', items: [{ content_id: a, sequence_number: 1, prerequisites: [b] }] });
    expect(outside.status).toBe(422);
    expect(outside.body.errors[0]).toEqual({ location: 'body.items.0.prerequisites.0', message: `${b} is not an item of this course` });
    const count = Number((await sql.query('SELECT count(*) FROM content.courses')).rows[0].count);
    expect((await post({ title: 'x', items: [{ content_id: a, sequence_number: 1, prerequisites: [a] }] })).status).toBe(422);
    expect(Number((await sql.query('SELECT count(*) FROM content.courses')).rows[0].count)).toBe(count);
  });

  it('names content that does not exist, is pending, or belongs to another course (422), and creates nothing', async () => {
    const missing = randomUUID();
    const count = Number((await sql.query('SELECT count(*) FROM content.courses')).rows[0].count);
    const res = await api.post('/api/courses', { title: 'Ghost', items: [{ content_id: missing, sequence_number: 1 }] }, instructor);
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual([{ location: 'body.items.0.content_id', message: `no published content item ${missing}` }]);

    const pending = await api.post(
      '/api/content/uploads',
      { title: 'Pending', type: 'document', filename: 'p.pdf', content_type: 'application/pdf' },
      instructor,
    );
    const p = await api.post(
      '/api/courses',
      { title: 'Pending', items: [{ content_id: pending.body.content_id, sequence_number: 1 }] },
      instructor,
    );
    expect(p.status).toBe(422);

    const taken = await item('Taken');
    const first = await api.post('/api/courses', { title: 'Owner', items: [{ content_id: taken, sequence_number: 1 }] }, instructor);
    expect(first.status).toBe(201);
    const second = await api.post('/api/courses', { title: 'Thief', items: [{ content_id: taken, sequence_number: 1 }] }, instructor);
    expect(second.status).toBe(422);
    expect(second.body.errors[0].message).toContain(first.body.course_id);
    expect(Number((await sql.query('SELECT count(*) FROM content.courses')).rows[0].count)).toBe(count + 1);
  });

  it('refuses prerequisite cycles and rolls the whole write back', async () => {
    const [a, b, c] = [await item('C1'), await item('C2'), await item('C3')];
    const res = await api.post(
      '/api/courses',
      {
        title: 'Circular',
        items: [
          { content_id: a, sequence_number: 1, prerequisites: [c] },
          { content_id: b, sequence_number: 2, prerequisites: [a] },
          { content_id: c, sequence_number: 3, prerequisites: [b] },
        ],
      },
      instructor,
    );
    expect(res.status).toBe(422);
    expect(res.body.detail).toMatch(/cycle/);
    const { rows } = await sql.query('SELECT course_id, prerequisites FROM content.content_items WHERE id = ANY($1::uuid[])', [[a, b, c]]);
    expect(rows.every((r) => r.course_id === null && r.prerequisites.length === 0)).toBe(true);
    expect((await sql.query("SELECT 1 FROM content.courses WHERE title = 'Circular'")).rowCount).toBe(0);
  });

  it('updates fields and replaces the item order with PUT; left-out items are detached', async () => {
    const [a, b, c] = [await item('P1'), await item('P2'), await item('P3')];
    const created = await api.post(
      '/api/courses',
      {
        title: 'To reorder',
        items: [
          { content_id: a, sequence_number: 1 },
          { content_id: b, sequence_number: 2, prerequisites: [a] },
        ],
      },
      instructor,
    );
    const id = created.body.course_id;
    await api.get(`/api/content/${b}`, student); // cached with the course
    const put = await api.put(
      `/api/courses/${id}`,
      {
        title: 'Reordered',
        estimated_hours: null,
        items: [
          { content_id: c, sequence_number: 1 },
          { content_id: a, sequence_number: 2, prerequisites: [c] },
        ],
      },
      admin,
    );
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body.title).toBe('Reordered');
    expect(put.body.items.map((i: { content_id: string; prerequisites: string[] }) => [i.content_id, i.prerequisites])).toEqual([
      [c, []],
      [a, [c]],
    ]);
    const detached = await api.get(`/api/content/${b}`, student);
    expect(detached.body).toMatchObject({ course_id: null, sequence_number: null });

    const fieldsOnly = await api.put(`/api/courses/${id}`, { description: 'Only the text' }, instructor);
    expect(fieldsOnly.body.items).toHaveLength(2);
    expect(fieldsOnly.body.description).toBe('Only the text');

    expect((await api.put(`/api/courses/${id}`, {}, instructor)).status).toBe(422);
    expect((await api.put(`/api/courses/${id}`, { colour: 'red' }, instructor)).status).toBe(422);
    expect((await api.put(`/api/courses/${randomUUID()}`, { title: 'x' }, instructor)).status).toBe(404);
    expect((await api.put('/api/courses/nope', { title: 'x' }, instructor)).status).toBe(422);
    expect((await api.put(`/api/courses/${id}`, { title: 'x' }, student)).status).toBe(403);
  });

  it('lists courses with keyset pagination and item counts', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: ApiResponse = await api.get(`/api/courses?limit=2${cursor ? `&cursor=${cursor}` : ''}`, student);
      expect(res.status).toBe(200);
      seen.push(...res.body.courses.map((c: { course_id: string }) => c.course_id));
      cursor = res.body.next_cursor;
    } while (cursor);
    const total = Number((await sql.query('SELECT count(*) FROM content.courses')).rows[0].count);
    expect(seen).toHaveLength(total);
    expect(new Set(seen).size).toBe(total);
    const all = await api.get('/api/courses?limit=200', student);
    const big = all.body.courses.find((c: { title: string }) => c.title === 'Big game 101');
    expect(big.item_count).toBe(3);
    expect((await api.get('/api/courses?cursor=bogus', student)).status).toBe(422);
    const forged = Buffer.from(JSON.stringify(['2025-13-45 99:99:99+00', randomUUID()])).toString('base64url');
    expect((await api.get(`/api/courses?cursor=${forged}`, student)).status).toBe(422);
    expect((await api.get('/api/courses?limit=0', student)).status).toBe(422);
    expect((await api.get('/api/courses')).status).toBe(401);
  });

  it('deletes a course (instructor or admin), detaching its items', async () => {
    const a = await item('D1');
    const created = await api.post('/api/courses', { title: 'Doomed', items: [{ content_id: a, sequence_number: 1 }] }, instructor);
    const id = created.body.course_id;
    await api.get(`/api/content/${a}`, student);
    expect((await api.del(`/api/courses/${id}`, student)).status).toBe(403);
    expect((await api.del(`/api/courses/${id}`)).status).toBe(401);
    expect((await api.del(`/api/courses/${id}`, instructor)).status).toBe(204);
    expect((await api.get(`/api/courses/${id}`, student)).status).toBe(404);
    expect((await api.get(`/api/content/${a}`, student)).body).toMatchObject({ course_id: null, sequence_number: null });
    expect((await api.del(`/api/courses/${id}`, admin)).status).toBe(404);
    expect((await api.del('/api/courses/nope', admin)).status).toBe(422);
  });

  it('refuses anonymous and student writes, allows student reads', async () => {
    expect((await api.post('/api/courses', { title: 'x' })).status).toBe(401);
    expect((await api.post('/api/courses', { title: 'x' }, student)).status).toBe(403);
    expect((await api.get(`/api/courses/${randomUUID()}`, student)).status).toBe(404);
    expect((await api.get('/api/courses/not-a-uuid', student)).status).toBe(422);
    expect((await api.get(`/api/courses/${randomUUID()}`)).status).toBe(401);
  });

  it('answers 409, not 500, when the signed-in user was deleted while their token is valid, and writes nothing (found by the fuzz suite)', async () => {
    const leaving = await signUp(api, { username: 'leaving_teacher', adminToken: admin, roles: ['instructor'] });
    await sql.query('DELETE FROM users.users WHERE id = $1', [leaving.userId]);
    const before = await sql.query<{ n: number }>('SELECT count(*)::int AS n FROM content.courses');
    const res = await api.post('/api/courses', { title: 'Orphaned course' }, leaving.token);
    expect(res.status, JSON.stringify(res.body)).toBe(409);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect((await sql.query<{ n: number }>('SELECT count(*)::int AS n FROM content.courses')).rows[0]!.n).toBe(before.rows[0]!.n);
  });
});
