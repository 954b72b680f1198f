/** The sampled, asynchronous prediction log and the admin analytics built on it. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../../harness/index.ts';
import { client, type Client } from '../support/http.ts';
import { startTestMlServer, uploadVersion, type TestMlServer } from '../support/ml-server.ts';
import { createModel, expectProblem, shotModel } from './helpers.ts';

const trainingStats = {
  features: { distance_m: { mean: 100, std: 20, count: 500 }, wind_kph: { mean: 5, std: 2, count: 500 } },
  rows: 500,
};

describe('prediction log and admin analytics', () => {
  let ml: TestMlServer;
  let api: Client;
  let admin: string;
  let user: string;

  beforeAll(async () => {
    ml = await startTestMlServer({ env: { PREDICTION_LOG_SAMPLE_RATE: '1', PREDICTION_LOG_FLUSH_MS: '50' } });
    api = client(ml.url);
    admin = ml.token({ roles: ['admin'] });
    user = ml.token({ roles: ['student'] });
    await createModel(api, admin, { name: 'logged', task: 'classification', format: 'logistic' });
    expect((await uploadVersion(ml.url, admin, 'logged', shotModel(-0.01), { training_stats: JSON.stringify(trainingStats) })).status).toBe(
      201,
    );
  });
  afterAll(() => ml?.close());

  it('writes sampled predictions in the background, with latency, cache flag, inputs and outputs', async () => {
    const res = await api.post(
      '/predict',
      {
        model: 'logged',
        inputs: [
          { distance_m: 300, wind_kph: 5 },
          { distance_m: 310, wind_kph: 6 },
        ],
      },
      user,
    );
    expect(res.status).toBe(200);
    let rows: any[] = [];
    await waitUntil(
      'the prediction is logged',
      async () => {
        rows = (await ml.deps.db.query('SELECT * FROM ml.predictions WHERE model_name = $1', ['logged'])).rows;
        return rows.length === 1;
      },
      { timeoutMs: 10_000 },
    );
    expect(rows[0]).toMatchObject({
      version: 1,
      rows: 2,
      cached: false,
      error: null,
      inputs: [
        { distance_m: 300, wind_kph: 5 },
        { distance_m: 310, wind_kph: 6 },
      ],
    });
    expect(rows[0].outputs).toEqual(res.body.predictions);
    expect(rows[0].latency_ms).toBeGreaterThan(0);
    expect(rows[0].user_id).toBeTruthy();
  });

  it('reports counts, cache hit ratio, errors, latency percentiles and drift per version', async () => {
    const drifted = { distance_m: 300, wind_kph: 5 };
    for (let i = 0; i < 4; i++) expect((await api.post('/predict', { model: 'logged', inputs: drifted }, user)).status).toBe(200); // 1 miss, 3 hits
    expectProblem(await api.post('/predict', { model: 'logged', inputs: { distance_m: 1 } }, user), 422);

    const res = await api.get('/admin/analytics', admin);
    expect(res.status).toBe(200);
    const v1 = res.body.models.find((m: any) => m.model === 'logged' && m.version === 1);
    expect(v1).toMatchObject({ requests: 6, rows: 7, cache_hits: 3, errors: 1, cache_hit_ratio: 0.5, error_rate: 0.1667 });
    expect(v1.latency_ms.sampled).toBe(5);
    expect(v1.latency_ms.p50).toBeGreaterThan(0);
    expect(v1.latency_ms.p99).toBeGreaterThanOrEqual(v1.latency_ms.p50);
    const distance = v1.drift.features.find((f: any) => f.feature === 'distance_m');
    const wind = v1.drift.features.find((f: any) => f.feature === 'wind_kph');
    // Live distance is around 300 against a training mean of 100 (std 20): 10 standard deviations off.
    expect(distance.live_count).toBe(6);
    expect(distance.mean_shift).toBeGreaterThan(9);
    expect(distance.drifted).toBe(true);
    expect(wind.drifted).toBe(false);
    expect(v1.drift.drifted).toEqual(['distance_m']);
    expect(res.body.server.prediction_log).toMatchObject({ sample_rate: 1, dropped: 0 });

    const filtered = await api.get('/admin/analytics?model=nothing-like-it', admin);
    expect(filtered.body.models).toEqual([]);
    const later = await api.get(`/admin/analytics?since=${encodeURIComponent(new Date(Date.now() + 7200_000).toISOString())}`, admin);
    expect(later.body.models.find((m: any) => m.model === 'logged').requests).toBe(0);
  });

  it('counts every request but logs none when the sample rate is 0', async () => {
    const quiet = await startTestMlServer({ env: { PREDICTION_LOG_SAMPLE_RATE: '0' } });
    try {
      const qapi = client(quiet.url);
      const token = quiet.token({ roles: ['admin'] });
      await createModel(qapi, token, { name: 'quiet', task: 'classification', format: 'logistic' });
      expect((await uploadVersion(quiet.url, token, 'quiet', shotModel(-0.01))).status).toBe(201);
      for (let i = 0; i < 3; i++) await qapi.post('/predict', { model: 'quiet', inputs: { distance_m: i, wind_kph: 1 } }, token);
      const analytics = await qapi.get('/admin/analytics', token);
      expect(analytics.body.models[0]).toMatchObject({ model: 'quiet', requests: 3, latency_ms: null });
      expect((await quiet.deps.db.query('SELECT count(*)::int AS n FROM ml.predictions')).rows[0]!.n).toBe(0);
    } finally {
      await quiet.close();
    }
  });
});
