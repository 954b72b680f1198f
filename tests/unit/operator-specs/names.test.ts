import { describe, expect, it } from 'vitest';
import { configHash, hashSpec, stableStringify } from '../../../operator/specs/hash.ts';
import { childName, labelValue, platformNames, versionSlug } from '../../../operator/specs/names.ts';
import { platform } from './fixtures.ts';

describe('migration Job names', () => {
  it('are one per version, and one per image when spec.images.contentBridge pins it', () => {
    const n = platformNames(platform({}, 'demo'));
    expect(n.migrationJob('1.2.3')).toBe('demo-migrate-1-2-3');
    const pinned = n.migrationJob('1.2.3', 'registry.example/cb:1.2.3');
    expect(pinned).toMatch(/^demo-migrate-1-2-3-[0-9a-f]{6}$/);
    expect(n.migrationJob('1.2.3', 'registry.example/cb:1.2.4')).not.toBe(pinned);
    expect(n.migrationJob('1.2.3', 'registry.example/cb:1.2.3')).toBe(pinned);
  });
});

describe('childName', () => {
  it('is <cr>-<suffix> when it fits', () => {
    expect(childName('demo', 'content-bridge')).toBe('demo-content-bridge');
    expect(childName('a'.repeat(48), 'content-bridge')).toHaveLength(63);
    expect(childName('a'.repeat(48), 'content-bridge')).toBe(`${'a'.repeat(48)}-content-bridge`);
  });

  it('truncates the CR part and inserts a hash of the full CR name when too long, keeping the suffix', () => {
    const long = `academy-${'x'.repeat(55)}`; // 63 characters
    const name = childName(long, 'content-bridge');
    expect(name).toHaveLength(63);
    expect(name).toMatch(/^academy-x+-[0-9a-f]{8}-content-bridge$/);
    // Two long CR names that share the first 40 characters still get different child names.
    expect(childName(`${long.slice(0, 62)}y`, 'content-bridge')).not.toBe(name);
  });

  it('respects a smaller limit (StatefulSets) and never ends the truncated part with a dash', () => {
    const name = childName(`${'a'.repeat(34)}-${'b'.repeat(20)}`, 'postgres', 52);
    expect(name.length).toBeLessThanOrEqual(52);
    expect(name).not.toMatch(/--/);
  });

  it('falls back to a truncated name plus hash when even the suffix does not fit', () => {
    const name = childName('demo', `dashboard-${'very-long-'.repeat(8)}`);
    expect(name.length).toBeLessThanOrEqual(63);
    expect(name).toMatch(/-[0-9a-f]{8}$/);
  });

  it('keeps every name of a 63-character CR within limits', () => {
    const n = platformNames(platform({}, `z${'9'.repeat(62)}`));
    const all = [
      n.contentBridge,
      n.mlServer,
      n.postgresHeadless,
      n.postgresInit,
      n.redisHeadless,
      n.minioHeadless,
      n.adminer,
      n.redisCommander,
      n.serviceMonitor,
      n.prometheusRule,
      ...Object.values(n.secrets),
      n.migrationJob('10.20.30-beta.4'),
      n.migrationJob('10.20.30-beta.4', 'registry.example/a/very/long/path/content-bridge:10.20.30-beta.4'),
      n.bucketJob('huntmaster-storage'),
      n.dashboard('Platform Overview.json'),
    ];
    for (const name of all) expect(name.length, name).toBeLessThanOrEqual(63);
    for (const name of [n.postgres, n.redis, n.minio]) expect(name.length, name).toBeLessThanOrEqual(52);
    expect(new Set(all).size).toBe(all.length);
  });
});

describe('labelValue', () => {
  it('passes valid values through and hashes the rest into a valid value', () => {
    expect(labelValue('0.1.0')).toBe('0.1.0');
    expect(labelValue('RELEASE.2025-09-07T16-13-09Z')).toBe('RELEASE.2025-09-07T16-13-09Z');
    for (const bad of ['a'.repeat(80), 'has space', '-leading', 'sha256:abc', '']) {
      const v = labelValue(bad);
      expect(v.length, bad).toBeLessThanOrEqual(63);
      expect(v, bad).toMatch(/^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/);
    }
  });
});

describe('versionSlug', () => {
  it('turns a release into a name part and disambiguates pre-releases', () => {
    expect(versionSlug('0.1.0')).toBe('0-1-0');
    expect(versionSlug('v2.0.1')).toBe('v2-0-1');
    expect(versionSlug('1.0.0-rc.1')).not.toBe(versionSlug('1.0.0-rc-1'));
  });
});

describe('hashes', () => {
  it('configHash ignores key order but sees every value, and a missing source differs from an empty one', () => {
    const a = configHash({ 'Secret/x': { a: '1', b: '2' }, 'Secret/y': { c: '3' } });
    const b = configHash({ 'Secret/y': { c: '3' }, 'Secret/x': { b: '2', a: '1' } });
    expect(a).toBe(b);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(configHash({ 'Secret/x': { a: '1', b: '3' }, 'Secret/y': { c: '3' } })).not.toBe(a);
    expect(configHash({ 'Secret/x': undefined })).not.toBe(configHash({ 'Secret/x': {} }));
  });

  it('hashSpec is stable over key order and nested values', () => {
    expect(hashSpec({ b: [1, { d: 1, c: 2 }], a: 'x' })).toBe(hashSpec({ a: 'x', b: [1, { c: 2, d: 1 }] }));
    expect(hashSpec({ a: 1 })).not.toBe(hashSpec({ a: '1' }));
    expect(stableStringify({ b: 1, a: undefined, c: [undefined] })).toBe('{"b":1,"c":[null]}');
  });
});
