/** Content when a dependency fails: Redis down (reads fall back to PostgreSQL), MinIO down (503, nothing half-written). */
import { randomBytes } from 'node:crypto';
import * as Minio from 'minio';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMinio, startRedis, type MinioHandle, type RedisHandle } from '../../harness/index.ts';
import { defaultEndpoints, startTestBridge, type TestBridge } from '../support/content-bridge.ts';
import { client, type Client } from '../support/http.ts';

const pdf = () => Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(20_000)]);

async function upload(api: Client, token: string, title: string) {
  const form = new FormData();
  form.append('title', title);
  form.append('type', 'document');
  form.append('file', new Blob([new Uint8Array(pdf())]), `${title}.pdf`);
  return api.call('POST', '/api/content/upload', { token, raw: form });
}

async function login(api: Client, tb: TestBridge): Promise<string> {
  return (await api.post('/auth/login', { username: 'admin', password: tb.adminCredentials.password })).body.access_token;
}

describe('Redis down', () => {
  let redis: RedisHandle;
  let tb: TestBridge;
  let api: Client;
  let admin: string;

  beforeAll(async () => {
    redis = await startRedis();
    tb = await startTestBridge({ endpoints: { ...defaultEndpoints(), redisUrl: redis.url } });
    api = client(tb.url);
    admin = await login(api, tb);
  });

  afterAll(async () => {
    await tb?.close();
    await redis?.close();
  });

  it('serves reads from PostgreSQL while Redis is down, and writes still work', async () => {
    const created = await upload(api, admin, 'Resilient');
    expect(created.status).toBe(201);
    const id = created.body.content_id;
    expect((await api.get(`/api/content/${id}`, admin)).headers.get('x-cache')).toBe('miss');
    expect((await api.get(`/api/content/${id}`, admin)).headers.get('x-cache')).toBe('hit');

    await redis.stop();
    const down = await api.get(`/api/content/${id}`, admin);
    expect(down.status).toBe(200);
    expect(down.headers.get('x-cache')).toBe('miss');
    expect(down.body.title).toBe('Resilient');
    expect((await fetch(down.body.content_url)).status).toBe(200);

    const updated = await api.post('/api/content/metadata', { content_id: id, title: 'Updated while Redis was down' }, admin);
    expect(updated.status).toBe(200);
    expect((await api.get(`/api/content/${id}`, admin)).body.title).toBe('Updated while Redis was down');
    expect((await api.get('/api/content/search?q=updated', admin)).body.results).toHaveLength(1);
    expect((await api.get('/api/manifest', admin)).status).toBe(200);
    expect((await upload(api, admin, 'Uploaded while Redis was down')).status).toBe(201); // the rate limit fails open
    expect(tb.logLines.some((l) => l.includes('content cache unavailable'))).toBe(true);

    await redis.start();
    const deadline = Date.now() + 15_000;
    let cached = '';
    while (cached !== 'hit' && Date.now() < deadline) {
      const res = await api.get(`/api/content/${id}`, admin);
      expect(res.status).toBe(200);
      expect(res.body.title).toBe('Updated while Redis was down');
      cached = res.headers.get('x-cache') ?? '';
      if (cached !== 'hit') await new Promise((r) => setTimeout(r, 200));
    }
    expect(cached).toBe('hit');
  });
});

describe('MinIO down', () => {
  let minio: MinioHandle;
  let tb: TestBridge;
  let api: Client;
  let admin: string;
  let sql: pg.Client;
  let s3: Minio.Client;

  const keys = async () => {
    const names: string[] = [];
    for await (const o of s3.listObjectsV2(tb.bucket, '', true)) if (o.name) names.push(o.name);
    return names.sort();
  };
  const incomplete = async () => {
    const uploads: string[] = [];
    for await (const u of s3.listIncompleteUploads(tb.bucket, '', true)) uploads.push(u.key);
    return uploads;
  };
  const rows = async () => Number((await sql.query('SELECT count(*) FROM content.content_items')).rows[0].count);

  beforeAll(async () => {
    minio = await startMinio();
    const endpoints = {
      ...defaultEndpoints(),
      minio: { endpoint: minio.endpoint, accessKey: minio.accessKey, secretKey: minio.secretKey },
    };
    tb = await startTestBridge({ endpoints });
    api = client(tb.url);
    admin = await login(api, tb);
    sql = new pg.Client({ connectionString: tb.databaseUrl });
    await sql.connect();
    s3 = new Minio.Client({
      endPoint: minio.host,
      port: minio.port,
      useSSL: false,
      accessKey: minio.accessKey,
      secretKey: minio.secretKey,
    });
  });

  afterAll(async () => {
    await sql?.end();
    await tb?.close();
    await minio?.close();
  });

  it('answers uploads with 503 while the store is down, writes no row, and leaves no object', async () => {
    const kept = await upload(api, admin, 'Stored before the outage');
    expect(kept.status).toBe(201);
    const [before, count] = [await keys(), await rows()];

    await minio.stop();
    const res = await upload(api, admin, 'During the outage');
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toMatch(/problem\+json/);
    expect(res.body.detail).toMatch(/object-store/);
    expect(await rows()).toBe(count);

    // Reads need only PostgreSQL (URLs are signed locally); deletes refuse rather than half-delete.
    expect((await api.get(`/api/content/${kept.body.content_id}`, admin)).status).toBe(200);
    const del = await api.del(`/api/content/${kept.body.content_id}`, admin);
    expect(del.status).toBe(503);
    expect(await rows()).toBe(count);

    await minio.start();
    expect(await keys()).toEqual(before);
    expect(await incomplete()).toEqual([]);
    expect((await api.get(`/api/content/${kept.body.content_id}`, admin)).status).toBe(200);
    expect((await api.del(`/api/content/${kept.body.content_id}`, admin)).status).toBe(204);
    expect(await keys()).toEqual([]);
  });
});
