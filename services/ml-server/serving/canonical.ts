/**
 * The prediction cache's key for input rows: equal for rows that are equal as JSON, whatever the
 * order of their keys. Rows of scalar features (the common case) are hashed from a compact binary
 * form, which needs no number formatting (half the cost of canonical JSON); anything else is hashed
 * from canonical JSON. The two forms cannot collide: the binary one starts with a 0 byte, and JSON
 * text never does.
 */
import { hash } from 'node:crypto';
import { canonicalJson } from '../../kit/canonical.ts';

const TAG = { row: 0x52, number: 0x6e, string: 0x73, true: 0x74, false: 0x66, null: 0x7a } as const;

let scratch = Buffer.alloc(64 * 1024);

/** Room for `bytes` more at `at`, keeping what is written (the scratch buffer only grows). */
function ensure(at: number, bytes: number): void {
  if (at + bytes <= scratch.length) return;
  const bigger = Buffer.alloc(Math.max(scratch.length * 2, at + bytes));
  scratch.copy(bigger, 0, 0, at);
  scratch = bigger;
}

/**
 * The last row shape seen: its keys in arrival order, and the same keys sorted as canonical JSON sorts
 * them, each already encoded (byte length + UTF-16). Requests to a model nearly always send the same
 * features in the same order, so the sort and the key encoding are then skipped.
 */
let shapeKeys: string[] = [];
let shapeSorted: Array<{ key: string; bytes: Uint8Array }> = [];

function sortedShape(record: Record<string, unknown>): Array<{ key: string; bytes: Uint8Array }> {
  const keys = Object.keys(record);
  if (keys.length === shapeKeys.length && keys.every((key, i) => key === shapeKeys[i])) return shapeSorted;
  shapeKeys = keys;
  shapeSorted = [...keys].sort().map((key) => {
    const bytes = Buffer.alloc(4 + key.length * 2);
    bytes.writeUInt32BE(bytes.write(key, 4, 'utf16le'), 0);
    return { key, bytes };
  });
  return shapeSorted;
}

/**
 * Writes the rows as: 0, then per row `R` + key count, then per key (sorted as canonical JSON sorts
 * them) its byte length + UTF-16 bytes (any JS string, lone surrogates too) and a tagged value. Returns the length, or -1 if a row is not flat.
 */
function encodeFlatRows(rows: readonly unknown[]): number {
  ensure(0, 1);
  scratch[0] = 0;
  let at = 1;
  for (const row of rows) {
    if (row === null || typeof row !== 'object' || Array.isArray(row)) return -1;
    const record = row as Record<string, unknown>;
    const keys = sortedShape(record);
    ensure(at, 5);
    scratch[at] = TAG.row;
    const countAt = at + 1;
    at += 5;
    let count = 0;
    for (const { key, bytes: encodedKey } of keys) {
      const value = record[key];
      if (value === undefined) continue; // as JSON drops it
      count++;
      ensure(at, encodedKey.length + 9);
      scratch.set(encodedKey, at);
      at += encodedKey.length;
      if (typeof value === 'number') {
        if (!Number.isFinite(value)) return -1;
        scratch[at] = TAG.number;
        at = scratch.writeDoubleBE(value === 0 ? 0 : value, at + 1); // -0 is 0 in JSON
      } else if (typeof value === 'string') {
        ensure(at, 5 + value.length * 2);
        const bytes = scratch.write(value, at + 5, 'utf16le');
        scratch[at] = TAG.string;
        scratch.writeUInt32BE(bytes, at + 1);
        at += 5 + bytes;
      } else if (typeof value === 'boolean' || value === null) {
        scratch[at++] = value === null ? TAG.null : value ? TAG.true : TAG.false;
      } else {
        return -1; // nested objects and arrays: canonical JSON handles them
      }
    }
    scratch.writeUInt32BE(count, countAt);
  }
  return at;
}

export function canonicalHash(rows: readonly unknown[]): string {
  const length = encodeFlatRows(rows);
  if (length >= 0) return hash('sha256', scratch.subarray(0, length), 'hex');
  return hash('sha256', canonicalJson(rows), 'hex');
}
