/**
 * Spec defaults, applied in code as well as by the CRD's OpenAPI defaults, so a CR that reached the
 * operator without API-server defaulting (an older CRD, a unit test) still resolves to a full spec.
 * tests/unit/operator-specs/crd.test.ts checks that every default in the CRD equals the one here.
 */
import { MINIO_REGION } from './constants.ts';
import { quantityValue } from './quantity.ts';
import type {
  ApiComponentSpec,
  BackupSpec,
  PlatformSpec,
  Quantity,
  ResolvedApiComponent,
  ResolvedAutoscaling,
  ResolvedBackup,
  ResolvedObjectStorage,
  ResolvedPostgres,
  ResolvedRedis,
  ResolvedSpec,
  ResourceRequirements,
  SchedulingSpec,
  StorageSpec,
} from './types.ts';

/** Thrown for a spec the CRD rejects or the operator refuses (the reconciler reports it in the Ready condition). */
export class SpecError extends Error {
  override name = 'SpecError';
}

export const DEFAULTS = {
  version: '0.1.0',
  imagePullPolicy: 'IfNotPresent',
  contentBridge: {
    replicas: 2,
    resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '512Mi' } },
    podDisruptionBudget: { enabled: true },
  },
  mlServer: {
    replicas: 2,
    resources: { requests: { cpu: '250m', memory: '512Mi' }, limits: { memory: '1Gi' } },
    podDisruptionBudget: { enabled: true },
  },
  /** Per API; off unless asked for (it needs the metrics API, e.g. metrics-server). */
  autoscaling: { enabled: false, minReplicas: 2, maxReplicas: 10, targetCPUUtilizationPercentage: 75 },
  /** Used when a PodDisruptionBudget is enabled and neither minAvailable nor maxUnavailable is set. */
  podDisruptionBudgetMaxUnavailable: 1,
  postgres: {
    mode: 'managed',
    backup: { enabled: false, schedule: '0 3 * * *', retentionDays: 7 },
    storage: { size: '10Gi' },
    resources: { requests: { cpu: '250m', memory: '512Mi' }, limits: { memory: '1Gi' } },
  },
  redis: {
    mode: 'managed',
    storage: { size: '1Gi' },
    resources: { requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '256Mi' } },
  },
  objectStorage: {
    mode: 'managed',
    bucket: 'huntmaster-storage',
    storage: { size: '20Gi' },
    resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '1Gi' } },
    externalRegion: 'us-east-1',
  },
  auth: {
    accessTokenTTL: '15m',
    issuer: 'huntmaster-content-bridge',
    audience: 'huntmaster-platform',
    jwtSecretKey: 'signing-key',
  },
  monitoring: {
    serviceMonitor: { enabled: false, interval: '30s' },
    prometheusRule: { enabled: false },
    grafanaDashboards: { enabled: false },
  },
  ingress: { enabled: false },
  networkPolicy: { enabled: true },
  management: { adminer: { enabled: false }, redisCommander: { enabled: false } },
  suspend: false,
  deletionPolicy: { persistentVolumeClaims: 'Retain' },
} as const;

const clone = <T>(value: T): T => structuredClone(value) as T;

/**
 * A component's resources: the user's requests and limits merged over the defaults, resource name by
 * resource name, so a spec that sets only requests keeps the default memory limit. A default that
 * would contradict what the user set for the same resource (a default limit below the user's
 * request, a default request above the user's limit) follows the user's value instead, so the pod
 * spec stays valid (requests <= limits) and keeps a bound.
 */
export function mergeResources(given: ResourceRequirements | undefined, defaults: ResourceRequirements): ResourceRequirements {
  const requests: Record<string, Quantity> = { ...defaults.requests };
  const limits: Record<string, Quantity> = { ...defaults.limits };
  const below = (a: Quantity, b: Quantity) => {
    const [x, y] = [quantityValue(a), quantityValue(b)];
    return x !== undefined && y !== undefined && x < y;
  };
  for (const [name, request] of Object.entries(given?.requests ?? {})) {
    requests[name] = request;
    if (given?.limits?.[name] === undefined && limits[name] !== undefined && below(limits[name], request)) limits[name] = request;
  }
  for (const [name, limit] of Object.entries(given?.limits ?? {})) {
    limits[name] = limit;
    if (given?.requests?.[name] === undefined && requests[name] !== undefined && below(limit, requests[name])) requests[name] = limit;
  }
  return {
    ...(Object.keys(requests).length ? { requests } : {}),
    ...(Object.keys(limits).length ? { limits } : {}),
  };
}

