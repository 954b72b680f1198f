/** The registry and /predict end to end against a real ML Server, PostgreSQL, Redis and MinIO. */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultEndpoints } from '../support/content-bridge.ts';
import { client, type Client } from '../support/http.ts';
import { startTestMlServer, uploadVersion, type TestMlServer } from '../support/ml-server.ts';
import { createModel, expectClose, expectProblem, listObjects, regressionModel, shotModel, xgbFixture } from './helpers.ts';

describe('ML Server registry and predictions', () => {
  let ml: TestMlServer;
  let api: Client;
  let admin: string;
  let student: string;

  beforeAll(async () => {
    ml = await startTestMlServer();
    api = client(ml.url);
    admin = ml.token({ roles: ['admin'] });
    student = ml.token({ roles: ['student'] });
  });
  afterAll(() => ml?.close());

  it.each([
    ['binary', 'classification'],
    ['regression', 'regression'],
    ['multiclass', 'classification'],
    ['missing', 'regression'],
  ] as const)('serves the XGBoost %s fixture with XGBoost outputs', async (name, task) => {
    const { bytes, expected } = xgbFixture(name);
    await createModel(api, admin, { name: `xgb-${name}`, task, format: 'xgboost' });
    const up = await uploadVersion(ml.url, admin, `xgb-${name}`, bytes);
    expect(up.status, JSON.stringify(up.body)).toBe(201);
    expect(up.body.version).toBe(1);
    expect(up.body.size_bytes).toBe(bytes.length);

    const res = await api.post('/predict', { model: `xgb-${name}`, inputs: expected.rows }, student);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ model: `xgb-${name}`, version: 1, cached: false });
    expect(res.body.predictions).toHaveLength(expected.rows.length);
    res.body.predictions.forEach((p: any, i: number) => {
      const want = expected.predictions[i]!;
      if (task === 'regression') expectClose(p.value, want as number, `row ${i}`);
      else if (name === 'binary') {
        expectClose(p.probabilities['1'], want as number, `row ${i}`);
        expect(p.label).toBe((want as number) >= 0.5 ? 1 : 0);
      } else {
        (want as number[]).forEach((w, k) => expectClose(p.probabilities[String(k)], w, `row ${i} class ${k}`));
        expect(p.class_index).toBe((want as number[]).indexOf(Math.max(...(want as number[]))));
      }
    });
  });

  it('answers an identical request from the prediction cache, whatever the key order', async () => {
    await createModel(api, admin, { name: 'cache-test', task: 'classification', format: 'logistic' });
    expect((await uploadVersion(ml.url, admin, 'cache-test', shotModel(-0.01))).status).toBe(201);
    const first = await api.post('/predict', { model: 'cache-test', inputs: { distance_m: 120, wind_kph: 4 } }, student);
    expect(first.status).toBe(200);
    expect(first.body.cached).toBe(false);
    const second = await api.post('/predict', { model: 'cache-test', inputs: { wind_kph: 4, distance_m: 120 } }, student);
    expect(second.body.cached).toBe(true);
    expect(second.body.predictions).toEqual(first.body.predictions);
    const other = await api.post('/predict', { model: 'cache-test', inputs: { distance_m: 121, wind_kph: 4 } }, student);
    expect(other.body.cached).toBe(false);
    expect(other.body.predictions).not.toEqual(first.body.predictions);
    // A one-row batch and a single object are the same inputs.
    const batch = await api.post('/predict', { model: 'cache-test', inputs: [{ distance_m: 120, wind_kph: 4 }] }, student);
    expect(batch.body.cached).toBe(true);

    const metrics = await api.get('/metrics');
    expect(metrics.body).toMatch(/hma_predictions_total\{[^}]*model="cache-test"[^}]*cached="true"[^}]*\} [1-9]/);
    expect(metrics.body).toMatch(/hma_model_cache_bytes\{[^}]*\} [1-9]/);
  });

  it('hot-swaps the served version when the production alias moves, without a restart', async () => {
    await createModel(api, admin, { name: 'swap', task: 'regression', format: 'linear' });
    expect((await uploadVersion(ml.url, admin, 'swap', regressionModel(100))).status).toBe(201);
    expect((await uploadVersion(ml.url, admin, 'swap', regressionModel(500))).status).toBe(201);
    const input = { model: 'swap', inputs: { distance_m: 10, wind_kph: 1 } };

    // Without a production alias, the latest version serves.
    const latest = await api.post('/predict', input, student);
    expect(latest.body).toMatchObject({ version: 2, predictions: [{ value: 500 - 1 - 1 }] });

    expect((await api.put('/models/swap/aliases/production', { version: 1 }, admin)).status).toBe(200);
    const v1 = await api.post('/predict', input, student);
    expect(v1.body).toMatchObject({ version: 1, predictions: [{ value: 98 }], cached: false });

    expect((await api.put('/models/swap/aliases/production', { version: 2 }, admin)).status).toBe(200);
    const v2 = await api.post('/predict', input, student);
    expect(v2.body.version).toBe(2);
    expect(v2.body.predictions).toEqual([{ value: 498 }]);

    // Explicit versions and other aliases still work.
    expect((await api.post('/predict', { ...input, version: 1 }, student)).body.predictions).toEqual([{ value: 98 }]);
    expect((await api.put('/models/swap/aliases/staging', { version: 1 }, admin)).status).toBe(200);
    expect((await api.post('/predict', { ...input, alias: 'staging' }, student)).body.version).toBe(1);
  });

  it('answers 404 for an unknown model, version or alias', async () => {
    expectProblem(await api.post('/predict', { model: 'nope', inputs: { x: 1 } }, student), 404, /No model named 'nope'/);
    expectProblem(await api.post('/predict', { model: 'swap', version: 99, inputs: { x: 1 } }, student), 404, /no version 99/);
    expectProblem(await api.post('/predict', { model: 'swap', alias: 'canary', inputs: { x: 1 } }, student), 404, /no alias 'canary'/);
    await createModel(api, admin, { name: 'empty', task: 'regression', format: 'linear' });
    expectProblem(await api.post('/predict', { model: 'empty', inputs: { x: 1 } }, student), 404, /no versions/);
    expectProblem(await api.get('/models/nope', student), 404);
    expectProblem(await api.get('/models/swap/versions/42', student), 404);
  });

  it('answers 422 naming the feature when an input does not match the schema', async () => {
    const missing = await api.post('/predict', { model: 'swap', inputs: [{ distance_m: 1, wind_kph: 2 }, { distance_m: 1 }] }, student);
    expectProblem(missing, 422, /wind_kph/);
    expect(missing.body.feature).toBe('wind_kph');
    expect(missing.body.row).toBe(1);
    expect(missing.body.errors[0].location).toBe('body.inputs[1].wind_kph');
    const wrongType = await api.post('/predict', { model: 'swap', inputs: { distance_m: 'far', wind_kph: 2 } }, student);
    expectProblem(wrongType, 422, /distance_m/);
    expect(wrongType.body.reason).toBe('wrong_type');
    const tooMany = await api.post(
      '/predict',
      { model: 'swap', inputs: Array.from({ length: 1001 }, () => ({ distance_m: 1, wind_kph: 1 })) },
      student,
    );
    expectProblem(tooMany, 422);
    const both = await api.post(
      '/predict',
      { model: 'swap', version: 1, alias: 'production', inputs: { distance_m: 1, wind_kph: 1 } },
      student,
    );
    expectProblem(both, 422);
  });

  it('refuses a corrupt artifact with 422 naming what is wrong, keeping no object and no row', async () => {
    const model = await createModel(api, admin, { name: 'corrupt', task: 'classification', format: 'xgboost' });
    const { bytes } = xgbFixture('binary');
    const truncated = bytes.subarray(0, Math.floor(bytes.length / 2));
    const res = await uploadVersion(ml.url, admin, 'corrupt', truncated);
    expectProblem(res, 422, /not valid JSON.*truncated/);

    const broken = JSON.parse(bytes.toString('utf8'));
    broken.learner.gradient_booster.model.trees[3].left_children.push(1);
    const res2 = await uploadVersion(ml.url, admin, 'corrupt', broken);
    expectProblem(res2, 422, /trees\[3\]/);
    expect(res2.body.errors[0].location).toMatch(/^body\.file\.learner\.gradient_booster\.model\.trees\[3\]/);

    const wrongFormat = await uploadVersion(ml.url, admin, 'corrupt', shotModel(-0.01));
    expectProblem(wrongFormat, 422, /format is logistic, but the model's is xgboost/);

    const { rows } = await ml.deps.db.query('SELECT 1 FROM ml.model_versions v JOIN ml.models m ON m.id = v.model_id WHERE m.name = $1', [
      'corrupt',
    ]);
    expect(rows).toHaveLength(0);
    const id = (await ml.deps.db.query<{ id: string }>('SELECT id FROM ml.models WHERE name = $1', ['corrupt'])).rows[0]!.id;
    expect(await listObjects(defaultEndpoints(), ml.bucket, `ml/models/${id}/`)).toEqual([]);
    expect(model.name).toBe('corrupt');
  });

  it('checks artifacts against the declared input and output schemas', async () => {
    await createModel(api, admin, {
      name: 'declared',
      task: 'classification',
      format: 'logistic',
      input_schema: { features: [{ name: 'distance_m', type: 'numeric' }] },
      output_schema: { classes: ['miss', 'hit'] },
    });
    const res = await uploadVersion(ml.url, admin, 'declared', shotModel(-0.01));
    expectProblem(res, 422, /wind_kph/);
    expect(res.body.errors.map((e: any) => e.location)).toContain('body.file.inputs.wind_kph');
  });

  it('refuses to delete an aliased version (409) and deletes an unaliased one with its object', async () => {
    const model = await createModel(api, admin, { name: 'deletable', task: 'regression', format: 'linear' });
    expect((await uploadVersion(ml.url, admin, 'deletable', regressionModel(1))).status).toBe(201);
    expect((await uploadVersion(ml.url, admin, 'deletable', regressionModel(2))).status).toBe(201);
    await api.put('/models/deletable/aliases/production', { version: 1 }, admin);
    const id = (await ml.deps.db.query<{ id: string }>('SELECT id FROM ml.models WHERE name = $1', [model.name])).rows[0]!.id;
    expect(await listObjects(defaultEndpoints(), ml.bucket, `ml/models/${id}/`)).toHaveLength(2);

    const refused = await api.del('/models/deletable/versions/1', admin);
    expectProblem(refused, 409, /production/);
    expect(refused.body.aliases).toEqual(['production']);

    expect((await api.del('/models/deletable/versions/2', admin)).status).toBe(204);
    expectProblem(await api.get('/models/deletable/versions/2', admin), 404);
    expect(await listObjects(defaultEndpoints(), ml.bucket, `ml/models/${id}/`)).toHaveLength(1);
    // Version numbers are never reused.
    const up = await uploadVersion(ml.url, admin, 'deletable', regressionModel(3));
    expect(up.body.version).toBe(3);

    expect((await api.del('/models/deletable/aliases/production', admin)).status).toBe(204);
    expect((await api.del('/models/deletable/versions/1', admin)).status).toBe(204);
  });

  it('lists models with their latest version and aliases, and shows version metrics', async () => {
    await createModel(api, admin, { name: 'listed', description: 'shot model', task: 'classification', format: 'logistic' });
    const up = await uploadVersion(ml.url, admin, 'listed', shotModel(-0.02), {
      description: 'first cut',
      metrics: JSON.stringify({ auc: 0.91, accuracy: 0.84 }),
    });
    expect(up.status, JSON.stringify(up.body)).toBe(201);
    await api.put('/models/listed/aliases/production', { version: 1 }, admin);

    const list = await api.get('/models', student);
    expect(list.status).toBe(200);
    const listed = list.body.models.find((m: any) => m.name === 'listed');
    expect(listed).toMatchObject({ description: 'shot model', task: 'classification', format: 'logistic', aliases: { production: 1 } });
    expect(listed.latest_version).toMatchObject({ version: 1, metrics: { auc: 0.91, accuracy: 0.84 } });

    const version = await api.get('/models/listed/versions/1', student);
    expect(version.body).toMatchObject({
      version: 1,
      description: 'first cut',
      metrics: { auc: 0.91 },
      aliases: ['production'],
      source: 'upload',
    });
    expect(version.body.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(version.body.input_schema.features.map((f: any) => f.name)).toEqual(['distance_m', 'wind_kph']);

    const one = await api.get('/models/listed', student);
    expect(one.body.versions).toHaveLength(1);
    expect(one.body.aliases).toEqual({ production: 1 });

    expectProblem(await api.post('/models', { name: 'listed', task: 'regression', format: 'linear' }, admin), 409);
    expectProblem(await api.post('/models', { name: 'Bad Name', task: 'regression', format: 'linear' }, admin), 422);
    const badMetrics = await uploadVersion(ml.url, admin, 'listed', shotModel(-0.02), { metrics: '{not json' });
    expectProblem(badMetrics, 422, /upload form/);
  });

  it('accepts the text fields after the artifact, and refuses bad ones there with 422, keeping no object and no row', async () => {
    await createModel(api, admin, { name: 'file-first', task: 'classification', format: 'logistic' });
    const artifact = JSON.stringify(shotModel(-0.03));
    const fields = { description: 'sent after the file', metrics: JSON.stringify({ auc: 0.88 }) };
    const up = await uploadVersion(ml.url, admin, 'file-first', artifact, fields, 'file first');
    expect(up.status, JSON.stringify(up.body)).toBe(201);
    expect(up.body).toMatchObject({ version: 1, description: 'sent after the file', metrics: { auc: 0.88 }, size_bytes: artifact.length });
    expect(up.body.sha256).toBe(createHash('sha256').update(artifact).digest('hex'));
    const id = (await ml.deps.db.query<{ id: string }>('SELECT id FROM ml.models WHERE name = $1', ['file-first'])).rows[0]!.id;
    const objects = () => listObjects(defaultEndpoints(), ml.bucket, `ml/models/${id}/`);
    expect(await objects()).toHaveLength(1);

    const versions = async () => (await ml.deps.db.query('SELECT 1 FROM ml.model_versions WHERE model_id = $1', [id])).rows.length;
    const badFields: Record<string, string>[] = [
      { metrics: '{not json' },
      { training_stats: '[]' },
      { description: 'x'.repeat(2001) },
      { colour: 'red' },
    ];
    for (const bad of badFields) {
      const refused = await uploadVersion(ml.url, admin, 'file-first', artifact, bad, 'file first');
      expectProblem(refused, 422);
      expect(await objects()).toHaveLength(1);
      expect(await versions()).toBe(1);
    }
  });

  it('refuses an artifact over the size limit with 413 and keeps nothing', async () => {
    const small = await startTestMlServer({ env: { MODEL_ARTIFACT_MAX_BYTES: '2000' } });
    try {
      const token = small.token({ roles: ['admin'] });
      const sapi = client(small.url);
      await createModel(sapi, token, { name: 'big', task: 'classification', format: 'xgboost' });
      const res = await uploadVersion(small.url, token, 'big', xgbFixture('binary').bytes);
      expectProblem(res, 413);
      // A field that arrives after the too-big artifact changes nothing.
      const late = await uploadVersion(small.url, token, 'big', xgbFixture('binary').bytes, { description: 'late' }, 'file first');
      expectProblem(late, 413);
      const id = (await small.deps.db.query<{ id: string }>('SELECT id FROM ml.models WHERE name = $1', ['big'])).rows[0]!.id;
      expect(await listObjects(defaultEndpoints(), small.bucket, `ml/models/${id}/`)).toEqual([]);
      expect((await small.deps.db.query('SELECT 1 FROM ml.model_versions WHERE model_id = $1', [id])).rows).toHaveLength(0);
    } finally {
      await small.close();
    }
  });
});
