/**
 * TypeScript mirror of the HuntMasterPlatform CRD (crds/platform.huntmaster.academy_huntmasterplatforms.yaml).
 * `PlatformSpec` is what a user writes (everything optional, as the API server may not have applied
 * defaults); `ResolvedSpec` is the result of `applyDefaults` and is what every builder consumes.
 */
import type { V1ObjectMeta, V1OwnerReference } from '@kubernetes/client-node';
import type { API_VERSION, KIND } from './constants.ts';
import type { KubeObject, ObjectMeta } from './objects.ts';

export type IntOrString = number | string;
export type Quantity = string | number;

export interface LocalObjectReference {
  name: string;
}

export interface SecretKeySelector {
  name: string;
  key?: string;
}

export interface ResourceRequirements {
  requests?: Record<string, Quantity>;
  limits?: Record<string, Quantity>;
}

export interface KeyRef {
  name: string;
  key: string;
  optional?: boolean;
}

export interface EnvVarSource {
  secretKeyRef?: KeyRef;
  configMapKeyRef?: KeyRef;
  fieldRef?: { fieldPath: string; apiVersion?: string };
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: EnvVarSource;
}

export interface Toleration {
  key?: string;
  operator?: 'Exists' | 'Equal';
  value?: string;
  effect?: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
  tolerationSeconds?: number;
}

/** Where pods run. Platform-wide in `spec.scheduling`; a component's own field replaces the platform's. */
export interface SchedulingSpec {
  nodeSelector?: Record<string, string>;
  tolerations?: Toleration[];
  /** core/v1 Affinity, passed through unchanged (the API server validates it with the workload). */
  affinity?: Record<string, unknown>;
  priorityClassName?: string;
}

export interface PodDisruptionBudgetSettings {
  enabled?: boolean;
  minAvailable?: IntOrString;
  maxUnavailable?: IntOrString;
}

export interface AutoscalingSettings {
  enabled?: boolean;
  minReplicas?: number;
  maxReplicas?: number;
  targetCPUUtilizationPercentage?: number;
  targetMemoryUtilizationPercentage?: number;
}

export interface ApiComponentSpec {
  replicas?: number;
  /** A HorizontalPodAutoscaler owns the replica count while enabled; `replicas` is then ignored. */
  autoscaling?: AutoscalingSettings;
  resources?: ResourceRequirements;
  env?: EnvVar[];
  podDisruptionBudget?: PodDisruptionBudgetSettings;
  scheduling?: SchedulingSpec;
}

export type DataServiceMode = 'managed' | 'external';

export interface StorageSpec {
  size?: string;
  storageClassName?: string;
}

export interface ExternalSecretSettings {
  secretRef: LocalObjectReference;
}

export interface BackupSpec {
  enabled?: boolean;
  /** Cron schedule, in UTC. */
  schedule?: string;
  retentionDays?: number;
}

export interface PostgresSpec {
  mode?: DataServiceMode;
  /** pg_dump into the platform's object storage on a schedule (managed or external PostgreSQL). */
  backup?: BackupSpec;
  /** Secret keys: DATABASE_URL (required), DATABASE_READ_ONLY_URL (optional). */
  external?: ExternalSecretSettings;
  storage?: StorageSpec;
  resources?: ResourceRequirements;
  scheduling?: SchedulingSpec;
  /** Managed mode: server settings, passed as `postgres -c name=value`. */
  parameters?: Record<string, string>;
}

export interface RedisSpec {
  mode?: DataServiceMode;
  /** Secret key: REDIS_URL. */
  external?: ExternalSecretSettings;
  storage?: StorageSpec;
  resources?: ResourceRequirements;
  scheduling?: SchedulingSpec;
}

export interface ExternalObjectStorage {
  endpoint: string;
  region?: string;
  /** Secret keys: accessKey, secretKey. */
  secretRef: LocalObjectReference;
}

