/**
 * Labels, selectors and the owner reference. Selectors use only name, instance and component,
 * because a Deployment's or StatefulSet's selector is immutable; the other labels may change.
 */
import type { V1OwnerReference } from '@kubernetes/client-node';
import { API_VERSION, KIND, LABELS, MANAGED_BY, PART_OF } from './constants.ts';
import { labelValue } from './names.ts';
import type { ChildMeta, HuntMasterPlatform } from './types.ts';

/** `app.kubernetes.io/name` and `/component` of every kind of child. */
export const COMPONENTS = {
  contentBridge: { name: 'content-bridge', component: 'api' },
  mlServer: { name: 'ml-server', component: 'api' },
  migrations: { name: 'migrations', component: 'migrations' },
  postgres: { name: 'postgres', component: 'database' },
  redis: { name: 'redis', component: 'cache' },
  minio: { name: 'minio', component: 'object-storage' },
  bucketInit: { name: 'minio-bucket-init', component: 'object-storage-init' },
  postgresBackup: { name: 'postgres-backup', component: 'backup' },
  adminer: { name: 'adminer', component: 'management' },
  redisCommander: { name: 'redis-commander', component: 'management' },
  monitoring: { name: 'huntmaster', component: 'monitoring' },
  ingress: { name: 'huntmaster', component: 'ingress' },
  credentials: { name: 'huntmaster', component: 'credentials' },
} as const;

export type ComponentKey = keyof typeof COMPONENTS;

export function selectorLabels(cr: HuntMasterPlatform, key: ComponentKey): Record<string, string> {
  return {
    [LABELS.name]: COMPONENTS[key].name,
    [LABELS.instance]: labelValue(cr.metadata.name),
    [LABELS.component]: COMPONENTS[key].component,
  };
}

/** Selector labels plus part-of, managed-by and version (the platform version unless given). */
export function componentLabels(cr: HuntMasterPlatform, key: ComponentKey, version: string): Record<string, string> {
  return {
    ...selectorLabels(cr, key),
    [LABELS.partOf]: PART_OF,
    [LABELS.managedBy]: MANAGED_BY,
    [LABELS.version]: labelValue(version),
  };
}

export function ownerReference(cr: HuntMasterPlatform): V1OwnerReference {
  return { apiVersion: API_VERSION, kind: KIND, name: cr.metadata.name, uid: cr.metadata.uid, controller: true, blockOwnerDeletion: true };
}

export interface MetaOptions {
  /** Value of app.kubernetes.io/version; defaults to the platform version. */
  version: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** spec.inheritedMetadata: what the user wants on every child and pod (cost centre, mesh injection…). */
function inherited(cr: HuntMasterPlatform): { labels: Record<string, string>; annotations: Record<string, string> } {
  const given = cr.spec?.inheritedMetadata;
  return { labels: { ...given?.labels }, annotations: { ...given?.annotations } };
}

/** Ours win over inherited ones with the same key. Empty maps are left out. */
function merged(theirs: Record<string, string>, ours: Record<string, string> | undefined): Record<string, string> | undefined {
  const all = { ...theirs, ...ours };
  return Object.keys(all).length ? all : undefined;
}

/** Metadata of a child: name, namespace, labels and the controller owner reference. */
export function childMeta(cr: HuntMasterPlatform, name: string, key: ComponentKey, opts: MetaOptions): ChildMeta {
  const extra = inherited(cr);
  const annotations = merged(extra.annotations, opts.annotations);
  return {
    name,
    namespace: cr.metadata.namespace,
    labels: { ...extra.labels, ...opts.labels, ...componentLabels(cr, key, opts.version) },
    ...(annotations ? { annotations } : {}),
    ownerReferences: [ownerReference(cr)],
  };
}

/**
 * Metadata of a pod template: the component's labels and the inherited metadata. Not for a
 * StatefulSet's volumeClaimTemplates: those are immutable, so they keep componentLabels alone.
 */
export function podTemplateMeta(
  cr: HuntMasterPlatform,
  key: ComponentKey,
  version: string,
  annotations?: Record<string, string>,
): { labels: Record<string, string>; annotations?: Record<string, string> } {
  const extra = inherited(cr);
  const all = merged(extra.annotations, annotations);
  return { labels: { ...extra.labels, ...componentLabels(cr, key, version) }, ...(all ? { annotations: all } : {}) };
}
