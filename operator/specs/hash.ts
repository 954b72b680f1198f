/** Deterministic hashes over plain data: object key order never changes the result. */
import { createHash } from 'node:crypto';

/** JSON with object keys sorted at every level; `undefined` properties are dropped as JSON.stringify does. */
export function stableStringify(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : stableStringify(v))).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(',')}}`;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** sha256 (hex) of any JSON-able value, independent of key order. */
export function hashSpec(value: unknown): string {
  return sha256Hex(stableStringify(value));
}

/** The first `length` hex characters of hashSpec/sha256, for names and label values. */
export function shortHash(value: unknown, length = 8): string {
  return (typeof value === 'string' ? sha256Hex(value) : hashSpec(value)).slice(0, length);
}

/**
 * Hash over the data of every Secret/ConfigMap the API pods consume, keyed by source, e.g.
 * `{ 'Secret/demo-jwt': { 'signing-key': '…' }, 'Secret/my-db': { DATABASE_URL: '…' } }`.
 * Pass the values as read from the API (base64 `data` is fine, as long as it is always the same form).
 * A missing source may be passed as `undefined`; it hashes differently from an empty one.
 * The result goes into the `huntmaster.academy/config-hash` pod-template annotation, so a change
 * to any referenced key rolls the API pods.
 */
export function configHash(data: Record<string, Record<string, string> | undefined>): string {
  const normalised = Object.fromEntries(Object.entries(data).map(([source, kv]) => [source, kv === undefined ? null : kv]));
  return hashSpec(normalised);
}
