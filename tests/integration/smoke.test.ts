/** Proves the integration tier talks to real servers, through the same clients the services use. */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import * as Minio from 'minio';
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';

describe('real data services', () => {
  it('PostgreSQL: creates a table, inserts a row and selects it', async () => {
    const client = new pg.Client({ connectionString: inject('postgresUrl') });
    await client.connect();
    try {
      const { rows: version } = await client.query<{ server_version_num: string }>('SHOW server_version_num');
      expect(Number(version[0]!.server_version_num)).toBeGreaterThanOrEqual(150000);
      await client.query('CREATE TABLE smoke_items (id serial PRIMARY KEY, name text NOT NULL)');
      await client.query('INSERT INTO smoke_items (name) VALUES ($1)', ['elk']);
      const { rows } = await client.query('SELECT name FROM smoke_items');
      expect(rows).toEqual([{ name: 'elk' }]);
    } finally {
      await client.end();
    }
  });

  it('Redis: round-trips a value', async () => {
    const redis = new Redis(inject('redisUrl'));
    try {
      const key = `smoke:${randomUUID()}`;
      await redis.set(key, 'whitetail', 'EX', 60);
      expect(await redis.get(key)).toBe('whitetail');
      expect(await redis.ttl(key)).toBeGreaterThan(0);
    } finally {
      redis.disconnect();
    }
  });

  it('MinIO: creates a bucket, then puts, stats and gets an object', async () => {
    const { endpoint, accessKey, secretKey } = inject('minio');
    const url = new URL(endpoint);
    const client = new Minio.Client({ endPoint: url.hostname, port: Number(url.port), useSSL: false, accessKey, secretKey });
    const bucket = `smoke-${randomUUID().slice(0, 8)}`;
    await client.makeBucket(bucket);
    expect(await client.bucketExists(bucket)).toBe(true);
    const body = Buffer.from('safe shooting angles');
    await client.putObject(bucket, 'notes/angles.txt', body, body.length, { 'Content-Type': 'text/plain' });
    const stat = await client.statObject(bucket, 'notes/angles.txt');
    expect(stat.size).toBe(body.length);
    const stream = await client.getObject(bucket, 'notes/angles.txt');
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('safe shooting angles');
    // A real server, not a mock: a missing object is a real S3 NoSuchKey error.
    await expect(client.statObject(bucket, 'missing')).rejects.toMatchObject({ code: 'NotFound' });
  });
});
