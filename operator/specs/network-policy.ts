/**
 * NetworkPolicies (spec.networkPolicy.enabled), ingress only:
 * - the APIs accept traffic on their HTTP port from anywhere (ingress controllers, Prometheus);
 * - PostgreSQL, Redis and MinIO accept traffic only from this platform's pods that use them, except
 *   MinIO's API port when the Ingress exposes it (for presigned URLs);
 * - Adminer and Redis Commander accept none: reach them with `kubectl port-forward`;
 * - the Jobs' pods (migrations, bucket creation, backups) serve nothing, so they accept none.
 * Egress is not restricted.
 */
import type { V1LabelSelector, V1NetworkPolicyPeer, V1NetworkPolicyPort } from '@kubernetes/client-node';
import { LABELS, PORTS } from './constants.ts';
import type { BuildInput } from './context.ts';
import { dataServiceVersion } from './stateful.ts';
import { childMeta, COMPONENTS, selectorLabels, type ComponentKey } from './labels.ts';
import type { Child } from './types.ts';

/** networking.k8s.io/v1 NetworkPolicy as JSON (the client-node model names the `from` field `_from`). */
export interface NetworkPolicyIngressRule {
  from?: V1NetworkPolicyPeer[];
  ports?: V1NetworkPolicyPort[];
}
export type NetworkPolicy = Child<{ spec: { podSelector: V1LabelSelector; policyTypes: string[]; ingress?: NetworkPolicyIngressRule[] } }>;

function policy(
  input: BuildInput,
  target: ComponentKey,
  name: string,
  version: string,
  ingress: NetworkPolicyIngressRule[],
): NetworkPolicy {
  const { cr } = input;
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: childMeta(cr, name, target, { version }),
    // No rules admits nothing. Left out rather than `[]`: the API server drops an empty list, and a
    // field it drops would read as drift on every reconcile.
    spec: { podSelector: { matchLabels: selectorLabels(cr, target) }, policyTypes: ['Ingress'], ...(ingress.length ? { ingress } : {}) },
  };
}

const from = (input: BuildInput, keys: ComponentKey[]): V1NetworkPolicyPeer[] =>
  keys.map((key) => ({ podSelector: { matchLabels: selectorLabels(input.cr, key) } }));

export function networkPolicies(input: BuildInput): NetworkPolicy[] {
  const { spec, names, images } = input;
  if (!spec.networkPolicy.enabled) return [];
  const v = spec.version;
  const mgmt = spec.management;
  const tcp = (port: number) => [{ port, protocol: 'TCP' }];
  // The backup Job reads PostgreSQL and writes to MinIO.
  const backup: ComponentKey[] = spec.postgres.backup.enabled ? ['postgresBackup'] : [];
  const out: NetworkPolicy[] = [
    policy(input, 'contentBridge', names.contentBridge, v, [{ ports: tcp(PORTS.contentBridge) }]),
    policy(input, 'mlServer', names.mlServer, v, [{ ports: tcp(PORTS.mlServer) }]),
  ];
  if (spec.postgres.mode === 'managed') {
    const clients: ComponentKey[] = [
      'contentBridge',
      'mlServer',
      'migrations',
      ...backup,
      ...(mgmt.adminer.enabled ? (['adminer'] as const) : []),
    ];
    out.push(
      policy(input, 'postgres', names.postgres, dataServiceVersion(images.postgres), [
        { from: from(input, clients), ports: tcp(PORTS.postgres) },
      ]),
    );
  }
  if (spec.redis.mode === 'managed') {
    const clients: ComponentKey[] = ['contentBridge', 'mlServer', ...(mgmt.redisCommander.enabled ? (['redisCommander'] as const) : [])];
    out.push(
      policy(input, 'redis', names.redis, dataServiceVersion(images.redis), [{ from: from(input, clients), ports: tcp(PORTS.redis) }]),
    );
  }
  if (spec.objectStorage.mode === 'managed') {
    const clients: ComponentKey[] = ['contentBridge', 'mlServer', 'bucketInit', ...backup];
    // Exposed through the Ingress: its controller runs wherever the cluster put it.
    const exposed = spec.ingress.enabled && spec.ingress.objectStorage !== undefined;
    out.push(
      policy(input, 'minio', names.minio, dataServiceVersion(images.minio), [
        exposed ? { ports: tcp(PORTS.minioApi) } : { from: from(input, clients), ports: tcp(PORTS.minioApi) },
      ]),
    );
  }
  if (mgmt.adminer.enabled) out.push(policy(input, 'adminer', names.adminer, v, []));
  if (mgmt.redisCommander.enabled && spec.redis.mode === 'managed') out.push(policy(input, 'redisCommander', names.redisCommander, v, []));
  return out;
}

/**
 * No ingress to the pods of the platform's Jobs and CronJob (migrations, bucket creation, backups):
 * they serve nothing. One policy per Job component present, named after the component.
 */
export function jobNetworkPolicies(input: BuildInput, workloads: Child[]): NetworkPolicy[] {
  const { spec, names } = input;
  if (!spec.networkPolicy.enabled) return [];
  const jobKeys: ComponentKey[] = ['migrations', 'bucketInit', 'postgresBackup'];
  return jobKeys
    .filter((key) =>
      workloads.some(
        (o) => (o.kind === 'Job' || o.kind === 'CronJob') && o.metadata.labels?.[LABELS.component] === COMPONENTS[key].component,
      ),
    )
    .map((key) => policy(input, key, names.networkPolicy(COMPONENTS[key].name), spec.version, []));
}
