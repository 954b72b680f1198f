import { describe, expect, it } from 'vitest';
import { bodyHash, canonicalJson } from '../../../services/kit/canonical.ts';
import { csvCell, toCsv } from '../../../services/content-bridge/analytics/csv.ts';

describe('canonical JSON', () => {
  it('sorts keys at every level and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: undefined } })).toBe('{"a":{"d":[3,{"y":2,"z":1}]},"b":1}');
    expect(canonicalJson([undefined, null, -0, 'é"'])).toBe('[null,null,0,"é\\""]');
  });

  it('hashes equal bodies equally whatever the key order, and different bodies differently', () => {
    expect(bodyHash({ x: 1, y: [1, 2] })).toBe(bodyHash({ y: [1, 2], x: 1 }));
    expect(bodyHash({ x: 1, y: [1, 2] })).not.toBe(bodyHash({ x: 1, y: [2, 1] }));
    expect(bodyHash({ x: '1' })).not.toBe(bodyHash({ x: 1 }));
    expect(bodyHash({})).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses non-finite numbers', () => {
    expect(() => canonicalJson({ x: Number.NaN })).toThrow(TypeError);
  });
});

describe('CSV', () => {
  it.each([
    ['plain', 'plain'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\nlines', '"two\nlines"'],
    ['=1+2', "'=1+2"],
    ['+SUM(A1)', "'+SUM(A1)"],
    ['-2', "'-2"],
    ['@cmd', "'@cmd"],
    ['\tx', "'\tx"],
    ['=HYPERLINK("x","y")', `"'=HYPERLINK(""x"",""y"")"`],
    [' padded ', '" padded "'],
  ])('writes %j as %j', (input, output) => {
    expect(csvCell(input)).toBe(output);
  });

  it('writes numbers as numbers (negative ones unquoted) and empty cells for null', () => {
    expect([csvCell(-5), csvCell(1.25), csvCell(null), csvCell(undefined), csvCell(Number.NaN), csvCell(true)]).toEqual([
      '-5',
      '1.25',
      '',
      '',
      '',
      'true',
    ]);
  });

  it('renders a header and CRLF-terminated rows in column order', () => {
    expect(
      toCsv(
        ['b', 'a'],
        [
          { a: 1, b: 'x,y' },
          { a: null, b: '=z' },
        ],
      ),
    ).toBe('b,a\r\n"x,y",1\r\n\'=z,\r\n');
  });
});
