/**
 * Failure modes: Redis down, an artifact that vanished or was corrupted in the store, alias moves seen
 * by another replica, single-flight loading and the byte-bounded model cache.
 */
import * as Minio from 'minio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, waitUntil, type RedisHandle } from '../../harness/index.ts';
import { createTestDatabase, defaultEndpoints } from '../support/content-bridge.ts';
import { client } from '../support/http.ts';
import { startTestMlServer, uploadVersion } from '../support/ml-server.ts';
import { createModel, expectProblem, regressionModel, shotModel, xgbFixture } from './helpers.ts';

function minio() {
  const e = defaultEndpoints().minio;
  const url = new URL(e.endpoint);
  return new Minio.Client({
    endPoint: url.hostname,
    port: Number(url.port),
    useSSL: false,
    accessKey: e.accessKey,
    secretKey: e.secretKey,
    pathStyle: true,
  });
}

describe('Redis down', () => {
  let redis: RedisHandle;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(() => redis?.close());

  it('keeps predicting, uncached, and turns /readyz to 503', async () => {
    const ml = await startTestMlServer({ endpoints: { ...defaultEndpoints(), redisUrl: redis.url } });
    try {
      const api = client(ml.url);
      const admin = ml.token({ roles: ['admin'] });
      const user = ml.token({ roles: ['student'] });
      await createModel(api, admin, { name: 'shots', task: 'classification', format: 'logistic' });
      expect((await uploadVersion(ml.url, admin, 'shots', shotModel(-0.01))).status).toBe(201);
      const body = { model: 'shots', inputs: { distance_m: 150, wind_kph: 3 } };
      expect((await api.post('/predict', body, user)).body.cached).toBe(false);
      expect((await api.post('/predict', body, user)).body.cached).toBe(true);

      await redis.stop();
      const ready = await api.get('/readyz');
      expect(ready.status).toBe(503);
      expect(ready.body.status).toMatch(/redis/);
      expect(ready.body.checks.postgres).toBe('ok');
      for (let i = 0; i < 2; i++) {
        const res = await api.post('/predict', body, user);
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        expect(res.body.cached).toBe(false);
      }
      const fresh = await api.post('/predict', { model: 'shots', inputs: { distance_m: 10, wind_kph: 3 } }, user);
      expect(fresh.status).toBe(200);
      // The OIP server readiness only needs the registry and the artifacts.
      expect((await api.get('/v2/health/ready')).status).toBe(200);

      await redis.start();
      await waitUntil('readyz recovers', async () => (await api.get('/readyz')).status === 200, { timeoutMs: 15_000 });
      await waitUntil('cache works again', async () => (await api.post('/predict', body, user)).body.cached === true, {
        timeoutMs: 15_000,
      });
    } finally {
      await ml.close();
    }
  });
});

describe('artifacts gone bad', () => {
  it('answers 503 for a model whose artifact vanished or was corrupted, while other models keep serving', async () => {
    const databaseUrl = await createTestDatabase(defaultEndpoints().postgresUrl);
    const first = await startTestMlServer({ databaseUrl });
    const bucket = first.bucket;
    const admin = first.token({ roles: ['admin'] });
    let api = client(first.url);
    for (const name of ['gone', 'tampered', 'kept']) {
      await createModel(api, admin, { name, task: 'classification', format: 'xgboost' });
      expect((await uploadVersion(first.url, admin, name, xgbFixture('binary').bytes)).status).toBe(201);
    }
    const rows = xgbFixture('binary').expected.rows.slice(0, 3);
    for (const name of ['gone', 'tampered', 'kept'])
      expect((await api.post('/predict', { model: name, inputs: rows }, admin)).status).toBe(200);
    const keys = async (name: string) =>
      (
        await first.deps.db.query<{ artifact_key: string }>(
          'SELECT v.artifact_key FROM ml.model_versions v JOIN ml.models m ON m.id = v.model_id WHERE m.name = $1',
          [name],
        )
      ).rows[0]!.artifact_key;
    const s3 = minio();
    await s3.removeObject(bucket, await keys('gone'));
    await s3.putObject(bucket, await keys('tampered'), Buffer.from('{"format": "linear"}'));
    // The loaded models are in memory: a restart (a new replica) has to load them again.
    await first.close();
    const second = await startTestMlServer({ databaseUrl, bucket, jwtSecret: first.jwtSecret });
    try {
      api = client(second.url);
      const other = rows.map((r) => ({ ...r, wind_kph: 1 })); // not in the prediction cache
      const gone = await api.post('/predict', { model: 'gone', inputs: other }, admin);
      expectProblem(gone, 503, /Model 'gone' version 1 is unavailable: its artifact is missing/);
      expect(gone.headers.get('retry-after')).toBeTruthy();
      expectProblem(await api.post('/predict', { model: 'tampered', inputs: other }, admin), 503, /SHA-256/);
      const kept = await api.post('/predict', { model: 'kept', inputs: other }, admin);
      expect(kept.status).toBe(200);
      expect(kept.body.predictions).toHaveLength(3);

      const notReady = await api.get('/v2/models/gone/ready', admin);
      expect(notReady.status).toBe(400);
      expect(notReady.body.error).toMatch(/not ready.*missing/);
      const infer = await api.post(
        '/v2/models/gone/infer',
        { inputs: [{ name: 'input', shape: [1, 5], datatype: 'FP64', data: [1, 2, 3, 4, 5] }] },
        admin,
      );
      expect(infer.status).toBe(503);
      expect(infer.body).toEqual({ error: expect.stringMatching(/unavailable/) });
      expect((await api.get('/v2/models/kept/ready', admin)).status).toBe(200);
      const metrics = (await api.get('/metrics')).body as string;
      expect(metrics).toMatch(/hma_model_loads_total\{[^}]*result="missing"[^}]*\} 1/);
      expect(metrics).toMatch(/hma_model_loads_total\{[^}]*result="corrupt"[^}]*\} 1/);
      expect(metrics).toMatch(/hma_prediction_errors_total\{[^}]*model="gone"[^}]*reason="model_unavailable"[^}]*\} [12]/);
    } finally {
      await second.close();
    }
  });
});

