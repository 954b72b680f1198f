/**
 * Environment of the API containers, following services/kit/config.ts. Secrets are always referenced
 * (secretKeyRef), never copied into the pod spec. User env (spec.<api>.env) wins over ours by name.
 */
import type { V1EnvVar } from '@kubernetes/client-node';
import { PORTS, SERVICE_MODULES } from './constants.ts';
import type { BuildInput } from './context.ts';
import { durationSeconds } from './defaults.ts';
import { secretWiring, serviceTokenEnvName } from './secrets.ts';
import type { EnvVar, KeyRef } from './types.ts';

export const secretEnv = (name: string, ref: KeyRef): V1EnvVar => ({
  name,
  valueFrom: { secretKeyRef: { name: ref.name, key: ref.key, ...(ref.optional ? { optional: true } : {}) } },
});

export const fieldEnv = (name: string, fieldPath: string): V1EnvVar => ({ name, valueFrom: { fieldRef: { fieldPath } } });

/** What the migration Job needs: only the database. */
export function databaseEnv(input: BuildInput): V1EnvVar[] {
  return [secretEnv('DATABASE_URL', secretWiring(input).databaseUrl)];
}

/** The object store: endpoint, region, bucket and keys (the APIs and the backup Job). */
export function objectStoreEnv(input: BuildInput): V1EnvVar[] {
  const { spec, names, cr } = input;
  const w = secretWiring(input);
  const os = spec.objectStorage;
  const s3Endpoint = os.mode === 'external' ? os.external.endpoint : `http://${names.minio}.${cr.metadata.namespace}.svc:${PORTS.minioApi}`;
  const s3Region = os.mode === 'external' ? os.external.region : os.region;
  return [
    { name: 'S3_ENDPOINT', value: s3Endpoint },
    { name: 'S3_REGION', value: s3Region },
    { name: 'S3_BUCKET', value: os.bucket },
    secretEnv('S3_ACCESS_KEY', w.s3AccessKey),
    secretEnv('S3_SECRET_KEY', w.s3SecretKey),
  ];
}

/** Redis, S3 and JWT settings shared by both APIs. */
export function dependencyEnv(input: BuildInput): V1EnvVar[] {
  const { spec } = input;
  const w = secretWiring(input);
  return [
    secretEnv('REDIS_URL', w.redisUrl),
    ...objectStoreEnv(input),
    secretEnv('JWT_SECRET', w.jwtSecret),
    { name: 'JWT_ISSUER', value: spec.auth.issuer },
    { name: 'JWT_AUDIENCE', value: spec.auth.audience },
    { name: 'JWT_ACCESS_TTL_SECONDS', value: String(durationSeconds(spec.auth.accessTokenTTL)) },
    ...SERVICE_MODULES.map((m) => secretEnv(serviceTokenEnvName(m), w.serviceTokens[m])),
  ];
}

/** The process-level variables: port, version, OpenTelemetry identity and the pod's own name. */
export function processEnv(input: BuildInput, serviceName: string, port: number): V1EnvVar[] {
  return [
    { name: 'NODE_ENV', value: 'production' },
    { name: 'PORT', value: String(port) },
    { name: 'SERVICE_VERSION', value: input.spec.version },
    fieldEnv('POD_NAME', 'metadata.name'),
    fieldEnv('POD_NAMESPACE', 'metadata.namespace'),
    { name: 'OTEL_SERVICE_NAME', value: serviceName },
    {
      name: 'OTEL_RESOURCE_ATTRIBUTES',
      value: `service.namespace=huntmaster,service.version=${input.spec.version},k8s.namespace.name=$(POD_NAMESPACE),k8s.pod.name=$(POD_NAME)`,
    },
  ];
}

/** Ours first, in order; a user variable with the same name replaces ours in place, new ones go last. */
export function mergeEnv(ours: V1EnvVar[], userEnv: EnvVar[]): V1EnvVar[] {
  const user = structuredClone(userEnv);
  const byName = new Map(user.map((e) => [e.name, e]));
  const merged: V1EnvVar[] = ours.map((e) => (byName.get(e.name) as V1EnvVar | undefined) ?? e);
  const ourNames = new Set(ours.map((e) => e.name));
  return [...merged, ...(user.filter((e) => !ourNames.has(e.name)) as V1EnvVar[])];
}
