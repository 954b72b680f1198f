/**
 * Decides whether a child needs a write: true when some field we set differs from the live object.
 * Fields the API server or other managers add (defaults, status, clusterIP, ...) are ignored, so a
 * reconcile of an unchanged platform makes no writes, while a field someone edited is detected.
 * Quantities compare by value ("1024Mi" equals "1Gi"), as the API server canonicalises them.
 */

import { quantityValue } from '../specs/quantity.ts';

export { quantityValue };

const QUANTITY_PARENTS = new Set(['requests', 'limits', 'capacity', 'hard']);

function sameScalar(desired: unknown, live: unknown, parentKey: string | undefined): boolean {
  if (desired === live) return true;
  // intstr and quantities: the server may turn 8090 into "8090" or "1024Mi" into "1Gi".
  if ((typeof desired === 'number' || typeof desired === 'string') && (typeof live === 'number' || typeof live === 'string')) {
    if (String(desired) === String(live)) return true;
    if (parentKey && (QUANTITY_PARENTS.has(parentKey) || parentKey === 'storage')) {
      const a = quantityValue(desired);
      const b = quantityValue(live);
      return a !== undefined && b !== undefined && Math.abs(a - b) <= Math.abs(a) * 1e-12;
    }
  }
  return false;
}

/** Returns the path of the first field of `desired` that `live` does not match, or undefined. */
export function firstDifference(desired: unknown, live: unknown, path = '', parentKey?: string): string | undefined {
  if (desired === undefined) return undefined;
  if (desired === null) return live === null || live === undefined ? undefined : path || '/';
  if (Array.isArray(desired)) {
    if (!Array.isArray(live) || live.length !== desired.length) return path || '/';
    for (let i = 0; i < desired.length; i++) {
      const d = firstDifference(desired[i], live[i], `${path}[${i}]`, parentKey);
      if (d) return d;
    }
    return undefined;
  }
  if (typeof desired === 'object') {
    if (typeof live !== 'object' || live === null || Array.isArray(live)) return path || '/';
    for (const [key, value] of Object.entries(desired as Record<string, unknown>)) {
      const d = firstDifference(value, (live as Record<string, unknown>)[key], `${path}.${key}`, key);
      if (d) return d;
    }
    return undefined;
  }
  return sameScalar(desired, live, parentKey) ? undefined : path || '/';
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The JSON merge patch (RFC 7386) that turns `previous` into `next`: keys `next` no longer has are
 * sent as null, so a field that went away (say, the public endpoints once the Ingress is off)
 * really goes. Arrays and scalars are replaced whole.
 */
export function mergePatchFrom(previous: unknown, next: Record<string, unknown>): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  const before = isPlainObject(previous) ? previous : {};
  for (const key of Object.keys(before)) if (!(key in next)) patch[key] = null;
  for (const [key, value] of Object.entries(next)) {
    patch[key] = isPlainObject(value) && isPlainObject(before[key]) ? mergePatchFrom(before[key], value) : value;
  }
  return patch;
}
