/**
 * Canonical JSON (object keys sorted at every level, `undefined` members dropped) and its SHA-256:
 * equal for values that are equal as JSON whatever their key order. The Content Bridge's body hash
 * tells a replay of an event id (same hash) from a conflicting reuse (different); the ML Server
 * keys its prediction cache with it.
 */
import { hash } from 'node:crypto';

export function canonicalJson(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('non-finite number in canonical JSON');
      return Object.is(value, -0) ? '0' : String(value); // -0 and 0 are the same JSON number
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          if (i) out += ',';
          out += value[i] === undefined ? 'null' : canonicalJson(value[i]);
        }
        return `${out}]`;
      }
      // Default sort compares UTF-16 code units: deterministic, locale-free.
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record).sort();
      let out = '{';
      for (const key of keys) {
        const v = record[key];
        if (v === undefined) continue;
        if (out.length > 1) out += ',';
        out += `${JSON.stringify(key)}:${canonicalJson(v)}`;
      }
      return `${out}}`;
    }
    default:
      // undefined, functions, symbols, bigints: not JSON.
      if (value === undefined) return 'null';
      throw new TypeError(`${typeof value} in canonical JSON`);
  }
}

export function sha256Hex(text: string): string {
  return hash('sha256', text, 'hex'); // one shot: about twice as fast as createHash for short texts
}

export const bodyHash = (value: unknown): string => sha256Hex(canonicalJson(value));