export interface ObjectStorageSpec {
  mode?: DataServiceMode;
  bucket?: string;
  external?: ExternalObjectStorage;
  storage?: StorageSpec;
  resources?: ResourceRequirements;
  scheduling?: SchedulingSpec;
}

export interface ImagesSpec {
  contentBridge?: string;
  mlServer?: string;
  postgres?: string;
  redis?: string;
  minio?: string;
  minioClient?: string;
  adminer?: string;
  redisCommander?: string;
}

export interface AuthSpec {
  jwtSecretRef?: SecretKeySelector;
  /** Your own first-admin Secret (keys email, password, optional username); else `<cr>-admin` is generated. */
  adminSecretRef?: LocalObjectReference;
  accessTokenTTL?: string;
  issuer?: string;
  audience?: string;
}

export interface IngressHost {
  host: string;
}

/** One Ingress exposing the APIs (and the managed MinIO, for presigned URLs), each on its own host. */
export interface IngressSpec {
  enabled?: boolean;
  className?: string;
  annotations?: Record<string, string>;
  tls?: { secretName: string };
  contentBridge?: IngressHost;
  mlServer?: IngressHost;
  objectStorage?: IngressHost;
}

export interface MonitoringSpec {
  serviceMonitor?: { enabled?: boolean; labels?: Record<string, string>; interval?: string };
  prometheusRule?: { enabled?: boolean; labels?: Record<string, string> };
  grafanaDashboards?: { enabled?: boolean };
}

export type PullPolicy = 'Always' | 'IfNotPresent' | 'Never';
export type PvcDeletionPolicy = 'Retain' | 'Delete';

export interface PlatformSpec {
  version?: string;
  images?: ImagesSpec;
  imagePullPolicy?: PullPolicy;
  imagePullSecrets?: LocalObjectReference[];
  contentBridge?: ApiComponentSpec;
  mlServer?: ApiComponentSpec;
  postgres?: PostgresSpec;
  redis?: RedisSpec;
  objectStorage?: ObjectStorageSpec;
  auth?: AuthSpec;
  ingress?: IngressSpec;
  monitoring?: MonitoringSpec;
  scheduling?: SchedulingSpec;
  /** Labels and annotations for every object the operator creates and every pod (ours win on a clash). */
  inheritedMetadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  networkPolicy?: { enabled?: boolean };
  management?: { adminer?: { enabled?: boolean }; redisCommander?: { enabled?: boolean } };
  suspend?: boolean;
  deletionPolicy?: { persistentVolumeClaims?: PvcDeletionPolicy };
}

export type ConditionStatus = 'True' | 'False' | 'Unknown';

