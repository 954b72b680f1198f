/** Content against real PostgreSQL, Redis and MinIO: uploads, reads, cache, metadata, search, manifest, delete. */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheKeys, connectSql, incompleteUploads, listObjectKeys, type SqlClient } from '../support/drivers.ts';
import { startTestBridge, type TestBridge } from '../support/content-bridge.ts';
import { client, signUp, type Client } from '../support/http.ts';

const sha256 = (b: Buffer | Uint8Array) => createHash('sha256').update(b).digest('hex');

const pdf = (size = 4096) =>
  Buffer.concat([Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n', 'latin1'), randomBytes(size)]);
const mp4 = (size = 200_000) =>
  Buffer.concat([
    Buffer.from([0, 0, 0, 0x18]),
    Buffer.from('ftypisom'),
    Buffer.from([0, 0, 2, 0]),
    Buffer.from('isommp42'),
    randomBytes(size),
  ]);
const exe = () => Buffer.concat([Buffer.from('MZ\x90\x00\x03\x00\x00\x00', 'latin1'), randomBytes(2048)]);
const zip = () => Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), randomBytes(1024)]);

interface FilePart {
  name?: string;
  filename: string;
  data: Buffer;
  type?: string;
}

/** A multipart upload through fetch; parts are sent in the order given: `fields`, the file, then `after`. */
async function upload(
  api: Client,
  token: string | undefined,
  fields: Record<string, string>,
  file?: FilePart,
  after?: Record<string, string>,
) {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  if (file)
    form.append(
      file.name ?? 'file',
      new Blob([new Uint8Array(file.data)], { type: file.type ?? 'application/octet-stream' }),
      file.filename,
    );
  for (const [k, v] of Object.entries(after ?? {})) form.append(k, v);
  return api.call('POST', '/api/content/upload', { token, raw: form });
}