const resources = mergeResources;

const SCHEDULING_FIELDS = ['nodeSelector', 'tolerations', 'affinity', 'priorityClassName'] as const;

/**
 * A component's scheduling: each field it sets replaces the platform-wide one (a component's
 * nodeSelector replaces the whole platform nodeSelector, as Helm values and pod specs behave).
 */
export function mergeScheduling(platform: SchedulingSpec | undefined, component: SchedulingSpec | undefined): SchedulingSpec {
  const merged: Record<string, unknown> = {};
  for (const field of SCHEDULING_FIELDS) {
    const value = component?.[field] ?? platform?.[field];
    if (value !== undefined) merged[field] = clone(value);
  }
  return merged as SchedulingSpec;
}

interface ApiDefaults {
  replicas: number;
  resources: ResourceRequirements;
  podDisruptionBudget: { enabled: boolean };
}

function apiComponent(
  given: ApiComponentSpec | undefined,
  defaults: ApiDefaults,
  platform: SchedulingSpec | undefined,
): ResolvedApiComponent {
  const pdb = given?.podDisruptionBudget ?? {};
  const enabled = pdb.enabled ?? defaults.podDisruptionBudget.enabled;
  const podDisruptionBudget: ResolvedApiComponent['podDisruptionBudget'] = { enabled };
  if (pdb.minAvailable !== undefined) podDisruptionBudget.minAvailable = pdb.minAvailable;
  else podDisruptionBudget.maxUnavailable = pdb.maxUnavailable ?? DEFAULTS.podDisruptionBudgetMaxUnavailable;
  const a = given?.autoscaling ?? {};
  const d = DEFAULTS.autoscaling;
  const autoscaling: ResolvedAutoscaling = {
    enabled: a.enabled ?? d.enabled,
    minReplicas: a.minReplicas ?? d.minReplicas,
    maxReplicas: a.maxReplicas ?? d.maxReplicas,
    targetCPUUtilizationPercentage: a.targetCPUUtilizationPercentage ?? d.targetCPUUtilizationPercentage,
    ...(a.targetMemoryUtilizationPercentage !== undefined
      ? { targetMemoryUtilizationPercentage: a.targetMemoryUtilizationPercentage }
      : {}),
  };
  if (autoscaling.minReplicas > autoscaling.maxReplicas) {
    throw new SpecError('autoscaling.minReplicas must not be greater than autoscaling.maxReplicas');
  }
  return {
    replicas: given?.replicas ?? defaults.replicas,
    autoscaling,
    resources: resources(given?.resources, defaults.resources),
    env: clone(given?.env ?? []),
    podDisruptionBudget,
    scheduling: mergeScheduling(platform, given?.scheduling),
  };
}

function storage(given: StorageSpec | undefined, size: string) {
  return {
    size: given?.size ?? size,
    ...(given?.storageClassName !== undefined ? { storageClassName: given.storageClassName } : {}),
  };
}

function postgresOrRedis(
  what: 'postgres' | 'redis',
  given: PlatformSpec['postgres'] | PlatformSpec['redis'],
  defaults: (typeof DEFAULTS)['postgres' | 'redis'],
  platform: SchedulingSpec | undefined,
): ResolvedPostgres | ResolvedRedis {
  const mode = given?.mode ?? defaults.mode;
  if (mode === 'external') {
    if (!given?.external?.secretRef?.name) throw new SpecError(`spec.${what}.external.secretRef.name is required when mode is external`);
    return { mode, external: { secretRef: { name: given.external.secretRef.name } } };
  }
  return {
    mode,
    storage: storage(given?.storage, defaults.storage.size),
    resources: resources(given?.resources, defaults.resources),
    scheduling: mergeScheduling(platform, given?.scheduling),
  };
}