/** metav1.Condition, with the timestamp as the RFC 3339 string the API server stores. */
export interface Condition {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

export type Phase = 'Pending' | 'Provisioning' | 'Ready' | 'Degraded' | 'Suspended';

export interface ComponentStatus {
  /** `ready/desired` replicas, e.g. "2/2", or "external". */
  ready: string;
  message?: string;
}

export interface PlatformStatus {
  observedGeneration?: number;
  phase?: Phase;
  conditions?: Condition[];
  endpoints?: {
    contentBridge?: string;
    mlServer?: string;
    /** URLs through the Ingress, for the hosts it serves. */
    public?: { contentBridge?: string; mlServer?: string; objectStorage?: string };
  };
  /** The Secret holding the first admin's email and password (generated `<cr>-admin`, or auth.adminSecretRef). */
  adminSecret?: string;
  /** With spec.postgres.backup.enabled: when the backup CronJob last ran, and last succeeded. */
  backup?: { lastScheduleTime?: string; lastSuccessfulTime?: string };
  versions?: {
    platform?: string;
    migrated?: string;
    contentBridge?: string;
    mlServer?: string;
    postgres?: string;
    redis?: string;
    objectStorage?: string;
  };
  components?: {
    contentBridge?: ComponentStatus;
    mlServer?: ComponentStatus;
    postgres?: ComponentStatus;
    redis?: ComponentStatus;
    objectStorage?: ComponentStatus;
  };
}

export interface HuntMasterPlatform extends KubeObject {
  apiVersion: typeof API_VERSION;
  kind: typeof KIND;
  metadata: ObjectMeta & { namespace: string; uid: string };
  spec?: PlatformSpec;
  status?: PlatformStatus;
}

// ---------------------------------------------------------------------------------------------
// The spec after defaults: every builder reads this shape.

export interface ResolvedAutoscaling {
  enabled: boolean;
  minReplicas: number;
  maxReplicas: number;
  targetCPUUtilizationPercentage: number;
  targetMemoryUtilizationPercentage?: number;
}

export interface ResolvedApiComponent {
  replicas: number;
  autoscaling: ResolvedAutoscaling;
  resources: ResourceRequirements;
  env: EnvVar[];
  podDisruptionBudget: { enabled: boolean; minAvailable?: IntOrString; maxUnavailable?: IntOrString };
  scheduling: SchedulingSpec;
}

export interface ResolvedStorage {
  size: string;
  storageClassName?: string;
}

export interface ManagedDataService {
  mode: 'managed';
  storage: ResolvedStorage;
  resources: ResourceRequirements;
  scheduling: SchedulingSpec;
}

export interface ExternalDataService {
  mode: 'external';
  external: ExternalSecretSettings;
}

export type ResolvedBackup = Required<BackupSpec>;
export type ResolvedPostgres = (ManagedDataService | ExternalDataService) & {
  backup: ResolvedBackup;
  /** Server settings of a managed PostgreSQL, by name (empty in external mode). */
  parameters: Record<string, string>;
};
export type ResolvedRedis = ManagedDataService | ExternalDataService;

export type ResolvedObjectStorage =
  | (ManagedDataService & { bucket: string; region: string })
  | { mode: 'external'; bucket: string; external: Required<ExternalObjectStorage> };

export interface ResolvedSpec {
  version: string;
  images: ImagesSpec;
  imagePullPolicy: PullPolicy;
  imagePullSecrets: LocalObjectReference[];
  contentBridge: ResolvedApiComponent;
  mlServer: ResolvedApiComponent;
  postgres: ResolvedPostgres;
  redis: ResolvedRedis;
  objectStorage: ResolvedObjectStorage;
  auth: {
    jwtSecretRef?: Required<SecretKeySelector>;
    adminSecretRef?: LocalObjectReference;
    accessTokenTTL: string;
    issuer: string;
    audience: string;
  };
  ingress: IngressSpec & { enabled: boolean; annotations: Record<string, string> };
  monitoring: {
    serviceMonitor: { enabled: boolean; labels: Record<string, string>; interval: string };
    prometheusRule: { enabled: boolean; labels: Record<string, string> };
    grafanaDashboards: { enabled: boolean };
  };
  /** Platform-wide; the management tools use it as it is, the components merged with their own. */
  scheduling: SchedulingSpec;
  networkPolicy: { enabled: boolean };
  management: { adminer: { enabled: boolean }; redisCommander: { enabled: boolean } };
  suspend: boolean;
  deletionPolicy: { persistentVolumeClaims: PvcDeletionPolicy };
}

// ---------------------------------------------------------------------------------------------
// Child objects.

/**
 * Metadata every child carries: name, namespace, labels and the controller owner reference. The
 * builders never set the server's timestamps, which are strings on the wire (Dates in client-node).
 */
export type ChildMeta = Omit<V1ObjectMeta, 'creationTimestamp' | 'deletionTimestamp'> & {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  ownerReferences: V1OwnerReference[];
};

/**
 * A Kubernetes object built by this package (client-node model type + required metadata): a
 * KubeObject (kube/object.ts) whose apiVersion, kind and child metadata are always there.
 */
export type Child<T = object> = Omit<T, 'apiVersion' | 'kind' | 'metadata'> & { apiVersion: string; kind: string; metadata: ChildMeta };

/** Something the user asked for that the builders left out, and why (for a condition message). */
export interface SkippedNote {
  kind: string;
  reason: string;
  message: string;
}
