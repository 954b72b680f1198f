import { describe, expect, it } from 'vitest';
import { ANNOTATIONS, SERVICE_MODULES } from '../../../operator/specs/constants.ts';
import {
  generatedSecretNames,
  generatedSecrets,
  randomBase64,
  randomPassword,
  referencedSecretKeys,
  SECRET_KEYS,
} from '../../../operator/specs/secrets.ts';
import { externalCr, minimalCr, platform, seededRandom } from './fixtures.ts';

const byName = (cr = minimalCr, seed = 7) => new Map(generatedSecrets(cr, seededRandom(seed)).map((s) => [s.metadata.name, s.stringData!]));

describe('generated Secrets', () => {
  it('are deterministic for a given random source, and differ between sources', () => {
    expect(generatedSecrets(minimalCr, seededRandom(3))).toEqual(generatedSecrets(minimalCr, seededRandom(3)));
    expect(byName(minimalCr, 3).get('demo-jwt')).not.toEqual(byName(minimalCr, 4).get('demo-jwt'));
  });

  it('are marked as generated, so the reconciler creates them once and never rewrites them', () => {
    for (const s of generatedSecrets(minimalCr, seededRandom())) {
      expect(s.metadata.annotations?.[ANNOTATIONS.generatedSecret]).toBe('true');
      expect(s.type).toBe('Opaque');
    }
  });

  it('hold PostgreSQL credentials for the superuser, the app role and the read-only ml_reader role, with matching URLs', () => {
    const pg = byName().get('demo-postgres-credentials')!;
    const K = SECRET_KEYS.postgres;
    expect(pg[K.username]).toBe('huntmaster');
    expect(pg[K.readerUsername]).toBe('ml_reader');
    expect(new Set([pg[K.password], pg[K.readerPassword], pg[K.superuserPassword]]).size).toBe(3);
    expect(pg[K.databaseUrl]).toBe(`postgresql://huntmaster:${pg[K.password]}@demo-postgres.hunting.svc:5432/huntmaster`);
    expect(pg[K.readOnlyDatabaseUrl]).toBe(`postgresql://ml_reader:${pg[K.readerPassword]}@demo-postgres.hunting.svc:5432/huntmaster`);
    expect(new URL(pg[K.databaseUrl]!).password).toBe(pg[K.password]); // no escaping needed
  });

  it('hold a Redis password (and its URL), MinIO root credentials, a ≥32-byte JWT key and one token per module', () => {
    const s = byName();
    const redis = s.get('demo-redis-credentials')!;
    expect(redis.REDIS_URL).toBe(`redis://:${redis.password}@demo-redis.hunting.svc:6379/0`);
    expect(Object.keys(s.get('demo-minio-credentials')!)).toEqual(['accessKey', 'secretKey']);
    const jwt = Buffer.from(s.get('demo-jwt')!['signing-key']!, 'base64');
    expect(jwt.length).toBeGreaterThanOrEqual(32);
    const tokens = s.get('demo-service-tokens')!;
    expect(Object.keys(tokens)).toEqual([...SERVICE_MODULES]);
    expect(new Set(Object.values(tokens)).size).toBe(SERVICE_MODULES.length);
  });

  it('skip whatever the user supplies', () => {
    expect(generatedSecretNames(externalCr)).toEqual(['academy-service-tokens']);
    expect(generatedSecretNames(platform({ auth: { jwtSecretRef: { name: 'mine' } } }))).not.toContain('demo-jwt');
    expect(generatedSecretNames(platform({ auth: { adminSecretRef: { name: 'mine' } } }))).not.toContain('demo-admin');
    expect(generatedSecretNames(minimalCr)).toEqual([
      'demo-postgres-credentials',
      'demo-redis-credentials',
      'demo-minio-credentials',
      'demo-jwt',
      'demo-admin',
      'demo-service-tokens',
    ]);
  });
});

describe('the first admin', () => {
  it('gets a generated <cr>-admin Secret: username, an email the Content Bridge accepts, and a 32-character password', () => {
    const admin = byName().get('demo-admin')!;
    expect(admin[SECRET_KEYS.admin.username]).toBe('admin');
    expect(admin[SECRET_KEYS.admin.email]).toMatch(/^[^@\s]+@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}$/);
    expect(admin[SECRET_KEYS.admin.password]).toMatch(/^[A-Za-z0-9]{32}$/);
  });

  it('reaches the Content Bridge (and only it) from the generated Secret, or from auth.adminSecretRef', () => {
    const refs = (cr = minimalCr) => referencedSecretKeys(cr).filter((r) => /admin/.test(r.name));
    expect(refs()).toEqual([
      { name: 'demo-admin', key: 'email' },
      { name: 'demo-admin', key: 'password' },
      { name: 'demo-admin', key: 'username' },
    ]);
    // A user's Secret may leave out username: the Content Bridge then uses its default, admin.
    expect(refs(platform({ auth: { adminSecretRef: { name: 'mine-admin' } } }))).toEqual([
      { name: 'mine-admin', key: 'email' },
      { name: 'mine-admin', key: 'password' },
      { name: 'mine-admin', key: 'username', optional: true },
    ]);
  });
});

describe('random helpers', () => {
  it('randomPassword is alphanumeric, of the asked length, and skips bytes that would bias it', () => {
    const pw = randomPassword(seededRandom(9), 64);
    expect(pw).toMatch(/^[A-Za-z0-9]{64}$/);
    // A source of only 255s (all ≥ 248) followed by zeros must yield only 'A's, never a biased character.
    let calls = 0;
    const skewed = (n: number) => new Uint8Array(n).fill(calls++ === 0 ? 255 : 0);
    expect(randomPassword(skewed, 8)).toBe('AAAAAAAA');
  });

  it('randomBase64 refuses a short random source', () => {
    expect(() => randomBase64(() => new Uint8Array(3), 32)).toThrow(/returned 3 bytes/);
  });
});

describe('referencedSecretKeys', () => {
  it('lists what the API pods read: generated Secrets in managed mode', () => {
    const refs = referencedSecretKeys(minimalCr);
    expect(refs).toContainEqual({ name: 'demo-postgres-credentials', key: 'DATABASE_URL' });
    expect(refs).toContainEqual({ name: 'demo-jwt', key: 'signing-key' });
    expect(refs.filter((r) => r.name === 'demo-service-tokens')).toHaveLength(SERVICE_MODULES.length);
  });

  it("lists the user's Secrets in external mode, with the read-only URL optional", () => {
    const refs = referencedSecretKeys(externalCr);
    expect(refs).toEqual([
      { name: 'academy-admin-account', key: 'email' },
      { name: 'academy-admin-account', key: 'password' },
      { name: 'academy-admin-account', key: 'username', optional: true },
      { name: 'academy-db', key: 'DATABASE_READ_ONLY_URL', optional: true },
      { name: 'academy-db', key: 'DATABASE_URL' },
      { name: 'academy-jwt', key: 'hmac' },
      { name: 'academy-redis', key: 'REDIS_URL' },
      { name: 'academy-s3', key: 'accessKey' },
      { name: 'academy-s3', key: 'secretKey' },
      ...SERVICE_MODULES.map((m) => ({ name: 'academy-service-tokens', key: m })).sort((a, b) => a.key.localeCompare(b.key)),
    ]);
  });
});
