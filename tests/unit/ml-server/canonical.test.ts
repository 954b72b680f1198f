/** The prediction cache key of input rows: equal exactly when the rows are equal as JSON. */
import { describe, expect, it } from 'vitest';
import { canonicalHash } from '../../../services/ml-server/serving/canonical.ts';

const shuffled = (row: Record<string, unknown>, random: () => number) => Object.fromEntries(Object.entries(row).sort(() => random() - 0.5));

describe('prediction cache key of input rows', () => {
  it('ignores key order, at every depth', () => {
    expect(canonicalHash([{ x: 1, y: 2 }])).toBe(canonicalHash([{ y: 2, x: 1 }]));
    expect(canonicalHash([{ a: { d: [3, 1], c: null }, b: 1 }])).toBe(canonicalHash([{ b: 1, a: { c: null, d: [3, 1] } }]));
    expect(canonicalHash([{ 10: 'x', 9: 'y', a: true }])).toBe(canonicalHash([{ a: true, 9: 'y', 10: 'x' }]));
  });

  it('tells apart rows that differ as JSON', () => {
    const distinct = [
      [{ x: 1 }, { x: 2 }],
      [{ x: 2 }, { x: 1 }], // row order matters
      [{ x: '1' }], // a string is not a number
      [{ x: 1 }],
      [{ x: true }],
      [{ x: 'true' }],
      [{ x: null }],
      [{ x: 'null' }],
      [{ x: 1, y: 1 }],
      [{ xy: 1 }],
      [{ x: 'a', y: 'b' }],
      [{ x: 'ab' }], // lengths keep keys and strings from running together
      [{ '\ud800': 1 }], // lone surrogates stay distinct
      [{ '\udc00': 1 }],
      [{ x: { y: 1 } }], // nested: the JSON path
      [{ x: [1] }],
      [{}],
      [],
    ];
    const hashes = distinct.map((rows) => canonicalHash(rows));
    expect(new Set(hashes).size).toBe(distinct.length);
  });

  it('treats -0 as 0 and drops undefined members, as JSON does', () => {
    expect(canonicalHash([{ x: -0 }])).toBe(canonicalHash([{ x: 0 }]));
    expect(canonicalHash([{ x: 1, y: undefined }])).toBe(canonicalHash([{ x: 1 }]));
  });

  it('is stable for random rows of scalar features in any key order', () => {
    let seed = 7;
    const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    const seen = new Set<string>();
    for (let n = 0; n < 200; n++) {
      const row: Record<string, unknown> = { id: n };
      for (let k = 0; k < 12; k++) {
        const kind = random();
        row[random() < 0.2 ? String(k) : `f${k}`] =
          kind < 0.6
            ? (random() - 0.5) * 10 ** Math.floor(random() * 30 - 10)
            : kind < 0.8
              ? `s${random()}`
              : kind < 0.9
                ? random() < 0.5
                : null;
      }
      const key = canonicalHash([row]);
      expect(canonicalHash([shuffled(row, random)])).toBe(key);
      seen.add(key);
    }
    expect(seen.size).toBe(200);
  });

  it('handles batches larger than its scratch buffer', () => {
    const rows = Array.from({ length: 1000 }, (_, i) =>
      Object.fromEntries(Array.from({ length: 20 }, (_, f) => [`feature_${f}`, `${i}-${f}`.repeat(4)])),
    );
    const reversed = rows.map((r) => Object.fromEntries(Object.entries(r).reverse()));
    expect(canonicalHash(rows)).toBe(canonicalHash(reversed));
    expect(canonicalHash(rows)).not.toBe(canonicalHash([...rows.slice(0, 999), { ...rows[999], feature_0: 'other' }]));
  });
});
