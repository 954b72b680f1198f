/**
 * Child object names. All derive from the CR name; when a name would be too long, the CR part is
 * truncated and an 8-character hash of the full CR name is inserted, so names stay unique and the
 * readable suffix (`-postgres`, `-content-bridge`) survives.
 */
import { MAX_NAME_LENGTH, MAX_STATEFULSET_NAME_LENGTH } from './constants.ts';
import { shortHash } from './hash.ts';
import type { HuntMasterPlatform } from './types.ts';

const trimDashes = (s: string) => s.replace(/^-+|-+$/g, '');
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** `<base>-<suffix>`, at most `maxLength` characters (default 63). */
export function childName(base: string, suffix: string, maxLength: number = MAX_NAME_LENGTH): string {
  const full = `${base}-${suffix}`;
  if (full.length <= maxLength) return full;
  const hash = shortHash(base);
  const room = maxLength - suffix.length - hash.length - 2;
  if (room >= 1) return `${trimDashes(base.slice(0, room)) || 'x'}-${hash}-${suffix}`;
  // The suffix alone is too long: keep what fits of the whole name and the hash of all of it.
  return `${trimDashes(full.slice(0, maxLength - hash.length - 1))}-${shortHash(full)}`;
}

/** A label value (≤63 characters, alphanumeric at both ends), hashing when it must shorten. */
export function labelValue(value: string): string {
  if (value.length <= MAX_NAME_LENGTH && LABEL_VALUE.test(value)) return value;
  const hash = shortHash(value);
  const cleaned = value
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .slice(0, MAX_NAME_LENGTH - hash.length - 1)
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
  return cleaned ? `${cleaned}-${hash}` : hash;
}

/**
 * `0.1.0` → `0-1-0`; a pre-release (`1.0.0-rc.1`) also gets a short hash, since `rc.1` and `rc-1`
 * would otherwise collide.
 */
export function versionSlug(version: string): string {
  const slug = trimDashes(version.toLowerCase().replace(/[^a-z0-9]+/g, '-'));
  return /^v?\d+\.\d+\.\d+$/.test(version) ? slug : `${slug}-${shortHash(version, 6)}`;
}

export interface PlatformNames {
  contentBridge: string;
  mlServer: string;
  postgres: string;
  postgresHeadless: string;
  postgresInit: string;
  redis: string;
  redisHeadless: string;
  minio: string;
  minioHeadless: string;
  adminer: string;
  redisCommander: string;
  serviceMonitor: string;
  ingress: string;
  postgresBackup: string;
  prometheusRule: string;
  secrets: {
    postgres: string;
    redis: string;
    minio: string;
    jwt: string;
    serviceTokens: string;
    admin: string;
  };
  /**
   * `<cr>-migrate-<version>`: one Job per platform version; with `spec.images.contentBridge` set,
   * `<cr>-migrate-<version>-<hash of that image>`, so a new image runs its migrations before the
   * APIs roll even when the version stays.
   */
  migrationJob(version: string, contentBridgeImage?: string): string;
  /** `<cr>-minio-bucket-<hash of bucket>`: one Job per bucket name. */
  bucketJob(bucket: string): string;
  /** `<cr>-dashboard-<key>`: one ConfigMap per Grafana dashboard. */
  dashboard(key: string): string;
  networkPolicy(component: string): string;
  /** The PVC a StatefulSet's volumeClaimTemplate `data` creates for pod 0. */
  dataPvc(statefulSet: string): string;
}

export function platformNames(cr: Pick<HuntMasterPlatform, 'metadata'>): PlatformNames {
  const n = cr.metadata.name;
  const sts = (suffix: string) => childName(n, suffix, MAX_STATEFULSET_NAME_LENGTH);
  const postgres = sts('postgres');
  const redis = sts('redis');
  const minio = sts('minio');
  return {
    contentBridge: childName(n, 'content-bridge'),
    mlServer: childName(n, 'ml-server'),
    postgres,
    postgresHeadless: childName(postgres, 'headless'),
    postgresInit: childName(n, 'postgres-init'),
    redis,
    redisHeadless: childName(redis, 'headless'),
    minio,
    minioHeadless: childName(minio, 'headless'),
    adminer: childName(n, 'adminer'),
    redisCommander: childName(n, 'redis-commander'),
    serviceMonitor: childName(n, 'apis'),
    ingress: childName(n, 'ingress'),
    postgresBackup: childName(n, 'postgres-backup'),
    prometheusRule: childName(n, 'alerts'),
    secrets: {
      postgres: childName(n, 'postgres-credentials'),
      redis: childName(n, 'redis-credentials'),
      minio: childName(n, 'minio-credentials'),
      jwt: childName(n, 'jwt'),
      serviceTokens: childName(n, 'service-tokens'),
      admin: childName(n, 'admin'),
    },
    migrationJob: (version, image) =>
      childName(n, `migrate-${versionSlug(version)}${image === undefined ? '' : `-${shortHash(image, 6)}`}`),
    bucketJob: (bucket) => childName(n, `minio-bucket-${shortHash(bucket, 6)}`),
    dashboard: (key) =>
      childName(
        n,
        `dashboard-${trimDashes(
          key
            .toLowerCase()
            .replace(/\.json$/, '')
            .replace(/[^a-z0-9]+/g, '-'),
        )}`,
      ),
    networkPolicy: (component) => childName(n, component),
    dataPvc: (statefulSet) => `data-${statefulSet}-0`,
  };
}
