import { describe, expect, it } from 'vitest';
import { noneMatch, parseIfMatch, versionTag } from '../../../services/kit/http/conditional.ts';

describe('If-Match on version tags', () => {
  it('accepts any version without a header, with an empty one or with *', () => {
    for (const header of [undefined, '', '  ', '*', ' * ']) expect(parseIfMatch(header)).toBeUndefined();
  });

  it('lists the versions of the strong tags it names', () => {
    expect(parseIfMatch(versionTag(3))).toEqual([3]);
    expect(parseIfMatch('"v1", "v22" ,"v333"')).toEqual([1, 22, 333]);
  });

  it('matches nothing for weak, foreign or malformed tags (strong comparison)', () => {
    for (const header of ['W/"v1"', '"x1"', 'v1', '"v"', '"v1234567890"', '"v-1"']) expect(parseIfMatch(header)).toEqual([]);
    expect(parseIfMatch('W/"v1", "v2"')).toEqual([2]);
  });
});

describe('If-None-Match', () => {
  const etag = '"abc"';

  it('does not match without a header', () => {
    expect(noneMatch(undefined, etag)).toBe(false);
    expect(noneMatch('', etag)).toBe(false);
  });

  it('matches * and the tag itself, weak or strong (weak comparison)', () => {
    expect(noneMatch('*', etag)).toBe(true);
    expect(noneMatch('"abc"', etag)).toBe(true);
    expect(noneMatch('W/"abc"', etag)).toBe(true);
    expect(noneMatch('"x", W/"abc"', etag)).toBe(true);
    expect(noneMatch('"abc"', 'W/"abc"')).toBe(true);
  });

  it('does not match other tags', () => {
    expect(noneMatch('"abd"', etag)).toBe(false);
    expect(noneMatch('"x", "y"', etag)).toBe(false);
  });
});
