/**
 * Generated Secrets and the wiring of every secret-backed environment variable.
 *
 * The reconciler creates each generated Secret once (when it is missing) and never rewrites it;
 * the random source is injected so tests are deterministic. A Secret the user supplies (external
 * data services, auth.jwtSecretRef) replaces the generated one: it is not generated and the pods
 * reference the user's Secret. External Secrets use the same key names as the generated ones.
 */
import { randomBytes } from 'node:crypto';
import type { V1Secret } from '@kubernetes/client-node';
import { ADMIN, ANNOTATIONS, PORTS, POSTGRES, SERVICE_MODULES, type ServiceModule } from './constants.ts';
import { prepare, type BuildInput } from './context.ts';
import { childMeta } from './labels.ts';
import type { Child, HuntMasterPlatform, KeyRef } from './types.ts';

/** Returns `size` random bytes; `crypto.randomBytes` in production. */
export type RandomSource = (size: number) => Uint8Array;
export const cryptoRandom: RandomSource = (size) => randomBytes(size);

/** Key names inside the Secrets. The URL keys are also the contract for user-supplied Secrets. */
export const SECRET_KEYS = {
  postgres: {
    databaseUrl: 'DATABASE_URL',
    readOnlyDatabaseUrl: 'DATABASE_READ_ONLY_URL',
    host: 'host',
    port: 'port',
    database: 'database',
    username: 'username',
    password: 'password',
    readerUsername: 'reader-username',
    readerPassword: 'reader-password',
    superuserUsername: 'superuser-username',
    superuserPassword: 'superuser-password',
  },
  redis: { url: 'REDIS_URL', password: 'password' },
  objectStorage: { accessKey: 'accessKey', secretKey: 'secretKey' },
  jwt: { signingKey: 'signing-key' },
  /** The Content Bridge creates its first admin from these (ADMIN_USERNAME, ADMIN_EMAIL, ADMIN_PASSWORD). */
  admin: { username: 'username', email: 'email', password: 'password' },
} as const;

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * A password of `length` characters from [A-Za-z0-9] (rejection sampling, so unbiased). Alphanumeric
 * on purpose: it goes into URLs (DATABASE_URL, REDIS_URL) unescaped. 32 characters ≈ 190 bits.
 */
export function randomPassword(random: RandomSource, length = 32): string {
  const limit = 256 - (256 % ALPHANUMERIC.length); // 248: bytes at or above it would bias the result
  let out = '';
  while (out.length < length) {
    for (const byte of random(length * 2)) {
      if (byte < limit) out += ALPHANUMERIC[byte % ALPHANUMERIC.length];
      if (out.length === length) break;
    }
  }
  return out;
}

/** `bytes` random bytes, base64 (JWT signing key) or base64url (service tokens). */
export function randomBase64(random: RandomSource, bytes: number, encoding: 'base64' | 'base64url' = 'base64'): string {
  const buf = random(bytes);
  if (buf.length !== bytes) throw new Error(`random source returned ${buf.length} bytes, wanted ${bytes}`);
  return Buffer.from(buf).toString(encoding);
}

/** Environment variable of each module service token, e.g. SERVICE_TOKEN_USER_MANAGEMENT. */
export function serviceTokenEnvName(module: ServiceModule): string {
  return `SERVICE_TOKEN_${module.toUpperCase().replace(/-/g, '_')}`;
}

export interface SecretWiring {
  databaseUrl: KeyRef;
  /** Read-only role (ml_reader); optional in a user-supplied Secret. */
  databaseReadOnlyUrl: KeyRef;
  redisUrl: KeyRef;
  s3AccessKey: KeyRef;
  s3SecretKey: KeyRef;
  jwtSecret: KeyRef;
  serviceTokens: Record<ServiceModule, KeyRef>;
  /** The first admin: username is optional in a user-supplied Secret (the Content Bridge defaults it). */
  admin: { username: KeyRef; email: KeyRef; password: KeyRef };
}

/** Which Secret and key backs each secret environment variable of the API pods. */
export function secretWiring(input: BuildInput): SecretWiring {
  const { spec, names } = input;
  const K = SECRET_KEYS;
  const pgSecret = spec.postgres.mode === 'external' ? spec.postgres.external.secretRef.name : names.secrets.postgres;
  const redisSecret = spec.redis.mode === 'external' ? spec.redis.external.secretRef.name : names.secrets.redis;
  const s3Secret = spec.objectStorage.mode === 'external' ? spec.objectStorage.external.secretRef.name : names.secrets.minio;
  const jwt = spec.auth.jwtSecretRef ?? { name: names.secrets.jwt, key: K.jwt.signingKey };
  const adminSecret = spec.auth.adminSecretRef?.name ?? names.secrets.admin;
  return {
    databaseUrl: { name: pgSecret, key: K.postgres.databaseUrl },
    databaseReadOnlyUrl: {
      name: pgSecret,
      key: K.postgres.readOnlyDatabaseUrl,
      ...(spec.postgres.mode === 'external' ? { optional: true } : {}),
    },
    redisUrl: { name: redisSecret, key: K.redis.url },
    s3AccessKey: { name: s3Secret, key: K.objectStorage.accessKey },
    s3SecretKey: { name: s3Secret, key: K.objectStorage.secretKey },
    jwtSecret: { name: jwt.name, key: jwt.key },
    serviceTokens: Object.fromEntries(SERVICE_MODULES.map((m) => [m, { name: names.secrets.serviceTokens, key: m }])) as Record<
      ServiceModule,
      KeyRef
    >,
    admin: {
      username: { name: adminSecret, key: K.admin.username, ...(spec.auth.adminSecretRef ? { optional: true } : {}) },
      email: { name: adminSecret, key: K.admin.email },
      password: { name: adminSecret, key: K.admin.password },
    },
  };
}

