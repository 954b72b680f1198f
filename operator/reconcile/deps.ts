/** What the reconcile phases share: the client, the typed cache and the reporting hooks. */
import type { Logger } from 'pino';
import type { KubeClient } from '../kube/client.ts';
import type { CronJobObject, HuntMasterPlatform, JobObject, KubeObject, SecretObject, WorkloadObject } from '../specs/index.ts';
import type { EventRecorder } from './events.ts';

/** The kinds the informers cache, and what the reconciler reads of each. */
export interface CachedKinds {
  HuntMasterPlatform: HuntMasterPlatform;
  Secret: SecretObject;
  Deployment: WorkloadObject;
  StatefulSet: WorkloadObject;
  Job: JobObject;
  CronJob: CronJobObject;
  Service: KubeObject;
  ConfigMap: KubeObject;
  PodDisruptionBudget: KubeObject;
  HorizontalPodAutoscaler: KubeObject;
  NetworkPolicy: KubeObject;
  Ingress: KubeObject;
}
export type CachedKind = keyof CachedKinds;

/** Read access to the informer caches, by kind. */
export interface ClusterCache {
  get<K extends CachedKind>(kind: K, namespace: string, name: string): CachedKinds[K] | undefined;
  /** Every cached object of `kind` in `namespace` whose controller is `ownerUid`. */
  owned<K extends CachedKind>(kind: K, namespace: string, ownerUid: string): CachedKinds[K][];
  /** Kinds the caches cover; others are read from the API server. */
  has(kind: string): kind is CachedKind;
}

export interface ReconcilerDeps {
  client: KubeClient;
  cache: ClusterCache;
  logger: Logger;
  record: EventRecorder;
  capabilities(): Promise<{ serviceMonitor: boolean; prometheusRule: boolean }>;
  /** The API server stopped serving a kind (its CRD was removed): ask again on the next reconcile. */
  forgetCapabilities?(): void;
  /** Resolves when the external S3 endpoint answers; rejects with a reason otherwise. */
  probeObjectStorage(endpoint: string): Promise<void>;
  dashboards: Record<string, string>;
  onReadiness(namespace: string, name: string, ready: boolean | undefined): void;
  /**
   * Unix time of the last successful backup (until there is one, of when backups were switched on),
   * or undefined when backups are off or the platform is gone.
   */
  onBackup?(namespace: string, name: string, since: number | undefined): void;
  /** Counts writes, so tests and benchmarks can prove a no-op reconcile writes nothing. */
  onWrite?(verb: string, kind: string, name: string): void;
  now?: () => Date;
}

/** The deps with the helpers every phase uses. */
export interface Phase extends ReconcilerDeps {
  wrote(verb: string, o: KubeObject): void;
  clock(): Date;
  /** A child by kind and name: from the cache when it covers the kind, else from the API server. */
  live(kind: string, namespace: string, name: string, apiVersion: string): Promise<KubeObject | undefined>;
}