describe('content', () => {
  let tb: TestBridge;
  let api: Client;
  let admin: string;
  let instructor: { token: string; userId: string };
  /** A second instructor for the upload-order tests: the upload rate limit (60 a minute) is per user. */
  let uploader: { token: string; userId: string };
  let student: { token: string; userId: string };
  let sql: SqlClient;

  const keys = () => listObjectKeys(tb.bucket);
  const incomplete = () => incompleteUploads(tb.deps.store);
  const rowCount = async () => Number((await sql.query('SELECT count(*) FROM content.content_items')).rows[0].count);
  const requestsLogged = (path: string) =>
    tb.logLines.filter((l) => l.includes(`"path":"${path}"`) && l.includes('"msg":"request"')).length;

  async function uploadPdf(title: string, extra: Record<string, string> = {}, data = pdf()) {
    const res = await upload(api, instructor.token, { title, type: 'document', ...extra }, { filename: `${title}.pdf`, data });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body;
  }

  beforeAll(async () => {
    tb = await startTestBridge();
    api = client(tb.url);
    admin = (await api.post('/auth/login', { username: 'admin', password: tb.adminCredentials.password })).body.access_token;
    instructor = await signUp(api, { username: 'instructor1', adminToken: admin, roles: ['instructor'] });
    uploader = await signUp(api, { username: 'instructor2', adminToken: admin, roles: ['instructor'] });
    student = await signUp(api, { username: 'student1' });
    sql = await connectSql(tb.databaseUrl);
  });

  afterAll(async () => {
    await sql?.end();
    await tb?.close();
  });

  describe('POST /api/content/upload', () => {
    it('stores a PDF under content/<type>s/<format>/<id>-<slug>.<ext>, records its hash, and serves it through a presigned URL', async () => {
      const data = pdf(50_000);
      const res = await upload(
        api,
        instructor.token,
        {
          title: 'Safety Manual',
          type: 'document',
          metadata: JSON.stringify({
            duration_minutes: 30,
            difficulty_level: 'beginner',
            tags: ['Safety', 'firearms'],
            learning_objectives: ['Handle a rifle safely'],
            description: 'The basics of firearm safety',
          }),
        },
        { filename: 'safety manual.pdf', data, type: 'application/x-whatever' },
      );
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      const c = res.body;
      expect(c).toMatchObject({
        title: 'Safety Manual',
        type: 'document',
        description: 'The basics of firearm safety',
        metadata: {
          duration_minutes: 30,
          difficulty_level: 'beginner',
          tags: ['safety', 'firearms'],
          prerequisites: [],
          learning_objectives: ['Handle a rifle safely'],
        },
        mime_type: 'application/pdf',
        size_bytes: data.length,
        sha256: sha256(data),
        version: 1,
        thumbnail_url: null,
        course_id: null,
      });
      expect(c.object_key).toBe(`content/documents/pdf/${c.content_id}-safety-manual.pdf`);
      expect(res.headers.get('etag')).toBe('"v1"');
      expect(res.headers.get('location')).toBe(`/api/content/${c.content_id}`);
      expect(Date.parse(c.created_at)).not.toBeNaN();
      expect(await keys()).toContain(c.object_key);

      const got = await api.get(`/api/content/${c.content_id}`, student.token);
      expect(got.status).toBe(200);
      const download = await fetch(got.body.content_url);
      expect(download.status).toBe(200);
      const bytes = Buffer.from(await download.arrayBuffer());
      expect(sha256(bytes)).toBe(sha256(data));
      expect(download.headers.get('content-type')).toBe('application/pdf');
    });

    it('stores a video under content/videos/<course_id>/ and an uncategorised one under uncategorised/', async () => {
      const course = await api.post('/api/courses', { title: 'Elk 101' }, instructor.token);
      expect(course.status).toBe(201);
      const data = mp4();
      const inCourse = await upload(
        api,
        instructor.token,
        { title: 'Intro video', type: 'video', course_id: course.body.course_id },
        { filename: 'module_1_intro.mp4', data },
      );
      expect(inCourse.status, JSON.stringify(inCourse.body)).toBe(201);
      expect(inCourse.body.object_key).toBe(`content/videos/${course.body.course_id}/${inCourse.body.content_id}-module_1_intro.mp4`);
      expect(inCourse.body).toMatchObject({ mime_type: 'video/mp4', sha256: sha256(data), course_id: course.body.course_id });
      const loose = await upload(api, admin, { title: 'Loose video', type: 'video' }, { filename: 'clip.mp4', data: mp4(1000) });
      expect(loose.status).toBe(201);
      expect(loose.body.object_key).toMatch(/^content\/videos\/uncategorised\/[0-9a-f-]{36}-clip\.mp4$/);
    });

    it('sanitises file names: no traversal, no separators', async () => {
      const res = await upload(
        api,
        instructor.token,
        { title: 'Traversal', type: 'document' },
        { filename: '../../../etc/pässwd <x>.pdf', data: pdf() },
      );
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      expect(res.body.object_key).toMatch(/^content\/documents\/pdf\/[0-9a-f-]{36}-[A-Za-z0-9._-]+$/);
      expect(res.body.object_key).not.toContain('..');
      expect(res.body.object_key, res.body.object_key).toMatch(/-passwd-x\.pdf$/);
      const windows = await upload(
        api,
        instructor.token,
        { title: 'Backslash', type: 'document' },
        { filename: '..\\..\\boot.ini', data: pdf() },
      );
      expect(windows.body.object_key).toMatch(/^content\/documents\/pdf\/[0-9a-f-]{36}-boot\.ini$/);
      const odd = await upload(api, instructor.token, { title: 'Odd', type: 'document' }, { filename: '..', data: pdf() });
      expect(odd.body.object_key).toMatch(/^content\/documents\/pdf\/[0-9a-f-]{36}-file\.pdf$/);
    });

    it('accepts a ZIP package as interactive content and JSON as an assessment', async () => {
      const pkg = await upload(api, instructor.token, { title: 'Tracking sim', type: 'interactive' }, { filename: 'sim.zip', data: zip() });
      expect(pkg.status).toBe(201);
      expect(pkg.body.object_key).toMatch(/^content\/documents\/interactive\//);
      const quiz = await upload(
        api,
        instructor.token,
        { title: 'Quiz', type: 'assessment' },
        { filename: 'quiz.json', data: Buffer.from('{"questions":[]}') },
      );
      expect(quiz.status).toBe(201);
      expect(quiz.body).toMatchObject({ mime_type: 'application/json' });
      expect(quiz.body.object_key).toMatch(/^content\/assessments\/quizzes\//);
    });

    it('refuses anonymous callers (401) and students (403)', async () => {
      const anon = await upload(api, undefined, { title: 'x', type: 'document' }, { filename: 'x.pdf', data: pdf() });
      expect(anon.status).toBe(401);
      expect(anon.headers.get('content-type')).toMatch(/application\/problem\+json/);
      const denied = await upload(api, student.token, { title: 'x', type: 'document' }, { filename: 'x.pdf', data: pdf() });
      expect(denied.status).toBe(403);
    });

    it.each([
      ['an unknown field', { title: 'x', type: 'document', colour: 'red' }, 'body.colour'],
      ['a bad type enum', { title: 'x', type: 'podcast' }, 'body.type'],
      ['a missing title', { type: 'document' }, 'body.title'],
      ['a course_id that is not a UUID', { title: 'x', type: 'document', course_id: 'nope' }, 'body.course_id'],
      ['metadata that is not JSON', { title: 'x', type: 'document', metadata: '{oops' }, 'body.metadata'],
      ['an unknown metadata field', { title: 'x', type: 'document', metadata: '{"colour":"red"}' }, 'body.metadata'],
      ['a bad difficulty', { title: 'x', type: 'document', metadata: '{"difficulty_level":"expert"}' }, 'body.metadata.difficulty_level'],
      [
        'a prerequisite that is not a UUID',
        { title: 'x', type: 'document', metadata: '{"prerequisites":["1 OR 1=1"]}' },
        'body.metadata.prerequisites.0',
      ],
      ['a course that does not exist', { title: 'x', type: 'document', course_id: randomUUID() }, 'body.course_id'],
      [
        'a prerequisite that does not exist',
        { title: 'x', type: 'document', metadata: JSON.stringify({ prerequisites: [randomUUID()] }) },
        'body.metadata.prerequisites',
      ],
    ])('refuses %s with 422 and stores nothing', async (_name, fields, location) => {
      const [before, rows] = [await keys(), await rowCount()];
      const res = await upload(api, instructor.token, fields as Record<string, string>, { filename: 'x.pdf', data: pdf() });
      expect(res.status, JSON.stringify(res.body)).toBe(422);
      expect(res.body.errors.map((e: { location: string }) => e.location)).toContain(location);
      expect(await keys()).toEqual(before);
      expect(await rowCount()).toBe(rows);
    });

    describe('fields in any order', () => {
      /** What a finished or refused upload may leave behind: objects, staging objects, unfinished writes, rows. */
      const leftovers = async () => ({ keys: await keys(), incomplete: await incomplete(), rows: await rowCount() });

      it.each<[string, Record<string, string>, Record<string, string>]>([
        ['the file first', {}, { title: 'File first', type: 'document' }],
        ['the file between the fields', { title: 'File between' }, { type: 'document' }],
        ['the fields first', { title: 'Parts in order', type: 'document' }, {}],
      ])('stores a PDF sent with %s under its spec key, with its hash, and nothing staged', async (_order, before, after) => {
        const data = pdf(20_000);
        const title = { ...before, ...after }.title!;
        const res = await upload(api, uploader.token, before, { filename: 'manual.pdf', data }, after);
        expect(res.status, JSON.stringify(res.body)).toBe(201);
        expect(res.body).toMatchObject({
          title,
          type: 'document',
          mime_type: 'application/pdf',
          size_bytes: data.length,
          sha256: sha256(data),
        });
        expect(res.body.object_key).toBe(`content/documents/pdf/${res.body.content_id}-manual.pdf`);
        expect(await keys()).toContain(res.body.object_key);
        expect(await keys()).not.toContainEqual(expect.stringMatching(/^staging\//));
        expect(await incomplete()).toEqual([]);
        const download = await fetch((await api.get(`/api/content/${res.body.content_id}`, student.token)).body.content_url);
        expect(download.headers.get('content-type')).toBe('application/pdf');
        expect(sha256(Buffer.from(await download.arrayBuffer()))).toBe(sha256(data));
      });

      it('stores tiny and large files sent before their fields (one byte, 8 bytes of text, 6 MB)', async () => {
        for (const [filename, data, mime] of [
          ['a.txt', Buffer.from('x'), 'text/plain'],
          ['notes.txt', Buffer.from('elk hunt'), 'text/plain'],
          ['big.pdf', pdf(6_000_000), 'application/pdf'],
        ] as const) {
          const res = await upload(api, uploader.token, {}, { filename, data }, { title: filename, type: 'document' });
          expect(res.status, `${filename}: ${JSON.stringify(res.body)}`).toBe(201);
          expect(res.body).toMatchObject({ mime_type: mime, size_bytes: data.length, sha256: sha256(data) });
          expect(await keys()).toContain(res.body.object_key);
        }
        expect(await keys()).not.toContainEqual(expect.stringMatching(/^staging\//));
      });

      it('files a video under the course named after the file, whether the type came before it or not', async () => {
        const course = (await api.post('/api/courses', { title: 'Course named last' }, uploader.token)).body.course_id;
        const data = mp4();
        // Type before the file: stored under uncategorised/ at first, moved when course_id arrives.
        const typed = await upload(
          api,
          uploader.token,
          { title: 'Typed first', type: 'video' },
          { filename: 'a.mp4', data },
          { course_id: course },
        );
        // Nothing before the file: staged, then moved.
        const bare = await upload(
          api,
          uploader.token,
          {},
          { filename: 'b.mp4', data },
          { course_id: course, type: 'video', title: 'Bare' },
        );
        for (const [res, name] of [
          [typed, 'a.mp4'],
          [bare, 'b.mp4'],
        ] as const) {
          expect(res.status, JSON.stringify(res.body)).toBe(201);
          expect(res.body).toMatchObject({ course_id: course, mime_type: 'video/mp4', sha256: sha256(data) });
          expect(res.body.object_key).toBe(`content/videos/${course}/${res.body.content_id}-${name}`);
          const download = await fetch((await api.get(`/api/content/${res.body.content_id}`, student.token)).body.content_url);
          expect(download.headers.get('content-type')).toBe('video/mp4');
          expect(sha256(Buffer.from(await download.arrayBuffer()))).toBe(sha256(data));
        }
        const all = await keys();
        expect(all.filter((k) => k.includes(typed.body.content_id) || k.includes(bare.body.content_id))).toEqual(
          [typed.body.object_key, bare.body.object_key].sort(),
        );
      });

      it.each([
        ['a missing title', {}, { type: 'document' }, 422, 'body.title'],
        ['a missing type', {}, { title: 'x' }, 422, 'body.type'],
        ['a bad type enum', {}, { title: 'x', type: 'podcast' }, 422, 'body.type'],
        ['a course that does not exist', { title: 'x', type: 'document' }, { course_id: randomUUID() }, 422, 'body.course_id'],
        ['a course_id that is not a UUID', {}, { title: 'x', type: 'document', course_id: 'nope' }, 422, 'body.course_id'],
        ['metadata that is not JSON', { title: 'x' }, { type: 'document', metadata: '{oops' }, 422, 'body.metadata'],
        [
          'a prerequisite that does not exist',
          { title: 'x', type: 'document' },
          { metadata: JSON.stringify({ prerequisites: [randomUUID()] }) },
          422,
          'body.metadata.prerequisites',
        ],
        ['an unknown field', {}, { title: 'x', type: 'document', colour: 'red' }, 422, 'body.colour'],
        ['a field twice', { title: 'x' }, { type: 'document', title: 'y' }, 422, 'body.title'],
        ['a PDF as a video', {}, { title: 'x', type: 'video' }, 415, undefined],
      ])(
        'refuses %s sent after the file and leaves no object, no staging object, no row',
        async (_name, before, after, status, location) => {
          const was = await leftovers();
          const res = await upload(api, uploader.token, before, { filename: 'x.pdf', data: pdf(3_000_000) }, after);
          expect(res.status, JSON.stringify(res.body)).toBe(status);
          expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
          if (location) expect(res.body.errors.map((e: { location: string }) => e.location)).toContain(location);
          expect(await leftovers()).toEqual(was);
        },
      );

      it('refuses a file no content type allows as soon as it is sniffed (415), before its fields arrive', async () => {
        const was = await leftovers();
        const res = await upload(api, uploader.token, {}, { filename: 'setup.pdf', data: exe() }, { title: 'x', type: 'document' });
        expect(res.status, JSON.stringify(res.body)).toBe(415);
        expect(res.body.detail).toMatch(/not allowed for any content type/);
        expect(await leftovers()).toEqual(was);
      });
    });

    it('refuses a form without a file, a file part with another name, and a non-multipart body', async () => {
      const none = await upload(api, instructor.token, { title: 'nofile', type: 'document' });
      expect(none.status).toBe(422);
      expect(none.body.errors[0].location).toBe('body.file');
      const renamed = await upload(
        api,
        instructor.token,
        { title: 'x', type: 'document' },
        { name: 'upload', filename: 'x.pdf', data: pdf() },
      );
      expect(renamed.status).toBe(422);
      const json = await api.post('/api/content/upload', { title: 'x', type: 'document' }, instructor.token);
      expect(json.status).toBe(415);
    });

    it.each([
      ['an executable as a document', 'document', 'setup.pdf', exe()],
      ['a PDF as a video', 'video', 'movie.mp4', pdf()],
      ['HTML as interactive content', 'interactive', 'page.html', Buffer.from('<!doctype html><script>alert(1)</script>')],
      ['an empty file', 'document', 'empty.pdf', Buffer.alloc(0)],
    ])('refuses %s by its magic bytes (415): no row, no object', async (_name, type, filename, data) => {
      const [before, rows] = [await keys(), await rowCount()];
      const res = await upload(api, instructor.token, { title: 'bad bytes', type }, { filename, data, type: 'application/pdf' });
      expect(res.status, JSON.stringify(res.body)).toBe(415);
      expect(res.body.type).toMatch(/^https:\/\//);
      expect(await keys()).toEqual(before);
      expect(await rowCount()).toBe(rows);
      expect(await incomplete()).toEqual([]);
    });

    it.each([
      ['the fields first', ['title', 'type']],
      ['the file first', []],
    ])('leaves no row and no object when the client aborts mid-stream (%s)', async (_order, fieldsFirst) => {
      const [before, rows, logged] = [await keys(), await rowCount(), requestsLogged('/api/content/upload')];
      const boundary = `----hma${randomBytes(8).toString('hex')}`;
      const values: Record<string, string> = { title: 'Aborted', type: 'document' };
      const head =
        fieldsFirst.map((name) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${values[name]}\r\n`).join('') +
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.pdf"\r\nContent-Type: application/pdf\r\n\r\n`;
      const req = http.request(`${tb.url}/api/content/upload`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${uploader.token}`,
          'content-type': `multipart/form-data; boundary=${boundary}`,
          'content-length': String(head.length + 50_000_000),
        },
      });
      req.on('error', () => undefined);
      req.write(head);
      req.write(pdf(512 * 1024));
      // Wait until the server has started a multipart upload in the store, i.e. it is mid-stream.
      const deadline = Date.now() + 10_000;
      while ((await incomplete()).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(await incomplete()).toHaveLength(1);
      req.destroy();
      while (requestsLogged('/api/content/upload') === logged && Date.now() < deadline + 10_000)
        await new Promise((r) => setTimeout(r, 50));
      expect(requestsLogged('/api/content/upload')).toBe(logged + 1);
      expect(await keys()).toEqual(before);
      expect(await incomplete()).toEqual([]);
      expect(await rowCount()).toBe(rows);
    });

    it('also answers on the /content/upload alias', async () => {
      const form = new FormData();
      form.append('title', 'Alias');
      form.append('type', 'document');
      form.append('file', new Blob([new Uint8Array(pdf())]), 'alias.pdf');
      const res = await api.call('POST', '/content/upload', { token: instructor.token, raw: form });
      expect(res.status).toBe(201);
    });
  });

  describe('GET /api/content/{content_id}', () => {
    it('validates the id (422), needs a token (401) and hides unknown ids (404)', async () => {
      expect((await api.get('/api/content/not-a-uuid', student.token)).status).toBe(422);
      expect((await api.get(`/api/content/${randomUUID()}`)).status).toBe(401);
      const missing = await api.get(`/api/content/${randomUUID()}`, student.token);
      expect(missing.status).toBe(404);
      expect(missing.headers.get('content-type')).toMatch(/problem\+json/);
    });

    it('serves the second read from Redis and invalidates it on a metadata update', async () => {
      const c = await uploadPdf('Cached item');
      const first = await api.get(`/api/content/${c.content_id}`, student.token);
      expect(first.headers.get('x-cache')).toBe('miss');
      const cachedKeys = await cacheKeys(`${tb.bucket}:`, `content:${c.content_id}:doc`);
      expect(cachedKeys).toHaveLength(1);

      // Change the row behind the cache's back: a cached read still shows the old title.
      await sql.query('UPDATE content.content_items SET title = $2 WHERE id = $1', [c.content_id, 'Changed in SQL']);
      const second = await api.get(`/api/content/${c.content_id}`, student.token);
      expect(second.headers.get('x-cache')).toBe('hit');
      expect(second.body.title).toBe('Cached item');
      // The presigned URL is not part of the cached document: it is signed (or reused) per response.
      expect((await fetch(second.body.content_url)).status).toBe(200);

      const upd = await api.post('/api/content/metadata', { content_id: c.content_id, title: 'Updated title' }, instructor.token);
      expect(upd.status).toBe(200);
      const third = await api.get(`/api/content/${c.content_id}`, student.token);
      expect(third.headers.get('x-cache')).toBe('miss');
      expect(third.body.title).toBe('Updated title');
      expect(third.body.version).toBe(2);
    });
  });

  describe('POST /api/content/metadata', () => {
    it('uses the ETag for optimistic concurrency: stale If-Match → 412, current → 200 with a new ETag', async () => {
      const c = await uploadPdf('Versioned');
      const got = await api.get(`/api/content/${c.content_id}`, instructor.token);
      const etag = got.headers.get('etag')!;
      expect(etag).toBe('"v1"');
      const ok = await api.post('/api/content/metadata', { content_id: c.content_id, tags: ['Elk', 'elk', 'calls'] }, instructor.token, {
        'if-match': etag,
      });
      expect(ok.status, JSON.stringify(ok.body)).toBe(200);
      expect(ok.headers.get('etag')).toBe('"v2"');
      expect(ok.body.metadata.tags).toEqual(['elk', 'calls']);
      const stale = await api.post('/api/content/metadata', { content_id: c.content_id, title: 'Lost update' }, admin, {
        'if-match': etag,
      });
      expect(stale.status).toBe(412);
      expect(stale.body.detail).toContain('"v2"');
      const weak = await api.post('/api/content/metadata', { content_id: c.content_id, title: 'Weak' }, admin, { 'if-match': 'W/"v2"' });
      expect(weak.status).toBe(412);
      const list = await api.post(
        '/api/content/metadata',
        { content_id: c.content_id, duration_minutes: 12, difficulty_level: 'advanced' },
        admin,
        {
          'if-match': '"v1", "v2"',
        },
      );
      expect(list.status).toBe(200);
      // Without If-Match the update is accepted (last writer wins).
      const blind = await api.post('/api/content/metadata', { content_id: c.content_id, title: 'Blind', description: 'new text' }, admin);
      expect(blind.status).toBe(200);
      expect(blind.body).toMatchObject({
        title: 'Blind',
        description: 'new text',
        version: 4,
        metadata: { tags: ['elk', 'calls'], duration_minutes: 12, difficulty_level: 'advanced' },
      });
      const row = (await sql.query('SELECT title, version FROM content.content_items WHERE id = $1', [c.content_id])).rows[0];
      expect(row).toEqual({ title: 'Blind', version: 4 });
      const cleared = await api.post('/api/content/metadata', { content_id: c.content_id, difficulty_level: null }, admin);
      expect(cleared.body.metadata.difficulty_level).toBeNull();
    });

    it('validates the body and the references', async () => {
      const c = await uploadPdf('Validated');
      const post = (body: unknown, token = instructor.token) => api.post('/api/content/metadata', body, token);
      expect((await post({ content_id: c.content_id, colour: 'red' })).status).toBe(422);
      expect((await post({ content_id: 'nope', title: 'x' })).status).toBe(422);
      expect((await post({ content_id: c.content_id, difficulty_level: 'expert' })).status).toBe(422);
      expect((await post({ content_id: c.content_id })).status).toBe(422);
      expect((await post({ content_id: randomUUID(), title: 'x' })).status).toBe(404);
      const badPrereq = await post({ content_id: c.content_id, prerequisites: [randomUUID()] });
      expect(badPrereq.status).toBe(422);
      expect(badPrereq.body.errors[0].location).toBe('body.prerequisites');
      const badCourse = await post({ content_id: c.content_id, course_id: randomUUID() });
      expect(badCourse.status).toBe(422);
      expect((await post({ content_id: c.content_id, title: 'x' }, student.token)).status).toBe(403);
      expect((await api.post('/api/content/metadata', { content_id: c.content_id, title: 'x' })).status).toBe(401);
    });

    it('refuses prerequisites that would form a cycle, and leaves the item unchanged', async () => {
      const a = await uploadPdf('Cycle A');
      const b = await uploadPdf('Cycle B', { metadata: JSON.stringify({ prerequisites: [a.content_id] }) });
      expect(b.metadata.prerequisites).toEqual([a.content_id]);
      const self = await api.post('/api/content/metadata', { content_id: a.content_id, prerequisites: [a.content_id] }, instructor.token);
      expect(self.status).toBe(422);
      const cycle = await api.post('/api/content/metadata', { content_id: a.content_id, prerequisites: [b.content_id] }, instructor.token);
      expect(cycle.status).toBe(422);
      expect(cycle.body.detail).toMatch(/cycle/);
      const after = await api.get(`/api/content/${a.content_id}`, instructor.token);
      expect(after.body.metadata.prerequisites).toEqual([]);
      expect(after.body.version).toBe(1);
    });
  });

  describe('GET /api/content/search', () => {
    let course: string;
    const ids: Record<string, string> = {};

    beforeAll(async () => {
      course = (await api.post('/api/courses', { title: 'Search course' }, admin)).body.course_id;
      const items: Array<[string, string, Record<string, unknown>, string?]> = [
        ['Wapiti calling basics', 'document', { tags: ['wapiti', 'calls'], difficulty_level: 'beginner' }, course],
        [
          'Advanced wapiti bugling',
          'document',
          { tags: ['wapiti', 'calls'], difficulty_level: 'advanced', learning_objectives: ['Bugle like a bull wapiti'] },
          course,
        ],
        ['Wapiti anatomy and shot placement', 'document', { tags: ['wapiti', 'anatomy'], difficulty_level: 'intermediate' }],
        ['Whitetail scouting', 'document', { tags: ['deer'], difficulty_level: 'beginner', description: 'Find wapiti sign too' }],
        ['Duck identification', 'document', { tags: ['waterfowl'], difficulty_level: 'beginner' }],
      ];
      for (const [title, type, metadata, courseId] of items) {
        const c = await uploadPdf(title, { type, metadata: JSON.stringify(metadata), ...(courseId ? { course_id: courseId } : {}) });
        ids[title] = c.content_id;
      }
      await upload(
        api,
        instructor.token,
        { title: 'Wapiti video', type: 'video', metadata: '{"tags":["wapiti"]}' },
        { filename: 'wapiti.mp4', data: mp4(100) },
      );
    });

    const search = (qs: string, token = student.token) => api.get(`/api/content/search?${qs}`, token);

    it('ranks full-text matches: title hits before tag and description hits', async () => {
      const res = await search('q=wapiti&type=document&limit=50');
      expect(res.status).toBe(200);
      const titles = res.body.results.map((r: { title: string }) => r.title);
      expect(titles).toHaveLength(4);
      expect(titles).not.toContain('Duck identification');
      expect(titles[titles.length - 1]).toBe('Whitetail scouting'); // only the description (weight D) mentions wapiti
      expect(res.body.next_cursor).toBeNull();
      expect(res.body.results[0].content_url).toMatch(/^http/);
    });

    it('supports websearch syntax and combines filters', async () => {
      const phrase = await search(`q=${encodeURIComponent('"wapiti bugling" -anatomy')}`);
      expect(phrase.body.results.map((r: { title: string }) => r.title)).toEqual(['Advanced wapiti bugling']);
      const filtered = await search(`q=wapiti&difficulty=beginner&type=document`);
      expect(filtered.body.results.map((r: { title: string }) => r.title).sort()).toEqual(['Wapiti calling basics', 'Whitetail scouting']);
      const tags = await search(`tags=wapiti,calls&course_id=${course}`);
      expect(tags.body.results.map((r: { title: string }) => r.title)).toEqual(['Wapiti calling basics', 'Advanced wapiti bugling']);
      const video = await search('q=wapiti&type=video');
      expect(video.body.results.map((r: { title: string }) => r.title)).toEqual(['Wapiti video']);
      const none = await search('q=wapiti&tags=waterfowl');
      expect(none.body.results).toEqual([]);
    });

    it('pages through ranked results and through the unranked listing without gaps or repeats', async () => {
      for (const qs of ['q=wapiti', '']) {
        const seen: string[] = [];
        let cursor: string | null = null;
        let pages = 0;
        do {
          const res = await search(`${qs}&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
          expect(res.status).toBe(200);
          expect(res.body.results.length).toBeLessThanOrEqual(2);
          seen.push(...res.body.results.map((r: { content_id: string }) => r.content_id));
          cursor = res.body.next_cursor;
          pages++;
        } while (cursor && pages < 50);
        const all = await search(`${qs}&limit=100`);
        expect(seen).toEqual(all.body.results.map((r: { content_id: string }) => r.content_id));
        expect(new Set(seen).size).toBe(seen.length);
        expect(pages).toBeGreaterThan(2);
      }
    });

    it('validates the query: bad cursor, cursor of another query, bad enums, unknown params, bad limit', async () => {
      expect((await search('cursor=garbage')).status).toBe(422);
      const forge = (c: object) => Buffer.from(JSON.stringify(c)).toString('base64url');
      expect((await search(`cursor=${forge({ m: 't', k: '2025-13-45 99:99:99+00', id: randomUUID() })}`)).status).toBe(422);
      expect((await search(`q=wapiti&cursor=${forge({ m: 'r', k: '1e999', id: randomUUID() })}`)).status).toBe(422);
      expect((await search(`q=wapiti&cursor=${forge({ m: 'r', k: "0' OR 1=1", id: randomUUID() })}`)).status).toBe(422);
      const ranked = await search('q=wapiti&limit=1');
      expect((await search(`cursor=${ranked.body.next_cursor}`)).status).toBe(422);
      expect((await search('type=podcast')).status).toBe(422);
      expect((await search('difficulty=expert')).status).toBe(422);
      expect((await search('colour=red')).status).toBe(422);
      expect((await search('limit=0')).status).toBe(422);
      expect((await search('course_id=nope')).status).toBe(422);
      expect((await api.get('/api/content/search?q=wapiti')).status).toBe(401);
    });

    it('treats injection attempts as plain search text', async () => {
      for (const q of ["'; DROP TABLE content.content_items; --", "wapiti' OR '1'='1", '"unterminated', '!!! & | <-> :*', '\\x00']) {
        const res = await search(`q=${encodeURIComponent(q)}`);
        expect(res.status, q).toBe(200);
      }
      const tags = await search(`tags=${encodeURIComponent('"]} OR 1=1 --')}`);
      expect(tags.status).toBe(200);
      expect(tags.body.results).toEqual([]);
      const path = await api.get(`/api/content/${encodeURIComponent("'; DROP TABLE content.content_items; --")}`, student.token);
      expect(path.status).toBe(422);
      const del = await api.del(`/api/content/${encodeURIComponent('1 OR 1=1')}`, admin);
      expect(del.status).toBe(422);
      const { rows } = await sql.query(`SELECT to_regclass('content.content_items') AS t`);
      expect(rows[0].t).toBe('content.content_items');
      expect((await search('q=wapiti')).body.results.length).toBeGreaterThan(0);
    });
  });

  describe('GET /api/manifest', () => {
    it('lists published items with a strong ETag and answers If-None-Match with 304', async () => {
      const c = await uploadPdf('Manifest item');
      const first = await api.get('/api/manifest', student.token);
      expect(first.status).toBe(200);
      const etag = first.headers.get('etag')!;
      expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
      const item = first.body.items.find((i: { content_id: string }) => i.content_id === c.content_id);
      expect(item).toEqual({
        content_id: c.content_id,
        title: 'Manifest item',
        type: 'document',
        version: 1,
        size_bytes: c.size_bytes,
        sha256: c.sha256,
        mime_type: 'application/pdf',
        object_key: c.object_key,
        updated_at: c.updated_at,
      });
      expect(first.body.count).toBe(first.body.items.length);

      const unchanged = await api.get('/api/manifest', student.token, { 'if-none-match': etag });
      expect(unchanged.status).toBe(304);
      expect(unchanged.body).toBe('');
      expect(unchanged.headers.get('etag')).toBe(etag);
      expect((await api.get('/api/manifest', student.token, { 'if-none-match': `"other", W/${etag}` })).status).toBe(304);

      await api.post('/api/content/metadata', { content_id: c.content_id, title: 'Manifest item v2' }, instructor.token);
      const changed = await api.get('/api/manifest', student.token, { 'if-none-match': etag });
      expect(changed.status).toBe(200);
      expect(changed.headers.get('etag')).not.toBe(etag);
      expect((await api.get('/api/manifest')).status).toBe(401);
    });
  });

  describe('presigned uploads', () => {
    const start = (body: Record<string, unknown>, token = instructor.token) => api.post('/api/content/uploads', body, token);

    it('runs end to end: pending item invisible, PUT to upload_url, complete publishes it with its hash', async () => {
      const data = mp4(300_000);
      const created = await start({
        title: 'Big field video',
        type: 'video',
        filename: 'field.mp4',
        content_type: 'video/mp4',
        size: data.length,
        metadata: { tags: ['field'], duration_minutes: 45 },
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const id = created.body.content_id;
      expect(created.body.object_key).toBe(`content/videos/uncategorised/${id}-field.mp4`);
      expect(Date.parse(created.body.expires_at)).toBeGreaterThan(Date.now());

      // Pending: invisible to every read.
      expect((await api.get(`/api/content/${id}`, instructor.token)).status).toBe(404);
      expect((await api.get('/api/content/search?q=field', student.token)).body.results).toEqual([]);
      expect((await api.get('/api/manifest', student.token)).body.items.map((i: { content_id: string }) => i.content_id)).not.toContain(id);
      const early = await api.post(`/api/content/${id}/complete`, undefined, instructor.token);
      expect(early.status).toBe(409);

      const put = await fetch(created.body.upload_url, {
        method: 'PUT',
        body: new Uint8Array(data),
        headers: { 'content-type': 'video/mp4' },
      });
      expect(put.status).toBe(200);
      expect((await api.post(`/api/content/${id}/complete`, undefined, student.token)).status).toBe(403);
      const done = await api.post(`/api/content/${id}/complete`, undefined, instructor.token);
      expect(done.status, JSON.stringify(done.body)).toBe(200);
      expect(done.body).toMatchObject({
        content_id: id,
        sha256: sha256(data),
        size_bytes: data.length,
        mime_type: 'video/mp4',
        metadata: { tags: ['field'] },
      });
      expect((await api.post(`/api/content/${id}/complete`, undefined, instructor.token)).status).toBe(409);

      const got = await api.get(`/api/content/${id}`, student.token);
      expect(got.status).toBe(200);
      expect(sha256(Buffer.from(await (await fetch(got.body.content_url)).arrayBuffer()))).toBe(sha256(data));
      expect(
        (await api.get('/api/content/search?q=field', student.token)).body.results.map((r: { content_id: string }) => r.content_id),
      ).toEqual([id]);
    });

    it('deletes the object and the row when the uploaded bytes are not the declared, allowed type', async () => {
      const created = await start({ title: 'Fake pdf', type: 'document', filename: 'x.pdf', content_type: 'application/pdf' });
      expect(created.status).toBe(201);
      const put = await fetch(created.body.upload_url, { method: 'PUT', body: new Uint8Array(exe()) });
      expect(put.status).toBe(200);
      expect(await keys()).toContain(created.body.object_key);
      const done = await api.post(`/api/content/${created.body.content_id}/complete`, undefined, instructor.token);
      expect(done.status).toBe(422);
      expect(await keys()).not.toContain(created.body.object_key);
      expect((await sql.query('SELECT 1 FROM content.content_items WHERE id = $1', [created.body.content_id])).rowCount).toBe(0);

      const mismatch = await start({ title: 'Declared png', type: 'document', filename: 'x.png', content_type: 'image/png' });
      await fetch(mismatch.body.upload_url, { method: 'PUT', body: new Uint8Array(pdf()) });
      const refused = await api.post(`/api/content/${mismatch.body.content_id}/complete`, undefined, instructor.token);
      expect(refused.status).toBe(422);
      expect(await keys()).not.toContain(mismatch.body.object_key);

      const sized = await start({ title: 'Wrong size', type: 'document', filename: 'x.pdf', content_type: 'application/pdf', size: 10 });
      await fetch(sized.body.upload_url, { method: 'PUT', body: new Uint8Array(pdf()) });
      expect((await api.post(`/api/content/${sized.body.content_id}/complete`, undefined, instructor.token)).status).toBe(422);
      expect(await keys()).not.toContain(sized.body.object_key);
    });

    it('validates the request and the caller', async () => {
      const base = { title: 'x', type: 'document', filename: 'x.pdf', content_type: 'application/pdf' };
      expect((await start({ ...base, colour: 'red' })).status).toBe(422);
      expect((await start({ ...base, type: 'podcast' })).status).toBe(422);
      expect((await start({ ...base, content_type: 'text/html' })).status).toBe(422);
      expect((await start({ ...base, content_type: 'video/mp4' })).status).toBe(422); // not allowed for documents
      expect((await start({ ...base, course_id: 'nope' })).status).toBe(422);
      expect((await start({ ...base, course_id: randomUUID() })).status).toBe(422);
      expect((await start({ ...base, size: 3 * 1024 ** 3 })).status).toBe(413);
      expect((await start(base, student.token)).status).toBe(403);
      expect((await api.post('/api/content/uploads', base)).status).toBe(401);
      expect((await api.post('/api/content/not-a-uuid/complete', undefined, instructor.token)).status).toBe(422);
      expect((await api.post(`/api/content/${randomUUID()}/complete`, undefined, instructor.token)).status).toBe(404);
    });
  });

  describe('DELETE /api/content/{content_id}', () => {
    it('removes the object and the row, drops it from other items’ prerequisites, and empties the cache', async () => {
      const a = await uploadPdf('Delete me');
      const b = await uploadPdf('Depends on it', { metadata: JSON.stringify({ prerequisites: [a.content_id] }) });
      await api.get(`/api/content/${a.content_id}`, student.token);
      await api.get(`/api/content/${b.content_id}`, student.token);
      expect((await api.del(`/api/content/${a.content_id}`, instructor.token)).status).toBe(403);
      expect((await api.del(`/api/content/${a.content_id}`)).status).toBe(401);
      const res = await api.del(`/api/content/${a.content_id}`, admin);
      expect(res.status).toBe(204);
      expect(await keys()).not.toContain(a.object_key);
      expect((await sql.query('SELECT 1 FROM content.content_items WHERE id = $1', [a.content_id])).rowCount).toBe(0);
      expect((await api.get(`/api/content/${a.content_id}`, student.token)).status).toBe(404);
      const dependant = await api.get(`/api/content/${b.content_id}`, student.token);
      expect(dependant.body.metadata.prerequisites).toEqual([]);
      expect(dependant.body.version).toBe(2);
      expect((await api.del(`/api/content/${a.content_id}`, admin)).status).toBe(404);
    });

    it('deletes a pending presigned upload too', async () => {
      const created = await api.post(
        '/api/content/uploads',
        { title: 'Abandoned', type: 'document', filename: 'a.pdf', content_type: 'application/pdf' },
        instructor.token,
      );
      expect((await api.del(`/api/content/${created.body.content_id}`, admin)).status).toBe(204);
      expect((await sql.query('SELECT 1 FROM content.content_items WHERE id = $1', [created.body.content_id])).rowCount).toBe(0);
    });
  });

  it('documents the routes in OpenAPI', async () => {
    const doc = await api.get('/openapi.json');
    for (const path of [
      '/api/content/upload',
      '/api/content/uploads',
      '/api/content/{content_id}',
      '/api/content/search',
      '/api/manifest',
      '/api/content/metadata',
    ]) {
      expect(doc.body.paths[path], path).toBeDefined();
    }
    expect(doc.body.paths['/api/manifest'].get.summary).toMatch(/signed-in/);
    expect(doc.body.paths['/api/content/upload'].post.requestBody.content['multipart/form-data']).toBeDefined();
  });
});