/**
 * Every Secret key the API pods consume, deduplicated and sorted. The reconciler reads these to
 * compute BuildContext.configHash and to report missing ones (ObservedState.missingSecrets);
 * `optional` keys may be absent.
 */
export function referencedSecretKeys(cr: HuntMasterPlatform): KeyRef[] {
  const w = secretWiring(prepare(cr, { configHash: '' }));
  const all = [
    w.databaseUrl,
    w.databaseReadOnlyUrl,
    w.redisUrl,
    w.s3AccessKey,
    w.s3SecretKey,
    w.jwtSecret,
    ...Object.values(w.serviceTokens),
    ...Object.values(w.admin),
  ];
  const seen = new Map<string, KeyRef>();
  for (const ref of all) seen.set(`${ref.name}\u0000${ref.key}`, ref);
  return [...seen.values()].sort((a, b) => a.name.localeCompare(b.name) || a.key.localeCompare(b.key));
}

/** The name of each Secret the operator generates for this CR (only those it needs). */
export function generatedSecretNames(cr: HuntMasterPlatform): string[] {
  return generatedSecretPlans(prepare(cr, { configHash: '' })).map((p) => p.name);
}

interface SecretPlan {
  name: string;
  data: (random: RandomSource) => Record<string, string>;
}

function generatedSecretPlans(input: BuildInput): SecretPlan[] {
  const { spec, names, cr } = input;
  const ns = cr.metadata.namespace;
  const plans: SecretPlan[] = [];
  const K = SECRET_KEYS;

  if (spec.postgres.mode === 'managed') {
    plans.push({
      name: names.secrets.postgres,
      data: (random) => {
        const host = `${names.postgres}.${ns}.svc`;
        const port = String(PORTS.postgres);
        const password = randomPassword(random);
        const readerPassword = randomPassword(random);
        const url = (user: string, pw: string) => `postgresql://${user}:${pw}@${host}:${port}/${POSTGRES.database}`;
        return {
          [K.postgres.databaseUrl]: url(POSTGRES.appUser, password),
          [K.postgres.readOnlyDatabaseUrl]: url(POSTGRES.readerUser, readerPassword),
          [K.postgres.host]: host,
          [K.postgres.port]: port,
          [K.postgres.database]: POSTGRES.database,
          [K.postgres.username]: POSTGRES.appUser,
          [K.postgres.password]: password,
          [K.postgres.readerUsername]: POSTGRES.readerUser,
          [K.postgres.readerPassword]: readerPassword,
          [K.postgres.superuserUsername]: POSTGRES.superuser,
          [K.postgres.superuserPassword]: randomPassword(random),
        };
      },
    });
  }
  if (spec.redis.mode === 'managed') {
    plans.push({
      name: names.secrets.redis,
      data: (random) => {
        const password = randomPassword(random);
        return { [K.redis.url]: `redis://:${password}@${names.redis}.${ns}.svc:${PORTS.redis}/0`, [K.redis.password]: password };
      },
    });
  }
  if (spec.objectStorage.mode === 'managed') {
    plans.push({
      name: names.secrets.minio,
      data: (random) => ({
        [K.objectStorage.accessKey]: randomPassword(random, 20),
        [K.objectStorage.secretKey]: randomPassword(random, 40),
      }),
    });
  }
  if (!spec.auth.jwtSecretRef) {
    plans.push({ name: names.secrets.jwt, data: (random) => ({ [K.jwt.signingKey]: randomBase64(random, 48) }) });
  }
  if (!spec.auth.adminSecretRef) {
    // Alphanumeric, 32 characters: well above the Content Bridge's 12-character minimum.
    plans.push({
      name: names.secrets.admin,
      data: (random) => ({ [K.admin.username]: ADMIN.username, [K.admin.email]: ADMIN.email, [K.admin.password]: randomPassword(random) }),
    });
  }
  plans.push({
    name: names.secrets.serviceTokens,
    data: (random) => Object.fromEntries(SERVICE_MODULES.map((m) => [m, randomBase64(random, 32, 'base64url')])),
  });
  return plans;
}

/**
 * The Secrets to create when missing. Never apply them over an existing Secret: that would rotate
 * every credential (and PostgreSQL keeps the passwords it was initialised with).
 */
export function generatedSecrets(cr: HuntMasterPlatform, random: RandomSource = cryptoRandom): Child<V1Secret>[] {
  const input = prepare(cr, { configHash: '' });
  return generatedSecretPlans(input).map((plan) => ({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: childMeta(cr, plan.name, 'credentials', {
      version: input.spec.version,
      annotations: { [ANNOTATIONS.generatedSecret]: 'true' },
    }),
    type: 'Opaque',
    stringData: plan.data(random),
  }));
}