/** PostgreSQL settings the operator (or the image's entrypoint) sets: a CR may not change them. */
export const OPERATOR_OWNED_POSTGRES_SETTINGS: readonly string[] = [
  'listen_addresses',
  'port',
  'data_directory',
  'config_file',
  'hba_file',
  'ident_file',
  'unix_socket_directories',
  'external_pid_file',
];
/** A setting's name as in postgresql.conf; an extension's own settings carry its prefix (auto_explain.log_min_duration). */
const SETTING_NAME = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)?$/;
/** A value reaches the server as one argument: control characters (a NUL cannot be in one) are refused. */
const hasControlCharacter = (value: string) => [...value].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);

/** spec.postgres.parameters checked and sorted by name (a stable pod template), or {} when none. */
function postgresParameters(given: Record<string, string> | undefined, mode: string): Record<string, string> {
  const names = Object.keys(given ?? {}).sort();
  if (names.length === 0) return {};
  if (mode !== 'managed') throw new SpecError('spec.postgres.parameters apply only to mode managed');
  const invalid = names.filter((name) => !SETTING_NAME.test(name));
  if (invalid.length) {
    throw new SpecError(
      `spec.postgres.parameters: ${invalid.map((n) => JSON.stringify(n)).join(', ')} ${invalid.length === 1 ? 'is not a setting name' : 'are not setting names'} (lower case, as in postgresql.conf)`,
    );
  }
  const owned = names.filter((name) => OPERATOR_OWNED_POSTGRES_SETTINGS.includes(name));
  if (owned.length) throw new SpecError(`spec.postgres.parameters may not set ${owned.join(', ')}: the operator sets it`);
  const controls = names.filter((name) => hasControlCharacter(given![name]!));
  if (controls.length) throw new SpecError(`spec.postgres.parameters: the value of ${controls.join(', ')} holds a control character`);
  return Object.fromEntries(names.map((name) => [name, given![name]!]));
}

function backup(given: BackupSpec | undefined): ResolvedBackup {
  const d = DEFAULTS.postgres.backup;
  return {
    enabled: given?.enabled ?? d.enabled,
    schedule: given?.schedule ?? d.schedule,
    retentionDays: given?.retentionDays ?? d.retentionDays,
  };
}

function objectStorage(given: PlatformSpec['objectStorage'], platform: SchedulingSpec | undefined): ResolvedObjectStorage {
  const d = DEFAULTS.objectStorage;
  const mode = given?.mode ?? d.mode;
  const bucket = given?.bucket ?? d.bucket;
  if (mode === 'external') {
    const ext = given?.external;
    if (!ext?.endpoint || !ext.secretRef?.name) {
      throw new SpecError('spec.objectStorage.external.endpoint and .secretRef.name are required when mode is external');
    }
    return {
      mode,
      bucket,
      external: { endpoint: ext.endpoint, region: ext.region ?? d.externalRegion, secretRef: { name: ext.secretRef.name } },
    };
  }
  return {
    mode,
    bucket,
    region: MINIO_REGION,
    storage: storage(given?.storage, d.storage.size),
    resources: resources(given?.resources, d.resources),
    scheduling: mergeScheduling(platform, given?.scheduling),
  };
}

const INGRESS_HOSTS = ['contentBridge', 'mlServer', 'objectStorage'] as const;

function ingress(spec: PlatformSpec): ResolvedSpec['ingress'] {
  const given = spec.ingress ?? {};
  const resolved: ResolvedSpec['ingress'] = {
    enabled: given.enabled ?? DEFAULTS.ingress.enabled,
    annotations: clone(given.annotations ?? {}),
    ...(given.className !== undefined ? { className: given.className } : {}),
    ...(given.tls ? { tls: { secretName: given.tls.secretName } } : {}),
  };
  for (const key of INGRESS_HOSTS) if (given[key]) resolved[key] = { host: given[key].host };
  const hosts = INGRESS_HOSTS.flatMap((key) => resolved[key]?.host ?? []);
  if (resolved.enabled && hosts.length === 0) throw new SpecError('spec.ingress needs at least one host when enabled');
  if (new Set(hosts).size !== hosts.length) throw new SpecError('spec.ingress gives two components the same host');
  if (resolved.objectStorage && spec.objectStorage?.mode === 'external') {
    throw new SpecError('spec.ingress.objectStorage applies only to managed object storage');
  }
  return resolved;
}