describe('serving across replicas and memory', () => {
  it('moves every replica to a new alias target: at once through pub/sub, or within the metadata TTL without it', async () => {
    const databaseUrl = await createTestDatabase(defaultEndpoints().postgresUrl);
    const a = await startTestMlServer({ databaseUrl, env: { MODEL_METADATA_TTL_MS: '300000' } });
    const shared = { databaseUrl, bucket: a.bucket, jwtSecret: a.jwtSecret, redisKeyPrefix: a.config.REDIS_KEY_PREFIX };
    const b = await startTestMlServer({ ...shared, env: { MODEL_METADATA_TTL_MS: '300000' } });
    const c = await startTestMlServer({ ...shared, env: { MODEL_METADATA_TTL_MS: '300', REGISTRY_PUBSUB: 'false' } });
    try {
      const admin = a.token({ roles: ['admin'] });
      const apiA = client(a.url);
      await createModel(apiA, admin, { name: 'replicated', task: 'regression', format: 'linear' });
      expect((await uploadVersion(a.url, admin, 'replicated', regressionModel(10))).status).toBe(201);
      expect((await uploadVersion(a.url, admin, 'replicated', regressionModel(20))).status).toBe(201);
      await apiA.put('/models/replicated/aliases/production', { version: 1 }, admin);
      const body = { model: 'replicated', inputs: { distance_m: 0, wind_kph: 0 } };
      for (const server of [b, c]) expect((await client(server.url).post('/predict', body, admin)).body.version).toBe(1);

      await apiA.put('/models/replicated/aliases/production', { version: 2 }, admin);
      expect((await apiA.post('/predict', body, admin)).body.version).toBe(2);
      // b caches metadata for 5 minutes: only the pub/sub message can move it.
      await waitUntil('replica b follows', async () => (await client(b.url).post('/predict', body, admin)).body.version === 2, {
        timeoutMs: 10_000,
      });
      // c does not listen: its 300 ms metadata TTL bounds the staleness.
      await waitUntil('replica c follows', async () => (await client(c.url).post('/predict', body, admin)).body.version === 2, {
        timeoutMs: 10_000,
      });
      expect((await client(c.url).post('/predict', body, admin)).body.predictions).toEqual([{ value: 20 }]);
    } finally {
      await Promise.all([a.close(), b.close(), c.close()]);
    }
  });

  it('loads a model once for concurrent first requests, and bounds loaded models by bytes', async () => {
    const ml = await startTestMlServer({ env: { MODEL_CACHE_BYTES: '12000' } });
    try {
      const api = client(ml.url);
      const admin = ml.token({ roles: ['admin'] });
      for (const name of ['big-a', 'big-b']) {
        await createModel(api, admin, { name, task: 'classification', format: 'xgboost' });
        expect((await uploadVersion(ml.url, admin, name, xgbFixture('binary').bytes)).status).toBe(201);
      }
      const rows = xgbFixture('binary').expected.rows;
      const results = await Promise.all(rows.map((r) => api.post('/predict', { model: 'big-a', inputs: r }, admin)));
      expect(results.map((r) => r.status)).toEqual(rows.map(() => 200));
      const cache = ml.server.context.models;
      expect(cache.loads).toBe(1);
      const oneModel = cache.bytes;
      expect(oneModel).toBeGreaterThan(6000);

      expect((await api.post('/predict', { model: 'big-b', inputs: rows[0] }, admin)).status).toBe(200);
      expect(cache.loads).toBe(2);
      expect(cache.size).toBe(1); // two would exceed 12,000 bytes: big-a was evicted
      expect(cache.bytes).toBeLessThanOrEqual(12_000);
      expect((await api.post('/predict', { model: 'big-a', inputs: { ...rows[0], wind_kph: 99 } }, admin)).status).toBe(200);
      expect(cache.loads).toBe(3);
      const metrics = (await api.get('/metrics')).body as string;
      expect(metrics).toMatch(new RegExp(`hma_model_cache_bytes\\{[^}]*\\} ${cache.bytes}\\n`));
    } finally {
      await ml.close();
    }
  });
});
