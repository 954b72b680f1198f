/** Fixed identifiers shared by the CRD, the builders and the reconciler. Change them here only. */

export const GROUP = 'platform.huntmaster.academy';
export const CRD_VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${CRD_VERSION}` as const;
export const KIND = 'HuntMasterPlatform';
export const PLURAL = 'huntmasterplatforms';

export const PART_OF = 'huntmaster';
export const MANAGED_BY = 'huntmaster-operator';

export const LABELS = {
  name: 'app.kubernetes.io/name',
  instance: 'app.kubernetes.io/instance',
  component: 'app.kubernetes.io/component',
  partOf: 'app.kubernetes.io/part-of',
  managedBy: 'app.kubernetes.io/managed-by',
  version: 'app.kubernetes.io/version',
} as const;

export const ANNOTATIONS = {
  /** On API pod templates: sha256 over every Secret/ConfigMap key the pods consume (see configHash). */
  configHash: 'huntmaster.academy/config-hash',
  /** On generated Secrets: the reconciler creates them once and never rewrites them. */
  generatedSecret: 'huntmaster.academy/generated-secret',
  /** On Jobs: the reconciler creates them once and never patches them (a Job's template is immutable). */
  createOnly: 'huntmaster.academy/create-only',
  /** On create-only Jobs: hash of the spec they were created with, so a changed one is replaced (see specs/jobs.ts). */
  specHash: 'huntmaster.academy/spec-hash',
  /** On create-only Jobs: which attempt this is; a Failed Job is recreated with backoff and the count raised. */
  attempt: 'huntmaster.academy/attempt',
  /**
   * On data-service StatefulSets: the storage size asked for. A StatefulSet's volumeClaimTemplates
   * are immutable, so a larger size is applied to the PVCs themselves; this records that it was.
   */
  storageSize: 'huntmaster.academy/storage-size',
  /**
   * On API Deployments whose replica count a HorizontalPodAutoscaler owns. Its arrival on the live
   * object tells the reconciler that the count was already handed over (see reconcile/autoscaling.ts).
   */
  autoscaled: 'huntmaster.academy/autoscaled',
} as const;

export const PORTS = {
  contentBridge: 8090,
  mlServer: 8010,
  postgres: 5432,
  redis: 6379,
  minioApi: 9000,
  minioConsole: 9001,
  adminer: 8080,
  redisCommander: 8081,
} as const;

export const HTTP_PATHS = { liveness: '/livez', readiness: '/readyz', metrics: '/metrics' } as const;

/** The Content Bridge image runs the migrations; `npm run migrate` is the same script. */
export const MIGRATION_COMMAND: readonly string[] = ['node', 'services/content-bridge/migrate.ts'];

/** Operator-level image defaults; `spec.images.*` wins, then `BuildContext.imageDefaults`, then these. */
export interface ImageDefaults {
  /** Repository of the Content Bridge image; the tag is `spec.version`. */
  contentBridgeRepository: string;
  /** Repository of the ML Server image; the tag is `spec.version`. */
  mlServerRepository: string;
  postgres: string;
  redis: string;
  minio: string;
  /** MinIO client (`mc`), used by the bucket-creation Job. */
  minioClient: string;
  adminer: string;
  redisCommander: string;
}

export const DEFAULT_IMAGES: ImageDefaults = {
  contentBridgeRepository: 'ghcr.io/huntmaster-academy/content-bridge',
  mlServerRepository: 'ghcr.io/huntmaster-academy/ml-server',
  // Debian image on purpose: its postgres user is uid/gid 999 (the Alpine image uses 70).
  postgres: 'docker.io/library/postgres:17.6-bookworm',
  redis: 'docker.io/library/redis:7.4.5-alpine',
  minio: 'quay.io/minio/minio:RELEASE.2025-09-07T16-13-09Z',
  minioClient: 'quay.io/minio/mc:RELEASE.2025-08-13T08-35-41Z',
  adminer: 'docker.io/library/adminer:5.3.0',
  redisCommander: 'ghcr.io/joeferner/redis-commander:0.9.1',
};

/** Numeric users the pods run as. The API images run as 10001; third-party images use their own. */
export const UIDS = {
  api: 10001,
  postgres: 999,
  redis: 999,
  redisGroup: 1000,
  minio: 1000,
  adminer: 10001,
  redisCommander: 1000,
} as const;

/** Database roles and names created by the init script of managed PostgreSQL. */
export const POSTGRES = {
  superuser: 'postgres',
  database: 'huntmaster',
  appUser: 'huntmaster',
  readerUser: 'ml_reader',
  /** Schemas created by the init script (owned by the app role). */
  schemas: ['users', 'content', 'ml'],
  /** Schemas the read-only role may SELECT from. */
  readerSchemas: ['content', 'ml'],
  dataDir: '/var/lib/postgresql/data',
  pgdata: '/var/lib/postgresql/data/pgdata',
} as const;

/** The first admin of a platform whose admin Secret the operator generates (`<cr>-admin`). */
export const ADMIN = { username: 'admin', email: 'admin@huntmaster.local' } as const;

/** MinIO has no regions; S3 clients still need one. */
export const MINIO_REGION = 'us-east-1';

/** The module service tokens generated into `<cr>-service-tokens`, one key each. */
export const SERVICE_MODULES = ['curriculum', 'user-management', 'analytics', 'assessment', 'social'] as const;
export type ServiceModule = (typeof SERVICE_MODULES)[number];

/** Metric names the API services export (services/kit/observability/metrics.ts); the alerts use them. */
export const METRICS = {
  requests: 'http_requests_total',
  duration: 'http_request_duration_seconds',
  statusLabel: 'status_code',
} as const;

/** Maximum length of object names that become DNS labels (Services) or label values (Jobs). */
export const MAX_NAME_LENGTH = 63;
/**
 * StatefulSet names stay shorter: the controller-revision-hash label is `<name>-<10 chars>` and must
 * fit in 63 characters.
 */
export const MAX_STATEFULSET_NAME_LENGTH = 52;
