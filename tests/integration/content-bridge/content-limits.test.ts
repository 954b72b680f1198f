/** Upload size limits (413) and the upload rate limit, against real PostgreSQL, Redis and MinIO. */
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectSql, incompleteUploads, listObjectKeys, type SqlClient } from '../support/drivers.ts';
import { startTestBridge, type TestBridge } from '../support/content-bridge.ts';
import { client, signUp, type Client } from '../support/http.ts';

const LIMIT = 1024;
const pdf = (size: number) => Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(size - 9)]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Order = 'fields first' | 'file first';

async function upload(api: Client, token: string, title: string, data: Buffer, order: Order = 'fields first') {
  const form = new FormData();
  const fields = () => {
    form.append('title', title);
    form.append('type', 'document');
  };
  if (order === 'fields first') fields();
  form.append('file', new Blob([new Uint8Array(data)]), `${title}.pdf`);
  if (order === 'file first') fields();
  return api.call('POST', '/api/content/upload', { token, raw: form });
}

/** Sends a multipart upload in two writes with a pause between them; resolves with the response. */
function slowUpload(url: string, token: string, first: Buffer, second: Buffer, order: Order): Promise<{ status: number; body: any }> {
  const boundary = `----hma${randomBytes(8).toString('hex')}`;
  const fields =
    `--${boundary}\r\nContent-Disposition: form-data; name="title"\r\n\r\nSlow\r\n` +
    `--${boundary}\r\nContent-Disposition: form-data; name="type"\r\n\r\ndocument\r\n`;
  const head = Buffer.from(
    (order === 'fields first' ? fields : '') + `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="slow.pdf"\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n${order === 'file first' ? fields : ''}--${boundary}--\r\n`);
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}/api/content/upload`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': `multipart/form-data; boundary=${boundary}`,
        'content-length': String(head.length + first.length + second.length + tail.length),
      },
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString() || 'null') }));
    });
    req.on('error', reject);
    req.write(Buffer.concat([head, first]));
    void sleep(300).then(() => req.end(Buffer.concat([second, tail])));
  });
}

describe('upload size limit (UPLOAD_MAX_BYTES=1024)', () => {
  let tb: TestBridge;
  let api: Client;
  let instructor: string;
  let sql: SqlClient;

  const keys = () => listObjectKeys(tb.bucket);
  const rows = async () => Number((await sql.query('SELECT count(*) FROM content.content_items')).rows[0].count);

  beforeAll(async () => {
    tb = await startTestBridge({ env: { UPLOAD_MAX_BYTES: String(LIMIT) } });
    api = client(tb.url);
    const admin = (await api.post('/auth/login', { username: 'admin', password: tb.adminCredentials.password })).body.access_token;
    instructor = (await signUp(api, { username: 'limited', adminToken: admin, roles: ['instructor'] })).token;
    sql = await connectSql(tb.databaseUrl);
  });

  afterAll(async () => {
    await sql?.end();
    await tb?.close();
  });

  it.each<Order>(['fields first', 'file first'])('accepts a file of exactly the limit (%s)', async (order) => {
    const data = pdf(LIMIT);
    const res = await upload(api, instructor, `exact-${order.replace(' ', '-')}`, data, order);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.size_bytes).toBe(LIMIT);
    expect(res.body.sha256).toBe(createHash('sha256').update(data).digest('hex'));
  });

  it.each<Order>(['fields first', 'file first'])('refuses one byte more with 413 and leaves nothing behind (%s)', async (order) => {
    const [before, count] = [await keys(), await rows()];
    for (const size of [LIMIT + 1, 2000]) {
      // With the file first, its fields arrive after a file that is already too big.
      const res = await upload(api, instructor, `over-${size}`, pdf(size), order);
      expect(res.status).toBe(413);
      expect(res.body).toMatchObject({ status: 413, title: 'Content Too Large' });
    }
    expect(await keys()).toEqual(before);
    expect(await incompleteUploads(tb.deps.store)).toEqual([]);
    expect(await rows()).toBe(count);
  });

  it.each<Order>(['fields first', 'file first'])(
    'refuses with 413 when the limit is crossed after storing began, and removes the partial object (%s)',
    async (order) => {
      const [before, count] = [await keys(), await rows()];
      const res = await slowUpload(tb.url, instructor, pdf(700), randomBytes(700), order);
      expect(res.status).toBe(413);
      expect(await keys()).toEqual(before);
      expect(await incompleteUploads(tb.deps.store)).toEqual([]);
      expect(await rows()).toBe(count);
    },
  );

  it('refuses a declared Content-Length far over the limit before reading the body', async () => {
    const res = await upload(api, instructor, 'huge', pdf(3 * 1024 * 1024));
    expect(res.status).toBe(413);
  });

  it('applies the limit to presigned uploads: declared size (413) and actual size on completion (413, deleted)', async () => {
    const base = { title: 'Presigned', type: 'document', filename: 'p.pdf', content_type: 'application/pdf' };
    expect((await api.post('/api/content/uploads', { ...base, size: LIMIT + 1 }, instructor)).status).toBe(413);
    const created = await api.post('/api/content/uploads', base, instructor);
    expect(created.status).toBe(201);
    const put = await fetch(created.body.upload_url, { method: 'PUT', body: new Uint8Array(pdf(5000)) });
    if (tb.deps.store.driver === 'filesystem') {
      // The embedded store's presigned PUT applies UPLOAD_MAX_BYTES while streaming (S3 takes any size; completion refuses it).
      expect(put.status).toBe(413);
      expect((await api.post(`/api/content/${created.body.content_id}/complete`, undefined, instructor)).status).toBe(409);
      expect(await keys()).not.toContain(created.body.object_key);
      return;
    }
    expect(put.status).toBe(200);
    const done = await api.post(`/api/content/${created.body.content_id}/complete`, undefined, instructor);
    expect(done.status).toBe(413);
    expect(await keys()).not.toContain(created.body.object_key);
    expect((await sql.query('SELECT 1 FROM content.content_items WHERE id = $1', [created.body.content_id])).rowCount).toBe(0);
  });
});

describe('upload rate limit', () => {
  it('answers 429 with Retry-After once a user exceeds the upload rule', async () => {
    const tb = await startTestBridge({ rateRules: { upload: { name: 'upload-user', limit: 2, windowSeconds: 60 } } });
    try {
      const api = client(tb.url);
      const admin = (await api.post('/auth/login', { username: 'admin', password: tb.adminCredentials.password })).body.access_token;
      expect((await upload(api, admin, 'one', pdf(100))).status).toBe(201);
      expect((await upload(api, admin, 'two', pdf(100))).status).toBe(201);
      const third = await upload(api, admin, 'three', pdf(100));
      expect(third.status).toBe(429);
      expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0);
    } finally {
      await tb.close();
    }
  });
});
