/**
 * The embedded drivers on their own: PGlite behind the Database interface (result shapes, the
 * single-connection mutex, the data-directory lock, persistence), the in-process cache, the
 * filesystem object store with its presigned URLs served by the kit's middleware, and the driver
 * selection of createDeps.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../services/kit/config.ts';
import { createFsObjectStore, type FsObjectStore } from '../../../services/kit/deps/embedded/fs-object-store.ts';
import { createMemoryCache } from '../../../services/kit/deps/embedded/memory-cache.ts';
import { createPgliteDatabase, type EmbeddedDatabase } from '../../../services/kit/deps/embedded/pglite.ts';
import { closeDeps, createDeps, selectDrivers, type DepsConfig } from '../../../services/kit/deps/index.ts';
import { errorMiddleware } from '../../../services/kit/http/errors.ts';
import { mountObjectUrls } from '../../../services/kit/http/object-urls.ts';
import { createLogger } from '../../../services/kit/observability/logger.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hma-drivers-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('PGlite database', () => {
  let db: EmbeddedDatabase;
  beforeAll(async () => {
    db = createPgliteDatabase({ dataDir: join(dir, 'pg') });
    await db.query('CREATE TABLE t (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v text NOT NULL)');
  });
  afterAll(() => db?.close());

  it("returns node-pg's default shapes: int8 and numeric as strings, timestamptz and date as Date, jsonb parsed", async () => {
    const { rows, rowCount } = await db.query<Record<string, unknown>>(
      `SELECT 9007199254740993::int8 AS big, 1.50::numeric(5,2) AS num, 42::int4 AS i, 0.5::float8 AS f, true AS b,
              '2026-01-02T03:04:05.678Z'::timestamptz AS ts, $1::jsonb AS j, ARRAY['a','b"c'] AS arr, ARRAY[1,2]::int8[] AS bigs,
              gen_random_uuid() AS id, make_interval(secs => 90) AS iv`,
      [JSON.stringify({ tags: ['safety'], n: 1 })],
    );
    expect(rowCount).toBe(1);
    const r = rows[0]!;
    expect(r.big).toBe('9007199254740993');
    expect(r.num).toBe('1.50');
    expect(r.i).toBe(42);
    expect(r.f).toBe(0.5);
    expect(r.b).toBe(true);
    expect(r.ts).toBeInstanceOf(Date);
    expect((r.ts as Date).toISOString()).toBe('2026-01-02T03:04:05.678Z');
    expect(r.j).toEqual({ tags: ['safety'], n: 1 });
    expect(r.arr).toEqual(['a', 'b"c']);
    expect(r.bigs).toEqual(['1', '2']);
    expect(r.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(r.iv).toMatchObject({ minutes: 1, seconds: 30 });
  });

  it('runs a multi-statement script without parameters (migrations) and reports rowCount of the last', async () => {
    const res = await db.query(`INSERT INTO t (v) VALUES ('a'); INSERT INTO t (v) VALUES ('b'), ('c')`);
    expect(res.rowCount).toBe(2);
    const upd = await db.query(`UPDATE t SET v = v || '!' WHERE v = ANY($1::text[])`, [['a', 'b']]);
    expect(upd.rowCount).toBe(2);
  });

  it('makes a query outside a transaction wait until the transaction ends, and rolls back on error', async () => {
    const order: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const tx = db.transaction(async (q) => {
      await q.query(`INSERT INTO t (v) VALUES ('in-tx')`);
      order.push('tx: inserted');
      await gate;
      order.push('tx: committing');
    });
    await new Promise((r) => setTimeout(r, 20));
    const outside = db.query<{ n: string }>(`SELECT count(*) AS n FROM t WHERE v = 'in-tx'`).then((res) => {
      order.push(`outside: saw ${res.rows[0]!.n}`);
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(order).toEqual(['tx: inserted']); // the outside query is still waiting
    release();
    await Promise.all([tx, outside]);
    expect(order).toEqual(['tx: inserted', 'tx: committing', 'outside: saw 1']);

    await expect(
      db.transaction(async (q) => {
        await q.query(`INSERT INTO t (v) VALUES ('rolled back')`);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect((await db.query(`SELECT 1 FROM t WHERE v = 'rolled back'`)).rowCount).toBe(0);
  });

  it('refuses db.query inside its own transaction (it would wait forever) and a tx handle used after the end', async () => {
    let leaked: { query: (sql: string) => Promise<unknown> } | undefined;
    await expect(
      db.transaction(async (q) => {
        leaked = q;
        await db.query('SELECT 1');
      }),
    ).rejects.toThrow(/use the handle passed to the callback/);
    await expect(leaked!.query('SELECT 1')).rejects.toThrow(/after its transaction ended/);
  });

  it('takes pg_advisory_lock under the mutex and serialises concurrent holders', async () => {
    const order: string[] = [];
    await Promise.all(
      ['a', 'b'].map((name) =>
        db.withAdvisoryLock(7, async (s) => {
          const held = await s.query<{ n: string }>(`SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND objid = 7`);
          order.push(`${name}:${held.rows[0]!.n}`);
          await new Promise((r) => setTimeout(r, 10));
          order.push(`${name}:end`);
        }),
      ),
    );
    expect(order).toEqual(['a:1', 'a:end', 'b:1', 'b:end']);
  });

  it('belongs to one process: a second open of the directory is refused while the first is open', async () => {
    const second = createPgliteDatabase({ dataDir: join(dir, 'pg') });
    await expect(second.query('SELECT 1')).rejects.toThrow(/is in use \(this process already has it open\)/);
    await second.close();
  });

  it('keeps committed data across close and reopen, and answers 503-style errors once closed', async () => {
    const path = join(dir, 'pg-persist');
    const a = createPgliteDatabase({ dataDir: path });
    await a.query('CREATE TABLE kept (v text)');
    await a.query(`INSERT INTO kept VALUES ('still here')`);
    await a.close();
    await expect(a.query('SELECT 1')).rejects.toThrow(/postgres is unavailable/);
    const b = createPgliteDatabase({ dataDir: path });
    expect((await b.query<{ v: string }>('SELECT v FROM kept')).rows).toEqual([{ v: 'still here' }]);
    await b.ping(2000);
    await b.close();
  });
});

describe('in-process cache', () => {
  it('expires keys, sets only when absent, and counts fixed windows', async () => {
    let now = 1_000_000;
    const cache = createMemoryCache({ now: () => now });
    await cache.set('k', 'v', 10);
    expect(await cache.get('k')).toBe('v');
    expect(await cache.setIfAbsent('k', 'other', 10)).toBe(false);
    now += 10_001;
    expect(await cache.get('k')).toBeNull();
    expect(await cache.exists('k')).toBe(false);
    expect(await cache.setIfAbsent('k', 'other', 10)).toBe(true);

    expect(await cache.hit('rate', 60)).toEqual({ count: 1, ttlSeconds: 60 });
    now += 20_000;
    expect(await cache.hit('rate', 60)).toEqual({ count: 2, ttlSeconds: 40 }); // the window does not slide
    now += 40_001;
    expect(await cache.hit('rate', 60)).toEqual({ count: 1, ttlSeconds: 60 });
    await cache.del('k', 'rate');
    expect(await cache.get('k')).toBeNull();
    await cache.close();
    await expect(cache.get('k')).rejects.toThrow(/closed/);
  });

  it('stays within maxEntries, dropping expired keys first and then the least recently used', async () => {
    let now = 0;
    const cache = createMemoryCache({ maxEntries: 3, now: () => now });
    await cache.set('short', '1', 1);
    await cache.set('a', '1', 100);
    await cache.set('b', '1', 100);
    now = 2000; // `short` expired
    await cache.set('c', '1', 100);
    expect(cache.size).toBe(3);
    expect(await cache.get('a')).toBe('1'); // a is now more recent than b
    await cache.set('d', '1', 100);
    expect(cache.size).toBe(3);
    expect(await cache.get('b')).toBeNull();
    expect((await Promise.all(['a', 'c', 'd'].map((k) => cache.get(k)))).every((v) => v === '1')).toBe(true);
    await cache.close();
  });
});

describe('filesystem object store and its presigned URLs', () => {
  let store: FsObjectStore;
  let server: Server;
  let base: string;

  beforeAll(async () => {
    const app = new Koa();
    app.use(errorMiddleware(createLogger({ service: 'test', level: 'silent' })));
    store = createFsObjectStore({ root: join(dir, 'objects'), bucket: 'b', publicBaseUrl: () => base, signingKey: 'k'.repeat(32) });
    await store.ensureBucket();
    expect(mountObjectUrls(app, store, { maxBytes: 1000 })).toBe(true);
    server = createServer(app.callback());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => new Promise((r) => server?.close(r)));

  it('stores, stats, streams and removes objects; keys cannot escape the bucket', async () => {
    const key = '../../etc/a b/ünïcode.txt';
    const put = await store.put(key, Buffer.from('hello'), { contentType: 'text/plain' });
    expect(put).toEqual({ size: 5, etag: '5d41402abc4b2a76b9719d911017c592' });
    expect(await store.stat(key)).toEqual({ size: 5, etag: put.etag, contentType: 'text/plain' });
    const chunks: Buffer[] = [];
    for await (const c of await store.get(key)) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('hello');
    expect(await store.list()).toEqual([key]);
    await store.remove(key);
    expect(await store.stat(key)).toBeNull();
    await expect(store.get(key)).rejects.toMatchObject({ code: 'NoSuchKey' });
    await store.remove(key); // removing what is not there is fine, as on S3
  });

  it('leaves nothing behind when the upload stream fails half-way', async () => {
    const failing = new Readable({
      read() {
        this.push(Buffer.alloc(100, 1));
        this.destroy(new Error('client went away'));
      },
    });
    await expect(store.put('half', failing, { contentType: 'application/octet-stream' })).rejects.toThrow('client went away');
    expect(await store.stat('half')).toBeNull();
    expect(await store.pendingWrites()).toEqual([]);
  });

  it('serves GET/PUT through signed URLs: 401 unsigned, 403 tampered, wrong method or expired, 413 too large', async () => {
    const putUrl = await store.presignedPutUrl('docs/a.txt', 60);
    expect(putUrl.startsWith(`${base}/_objects/docs/a.txt?expires=`)).toBe(true);
    const put = await fetch(putUrl, { method: 'PUT', body: 'field notes', headers: { 'content-type': 'text/plain' } });
    expect(put.status).toBe(200);
    expect(put.headers.get('etag')).toMatch(/^"[0-9a-f]{32}"$/);

    const getUrl = await store.presignedGetUrl('docs/a.txt', 60);
    const got = await fetch(getUrl);
    expect(got.status).toBe(200);
    expect(got.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await got.text()).toBe('field notes');
    const ranged = await fetch(getUrl, { headers: { range: 'bytes=6-' } });
    expect(ranged.status).toBe(206);
    expect(await ranged.text()).toBe('notes');
    expect((await fetch(getUrl, { headers: { 'if-none-match': put.headers.get('etag')! } })).status).toBe(304);

    const problem = async (res: Response, status: number) => {
      expect(res.status).toBe(status);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
    };
    await problem(await fetch(`${base}/_objects/docs/a.txt`), 401);
    const tampered = getUrl.slice(0, -1) + (getUrl.endsWith('0') ? '1' : '0');
    await problem(await fetch(tampered), 403);
    await problem(await fetch(getUrl.replace('docs/a.txt', 'docs/b.txt')), 403);
    await problem(await fetch(getUrl, { method: 'PUT', body: 'overwrite' }), 403); // a GET URL cannot write
    const other = new URL(getUrl); // a signature is bound to its expiry: moving the expiry breaks it
    other.searchParams.set('expires', String(Number(other.searchParams.get('expires')) + 3600));
    await problem(await fetch(other), 403);
    const shortLived = await store.presignedGetUrl('docs/a.txt', 1);
    await new Promise((r) => setTimeout(r, 2100));
    const expired = await fetch(shortLived);
    await problem(expired, 403);
    expect(((await expired.json()) as { detail: string }).detail).toMatch(/expired/);

    const big = await fetch(await store.presignedPutUrl('docs/big.bin', 60), { method: 'PUT', body: new Uint8Array(5000) });
    await problem(big, 413);
    expect(await store.stat('docs/big.bin')).toBeNull();
    expect(await store.stat('docs/a.txt')).toMatchObject({ size: 11 });
  });
});

describe('driver selection', () => {
  const base: DepsConfig = { DATABASE_POOL_SIZE: 2, S3_BUCKET: 'huntmaster-storage', S3_REGION: 'us-east-1' };

  it('keeps a missing URL a configuration error unless HMA_EMBEDDED=true', () => {
    expect(() => selectDrivers(base)).toThrow(ConfigError);
    expect(() => selectDrivers(base)).toThrow(/DATABASE_URL is required \(or set HMA_EMBEDDED=true/);
    expect(() => selectDrivers({ ...base, DATABASE_URL: 'postgres://x/y', REDIS_URL: 'redis://x' })).toThrow(/S3_ENDPOINT is required/);
  });

  it('chooses each driver on its own', () => {
    expect(selectDrivers({ ...base, HMA_EMBEDDED: true })).toEqual({ database: 'pglite', cache: 'memory', objectStore: 'filesystem' });
    expect(selectDrivers({ ...base, HMA_EMBEDDED: true, DATABASE_URL: 'postgres://db/x' })).toEqual({
      database: 'postgres',
      cache: 'memory',
      objectStore: 'filesystem',
    });
    expect(selectDrivers({ ...base, HMA_EMBEDDED: true, REDIS_URL: 'redis://r', S3_ENDPOINT: 'http://s3' })).toEqual({
      database: 'pglite',
      cache: 'redis',
      objectStore: 's3',
    });
  });

  it('createDeps builds the embedded set under HMA_DATA_DIR and reports it', async () => {
    const dataDir = join(dir, 'deps');
    const deps = createDeps({ ...base, HMA_EMBEDDED: true, HMA_DATA_DIR: dataDir, PUBLIC_BASE_URL: 'http://localhost:9999' }, 'test');
    try {
      expect(deps.drivers).toEqual({ database: 'pglite', cache: 'memory', objectStore: 'filesystem' });
      expect(deps.dataDir).toBe(dataDir);
      expect([deps.db.driver, deps.cache.driver, deps.store.driver]).toEqual(['pglite', 'memory', 'filesystem']);
      expect((await deps.db.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      expect(await deps.store.presignedGetUrl('x', 60)).toMatch(
        /^http:\/\/localhost:9999\/_objects\/x\?expires=\d+&signature=[0-9a-f]{64}$/,
      );
    } finally {
      await closeDeps(deps);
    }
  });
});
