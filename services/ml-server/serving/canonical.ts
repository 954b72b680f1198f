/**
 * Canonical JSON (object keys sorted, recursively; no whitespace) and its SHA-256, so that two
 * requests with the same inputs in a different key order share one prediction-cache entry.
 *
 * Fast path: copy objects with sorted keys and serialise with one native JSON.stringify. JavaScript
 * orders integer-like keys ("0", "17") first whatever the insertion order, so a value holding such a
 * key is serialised by hand instead (slow path, same output format).
 */
import { hash } from 'node:crypto';

const INTEGER_KEY = /^(0|[1-9]\d*)$/;

class NeedsSlowPath extends Error {}

function sorted(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(sorted);
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    if (INTEGER_KEY.test(key)) throw new NeedsSlowPath();
    out[key] = sorted(record[key]);
  }
  return out;
}

function byHand(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(byHand).join(',')}]`;
  const record = value as Record<string, unknown>;
  const parts: string[] = [];
  for (const key of Object.keys(record).sort()) {
    if (record[key] !== undefined) parts.push(`${JSON.stringify(key)}:${byHand(record[key])}`);
  }
  return `{${parts.join(',')}}`;
}

export function canonicalJson(value: unknown): string {
  try {
    return JSON.stringify(sorted(value)) ?? 'null';
  } catch (err) {
    if (err instanceof NeedsSlowPath) return byHand(value);
    throw err;
  }
}

export function canonicalHash(value: unknown): string {
  return hash('sha256', canonicalJson(value), 'hex');
}
