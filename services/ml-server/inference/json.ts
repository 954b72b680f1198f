// Strict readers for untrusted artifact JSON. Every failure throws ModelArtifactError naming the path.

import { ModelArtifactError } from './errors.ts';

export type JsonRecord = Record<string, unknown>;

export function isRecord(v: unknown): v is JsonRecord {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A short, safe description of a value for error messages. */
export function describe(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (v === null) return 'null';
  if (typeof v === 'number') return Number.isNaN(v) ? 'NaN' : String(v);
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (Array.isArray(v)) return `an array of ${v.length}`;
  return typeof v === 'object' ? 'an object' : typeof v;
}

export function fail(path: string, message: string): never {
  throw new ModelArtifactError(path ? `${path} ${message}` : message, path);
}

export function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path ? `${path}.${key}` : key;
}

export function readRecord(v: unknown, path: string): JsonRecord {
  if (!isRecord(v)) fail(path, `must be an object, got ${describe(v)}`);
  return v;
}

export function readArray(v: unknown, path: string): unknown[] {
  if (!Array.isArray(v)) fail(path, `must be an array, got ${describe(v)}`);
  return v;
}

export function readFinite(v: unknown, path: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(path, `must be a finite number, got ${describe(v)}`);
  return v;
}

export function readString(v: unknown, path: string): string {
  if (typeof v !== 'string') fail(path, `must be a string, got ${describe(v)}`);
  return v;
}

export function readNonEmptyString(v: unknown, path: string): string {
  const s = readString(v, path);
  if (s.length === 0) fail(path, 'must not be empty');
  return s;
}

export function readFiniteArray(v: unknown, path: string, expectedLength?: number): Float64Array {
  const a = readArray(v, path);
  if (expectedLength !== undefined && a.length !== expectedLength) fail(path, `has ${a.length} entries but ${expectedLength} are expected`);
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = readFinite(a[i], join(path, i));
  return out;
}

export function readIntArray(v: unknown, path: string): Int32Array {
  const a = readArray(v, path);
  const out = new Int32Array(a.length);
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    if (typeof x !== 'number' || !Number.isInteger(x) || x < -2147483648 || x > 2147483647) {
      fail(join(path, i), `must be a 32-bit integer, got ${describe(x)}`);
    }
    out[i] = x;
  }
  return out;
}

/** Unique, non-empty strings. */
export function readNameList(v: unknown, path: string): string[] {
  const a = readArray(v, path);
  const seen = new Set<string>();
  return a.map((x, i) => {
    const s = readNonEmptyString(x, join(path, i));
    if (seen.has(s)) fail(join(path, i), `repeats the name ${JSON.stringify(s)}`);
    seen.add(s);
    return s;
  });
}

export type ClassLabel = string | number;

/** Class labels: at least two, unique, strings or finite numbers. */
export function readClasses(v: unknown, path: string): ClassLabel[] {
  const a = readArray(v, path);
  if (a.length < 2) fail(path, `must list at least 2 classes, got ${a.length}`);
  const seen = new Set<string>();
  return a.map((x, i) => {
    if (!(typeof x === 'string' || (typeof x === 'number' && Number.isFinite(x)))) {
      fail(join(path, i), `must be a string or a finite number, got ${describe(x)}`);
    }
    const key = `${typeof x}:${x}`;
    if (seen.has(key)) fail(join(path, i), `repeats the class ${describe(x)}`);
    seen.add(key);
    return x;
  });
}

/** Rejects keys outside `allowed`, which catches misspelt fields such as `intercepts` for `intercept`. */
export function rejectUnknownKeys(obj: JsonRecord, allowed: readonly string[], path: string): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) fail(join(path, key), `is not a known field (known: ${allowed.join(', ')})`);
  }
}