/** Fills every default. Pure: never mutates `spec`, and the result shares no objects with DEFAULTS. */
export function applyDefaults(spec: PlatformSpec = {}): ResolvedSpec {
  const d = DEFAULTS;
  const auth = spec.auth ?? {};
  const mon = spec.monitoring ?? {};
  return {
    version: spec.version ?? d.version,
    images: clone(spec.images ?? {}),
    imagePullPolicy: spec.imagePullPolicy ?? d.imagePullPolicy,
    imagePullSecrets: clone(spec.imagePullSecrets ?? []),
    contentBridge: apiComponent(spec.contentBridge, d.contentBridge, spec.scheduling),
    mlServer: apiComponent(spec.mlServer, d.mlServer, spec.scheduling),
    postgres: {
      ...postgresOrRedis('postgres', spec.postgres, d.postgres, spec.scheduling),
      backup: backup(spec.postgres?.backup),
      parameters: postgresParameters(spec.postgres?.parameters, spec.postgres?.mode ?? d.postgres.mode),
    },
    redis: postgresOrRedis('redis', spec.redis, d.redis, spec.scheduling),
    objectStorage: objectStorage(spec.objectStorage, spec.scheduling),
    auth: {
      ...(auth.jwtSecretRef ? { jwtSecretRef: { name: auth.jwtSecretRef.name, key: auth.jwtSecretRef.key ?? d.auth.jwtSecretKey } } : {}),
      ...(auth.adminSecretRef ? { adminSecretRef: { name: auth.adminSecretRef.name } } : {}),
      accessTokenTTL: checkedDuration(auth.accessTokenTTL ?? d.auth.accessTokenTTL),
      issuer: auth.issuer ?? d.auth.issuer,
      audience: auth.audience ?? d.auth.audience,
    },
    ingress: ingress(spec),
    monitoring: {
      serviceMonitor: {
        enabled: mon.serviceMonitor?.enabled ?? d.monitoring.serviceMonitor.enabled,
        labels: clone(mon.serviceMonitor?.labels ?? {}),
        interval: mon.serviceMonitor?.interval ?? d.monitoring.serviceMonitor.interval,
      },
      prometheusRule: {
        enabled: mon.prometheusRule?.enabled ?? d.monitoring.prometheusRule.enabled,
        labels: clone(mon.prometheusRule?.labels ?? {}),
      },
      grafanaDashboards: { enabled: mon.grafanaDashboards?.enabled ?? d.monitoring.grafanaDashboards.enabled },
    },
    scheduling: mergeScheduling(spec.scheduling, undefined),
    networkPolicy: { enabled: spec.networkPolicy?.enabled ?? d.networkPolicy.enabled },
    management: {
      adminer: { enabled: spec.management?.adminer?.enabled ?? d.management.adminer.enabled },
      redisCommander: { enabled: spec.management?.redisCommander?.enabled ?? d.management.redisCommander.enabled },
    },
    suspend: spec.suspend ?? d.suspend,
    deletionPolicy: { persistentVolumeClaims: spec.deletionPolicy?.persistentVolumeClaims ?? d.deletionPolicy.persistentVolumeClaims },
  };
}

/** The duration itself, once durationSeconds() accepts it: every SpecError surfaces in applyDefaults. */
function checkedDuration(duration: string): string {
  durationSeconds(duration);
  return duration;
}

/**
 * Seconds in a duration of the CRD's form (`1h30m`, `15m`, `90s`), for JWT_ACCESS_TTL_SECONDS.
 * Throws SpecError on anything else.
 */
export function durationSeconds(duration: string): number {
  const match = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(duration);
  if (!match || duration === '') throw new SpecError(`invalid duration ${JSON.stringify(duration)} (expected e.g. 15m, 1h30m, 90s)`);
  const [, h = '0', m = '0', s = '0'] = match;
  return Number(h) * 3600 + Number(m) * 60 + Number(s);
}
