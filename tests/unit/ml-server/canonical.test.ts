import { describe, expect, it } from 'vitest';
import { canonicalHash, canonicalJson } from '../../../services/ml-server/serving/canonical.ts';

describe('canonical JSON', () => {
  it('sorts object keys at every depth, keeps array order, and drops undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, 1], c: null }, u: undefined })).toBe('{"a":{"c":null,"d":[3,1]},"b":1}');
    expect(canonicalHash([{ x: 1, y: 2 }])).toBe(canonicalHash([{ y: 2, x: 1 }]));
    expect(canonicalHash([{ x: 1 }, { x: 2 }])).not.toBe(canonicalHash([{ x: 2 }, { x: 1 }]));
    expect(canonicalHash({ x: '1' })).not.toBe(canonicalHash({ x: 1 }));
    expect(canonicalJson('é"')).toBe(JSON.stringify('é"'));
  });
});

describe('canonical JSON with integer-like keys', () => {
  it('still sorts them as strings', () => {
    expect(canonicalJson({ b: 1, 10: 'x', 9: 'y', a: [{ 2: 1, 1: 2 }] })).toBe('{"10":"x","9":"y","a":[{"1":2,"2":1}],"b":1}');
    expect(canonicalJson([1, undefined, 'a'])).toBe('[1,null,"a"]');
  });
});
