/** Open Inference Protocol (KServe v2) endpoints: metadata, readiness, inference and the {error} shape. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, type Client } from '../support/http.ts';
import { startTestMlServer, uploadVersion, type TestMlServer } from '../support/ml-server.ts';
import { createModel, expectClose, xgbFixture } from './helpers.ts';

const weaponModel = {
  format: 'logistic',
  feature_names: ['distance_m', 'weapon=rifle', 'weapon=bow'],
  coefficients: [-0.01, 1.5, -0.5],
  intercept: 0.2,
  classes: ['miss', 'hit'],
  preprocessing: { features: [{ name: 'weapon', type: 'categorical', categories: ['rifle', 'bow'] }] },
};

function expectOipError(res: { status: number; headers: Headers; body: any }, status: number, message?: RegExp) {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  expect(Object.keys(res.body)).toEqual(['error']);
  expect(typeof res.body.error).toBe('string');
  if (message) expect(res.body.error).toMatch(message);
}

describe('Open Inference Protocol', () => {
  let ml: TestMlServer;
  let api: Client;
  let user: string;
  const binary = xgbFixture('binary');
  const rows = binary.expected.rows.filter((r) => Object.values(r).every((v) => v !== null));
  const features = binary.expected.feature_names;

  beforeAll(async () => {
    ml = await startTestMlServer();
    api = client(ml.url);
    const admin = ml.token({ roles: ['admin'] });
    user = ml.token({ roles: ['student'] });
    await createModel(api, admin, { name: 'shots', task: 'classification', format: 'xgboost' });
    expect((await uploadVersion(ml.url, admin, 'shots', binary.bytes)).status).toBe(201);
    expect((await uploadVersion(ml.url, admin, 'shots', binary.bytes)).status).toBe(201);
    await api.put('/models/shots/aliases/production', { version: 1 }, admin);
    await createModel(api, admin, { name: 'weapons', task: 'classification', format: 'logistic' });
    expect((await uploadVersion(ml.url, admin, 'weapons', weaponModel)).status).toBe(201);
  });
  afterAll(() => ml?.close());

  it('reports server liveness and readiness without a token', async () => {
    expect(await api.get('/v2/health/live')).toMatchObject({ status: 200, body: { live: true } });
    expect(await api.get('/v2/health/ready')).toMatchObject({ status: 200, body: { ready: true } });
  });

  it('describes a model and a version', async () => {
    const meta = await api.get('/v2/models/shots', user);
    expect(meta.status).toBe(200);
    expect(meta.body).toEqual({
      name: 'shots',
      versions: ['1', '2'],
      platform: 'hunt-master_xgboost',
      inputs: features.map((name) => ({ name, datatype: 'FP64', shape: [-1] })),
      outputs: [
        { name: 'label', datatype: 'INT64', shape: [-1] },
        { name: 'probabilities', datatype: 'FP64', shape: [-1, 2] },
      ],
    });
    const v2 = await api.get('/v2/models/shots/versions/2', user);
    expect(v2.body.versions).toEqual(['2']);
    const weapons = await api.get('/v2/models/weapons', user);
    expect(weapons.body.inputs).toEqual([
      { name: 'weapon', datatype: 'BYTES', shape: [-1] },
      { name: 'distance_m', datatype: 'FP64', shape: [-1] },
    ]);
    expect(weapons.body.outputs[0]).toEqual({ name: 'label', datatype: 'BYTES', shape: [-1] });
    expect(await api.get('/v2/models/shots/ready', user)).toMatchObject({ status: 200, body: { name: 'shots', ready: true } });
    expect((await api.get('/v2/models/shots/versions/2/ready', user)).status).toBe(200);
  });

  it('infers from one tensor per feature, matching XGBoost', async () => {
    const res = await api.post(
      '/v2/models/shots/infer',
      { id: 'req-1', inputs: features.map((name) => ({ name, shape: [rows.length], datatype: 'FP64', data: rows.map((r) => r[name]) })) },
      user,
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ model_name: 'shots', model_version: '1', id: 'req-1' });
    const [label, probabilities] = res.body.outputs;
    expect(label).toMatchObject({ name: 'label', datatype: 'INT64', shape: [rows.length] });
    expect(probabilities).toMatchObject({ name: 'probabilities', datatype: 'FP64', shape: [rows.length, 2] });
    rows.forEach((r, i) => {
      const want = binary.expected.predictions[binary.expected.rows.indexOf(r)] as number;
      expectClose(probabilities.data[i * 2 + 1], want, `row ${i}`);
      expect(label.data[i]).toBe(want >= 0.5 ? 1 : 0);
    });
  });

  it('infers from one packed [n, F] FP64 tensor (nested data), on an explicit version, with an output filter', async () => {
    const res = await api.post(
      '/v2/models/shots/versions/2/infer',
      {
        inputs: [
          { name: 'input', shape: [rows.length, features.length], datatype: 'FP64', data: rows.map((r) => features.map((f) => r[f])) },
        ],
        outputs: [{ name: 'probabilities' }],
      },
      user,
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.model_version).toBe('2');
    expect(res.body.outputs).toHaveLength(1);
    rows.forEach((r, i) => {
      const want = binary.expected.predictions[binary.expected.rows.indexOf(r)] as number;
      expectClose(res.body.outputs[0].data[i * 2 + 1], want, `row ${i}`);
    });
  });

  it('takes categorical features as BYTES tensors', async () => {
    const res = await api.post(
      '/v2/models/weapons/infer',
      {
        inputs: [
          { name: 'distance_m', shape: [2], datatype: 'FP32', data: [100, 100] },
          { name: 'weapon', shape: [2, 1], datatype: 'BYTES', data: [['rifle'], ['bow']] },
        ],
      },
      user,
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const p = res.body.outputs[1].data as number[];
    expectClose(p[1]!, 1 / (1 + Math.exp(-(0.2 - 1 + 1.5))), 'rifle');
    expectClose(p[3]!, 1 / (1 + Math.exp(-(0.2 - 1 - 0.5))), 'bow');
  });

  it('answers errors as {"error": "..."}, not problem+json', async () => {
    const tensor = (name: string, data: unknown[], datatype = 'FP64', shape = [data.length]) => ({ name, shape, datatype, data });
    expectOipError(await api.get('/v2/models/nope', user), 404, /No model named 'nope'/);
    expectOipError(await api.get('/v2/models/shots/versions/9', user), 404, /no version 9/);
    expectOipError(await api.post('/v2/models/nope/infer', { inputs: [tensor('x', [1])] }, user), 404);
    expectOipError(await api.post('/v2/models/shots/infer', { inputs: [tensor('distance', [1])] }, user), 400, /unknown input 'distance'/);
    expectOipError(
      await api.post('/v2/models/shots/infer', { inputs: [tensor('distance_m', [1, 2], 'FP64', [3])] }, user),
      400,
      /2 values/,
    );
    expectOipError(
      await api.post('/v2/models/shots/infer', { inputs: [tensor('distance_m', [1]), tensor('wind_kph', [1, 2])] }, user),
      400,
      /rows/,
    );
    expectOipError(await api.post('/v2/models/shots/infer', { inputs: [tensor('distance_m', ['far'], 'BYTES')] }, user), 400, /numeric/);
    expectOipError(
      await api.post('/v2/models/shots/infer', { inputs: [tensor('input', [1, 2], 'FP64', [1, 2])] }, user),
      400,
      /2 columns.*5 input features/,
    );
    expectOipError(await api.post('/v2/models/shots/infer', { inputs: 'nope' }, user), 400, /inputs/);
    expectOipError(
      await api.post('/v2/models/weapons/infer', { inputs: [tensor('distance_m', [1]), tensor('weapon', ['spear'], 'BYTES')] }, user),
      400,
      /weapon/,
    );
    expectOipError(
      await api.post('/v2/models/shots/infer', { inputs: [tensor('distance_m', [1])], outputs: [{ name: 'margin' }] }, user),
      400,
      /unknown output 'margin'/,
    );
    expectOipError(await api.get('/v2/models/shots'), 401, /Authentication/);
    expectOipError(await api.get('/v2/models/shots', 'not-a-token'), 401, /invalid token/);
    expectOipError(await api.get('/v2/nowhere', user), 404, /no route/);
    expectOipError(await api.call('DELETE', '/v2/models/shots', { token: user }), 405);
    // The rest of the API keeps problem+json.
    expect((await api.get('/models/nope', user)).headers.get('content-type')).toContain('application/problem+json');
  });

  it('answers a model name with a NUL character as a 400 {"error"}, not a 500 from PostgreSQL (found by the fuzz suite)', async () => {
    for (const path of ['/v2/models/%00', '/v2/models/a%00b/ready', '/v2/models/%00/versions/1/ready']) {
      expectOipError(await api.get(path, user), 400, /valid Unicode text without NUL/);
    }
  });
});
