/**
 * The one shape of a Kubernetes object in the operator: what the API server sends and the caches
 * hold (timestamps are RFC 3339 strings, as on the wire), and what the builders produce (`Child` in
 * types.ts is a KubeObject with the metadata every child must carry). Pure types, here in specs/ so
 * that the builders may use them; kube/client.ts re-exports KubeObject. The kinds the reconciler
 * reads fields of have their own narrow types, so the typed cache (reconcile/deps.ts) needs no casts.
 */
export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  deletionTimestamp?: string;
  creationTimestamp?: string;
  [key: string]: unknown;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

export interface SecretObject extends KubeObject {
  data?: Record<string, string>;
}

/** A Deployment or StatefulSet: the fields the status reads. */
export interface WorkloadObject extends KubeObject {
  spec?: { replicas?: number };
  status?: { readyReplicas?: number; availableReplicas?: number; updatedReplicas?: number; observedGeneration?: number };
}

export interface JobCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

export interface JobObject extends KubeObject {
  status?: { succeeded?: number; failed?: number; completionTime?: string; conditions?: JobCondition[] };
}

export interface CronJobObject extends KubeObject {
  status?: { lastScheduleTime?: string; lastSuccessfulTime?: string };
}

export interface PersistentVolumeClaimObject extends KubeObject {
  spec?: { resources?: { requests?: { storage?: string } } };
}
