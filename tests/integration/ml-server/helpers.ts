/** Shared bits of the ML Server integration tests: artifacts, fixtures and object-store checks. */
import { readFileSync } from 'node:fs';
import * as Minio from 'minio';
import { expect } from 'vitest';
import type { Client } from '../support/http.ts';
import type { Endpoints } from '../support/content-bridge.ts';
import { EMBEDDED, listObjectKeys } from '../support/drivers.ts';

export const FIXTURES = new URL('../../fixtures/xgboost/', import.meta.url);

export interface XgbExpected {
  objective: string;
  feature_names: string[];
  rows: Record<string, number | null>[];
  predictions: number[] | number[][];
}

export function xgbFixture(name: 'binary' | 'regression' | 'multiclass' | 'missing') {
  return {
    bytes: readFileSync(new URL(`${name}.json`, FIXTURES)),
    expected: JSON.parse(readFileSync(new URL(`${name}.expected.json`, FIXTURES), 'utf8')) as XgbExpected,
  };
}

/** XGBoost computes in float32: 1e-6 relative (absolute below 1). */
export function expectClose(got: number, want: number, what: string): void {
  const tol = 1e-6 * Math.max(1, Math.abs(want));
  if (!(Math.abs(got - want) <= tol)) throw new Error(`${what}: got ${got}, want ${want}`);
}

/** A binary logistic artifact on two shot features; `slope` changes its answers. */
export function shotModel(slope: number, extra: Record<string, unknown> = {}) {
  return {
    format: 'logistic',
    feature_names: ['distance_m', 'wind_kph'],
    coefficients: [slope, -0.2],
    intercept: 1,
    classes: ['miss', 'hit'],
    ...extra,
  };
}

export function regressionModel(intercept: number) {
  return { format: 'linear', feature_names: ['distance_m', 'wind_kph'], coefficients: [-0.1, -1], intercept };
}

export async function createModel(api: Client, token: string, body: Record<string, unknown>) {
  const res = await api.post('/models', body, token);
  if (res.status !== 201) throw new Error(`create model: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

export async function listObjects(endpoints: Endpoints, bucket: string, prefix: string): Promise<string[]> {
  if (EMBEDDED) return listObjectKeys(bucket, prefix);
  const url = new URL(endpoints.minio.endpoint);
  const minio = new Minio.Client({
    endPoint: url.hostname,
    port: Number(url.port),
    useSSL: false,
    accessKey: endpoints.minio.accessKey,
    secretKey: endpoints.minio.secretKey,
    pathStyle: true,
  });
  const names: string[] = [];
  const stream = minio.listObjectsV2(bucket, prefix, true);
  for await (const item of stream) if ((item as { name?: string }).name) names.push((item as { name: string }).name);
  return names;
}

export function expectProblem(res: { status: number; headers: Headers; body: any }, status: number, detail?: RegExp) {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.headers.get('content-type')).toContain('application/problem+json');
  if (detail) expect(res.body.detail).toMatch(detail);
}
