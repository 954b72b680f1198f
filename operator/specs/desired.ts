/**
 * The whole desired state of one HuntMasterPlatform. A switched-off component is simply absent, so
 * the reconciler can prune every owned object of a CHILD_KINDS kind that is not in the list (except
 * the generated Secrets, which it creates separately with `generatedSecrets` and never prunes while
 * their name is in `generatedSecretNames`).
 */
import { apiObjects } from './api-deployments.ts';
import { horizontalPodAutoscalers } from './autoscaling.ts';
import { postgresBackupCronJob } from './backup.ts';
import { prepare, type BuildContext } from './context.ts';
import { platformIngress } from './ingress.ts';
import { managementObjects } from './management.ts';
import { migrationJob } from './migrations.ts';
import { minioObjects } from './minio.ts';
import { monitoringObjects } from './monitoring.ts';
import { jobNetworkPolicies, networkPolicies } from './network-policy.ts';
import { podDisruptionBudgets } from './pdb.ts';
import { postgresObjects } from './postgres.ts';
import { redisObjects } from './redis.ts';
import { generatedSecretNames } from './secrets.ts';
import type { HuntMasterPlatform, Child, ResolvedObjectStorage, ResolvedPostgres, ResolvedRedis, SkippedNote } from './types.ts';

export interface DesiredState {
  /** In apply order: data services, the migration Job, the APIs, then the optional extras. */
  objects: Child[];
  /** Requested objects that were not built, e.g. a ServiceMonitor without the prometheus-operator CRDs. */
  skipped: SkippedNote[];
  /** The Secrets `generatedSecrets` would create; they are not in `objects` because their data is random. */
  generatedSecretNames: string[];
}

/** Every kind the builders produce: what the reconciler watches (Owns) and prunes, in this order (Secrets last). */
export const CHILD_KINDS = [
  { apiVersion: 'apps/v1', kind: 'Deployment' },
  { apiVersion: 'apps/v1', kind: 'StatefulSet' },
  { apiVersion: 'v1', kind: 'Service' },
  { apiVersion: 'v1', kind: 'ConfigMap' },
  { apiVersion: 'batch/v1', kind: 'Job' },
  { apiVersion: 'batch/v1', kind: 'CronJob' },
  { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget' },
  { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler' },
  { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy' },
  { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress' },
  { apiVersion: 'v1', kind: 'Secret' },
  { apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor' },
  { apiVersion: 'monitoring.coreos.com/v1', kind: 'PrometheusRule' },
] as const;

/** Throws SpecError for a spec the CRD would have rejected (e.g. mode external without a Secret). */
export function desiredChildren(cr: HuntMasterPlatform, ctx: BuildContext): DesiredState {
  const input = prepare(cr, ctx);
  const management = managementObjects(input);
  const monitoring = monitoringObjects(input);
  const migration = migrationJob(input);
  const ingress = platformIngress(input);
  const backup = postgresBackupCronJob(input);
  const workloads = [
    ...postgresObjects(input),
    ...redisObjects(input),
    ...minioObjects(input),
    ...(migration ? [migration] : []),
    ...(backup ? [backup] : []),
  ];
  return {
    objects: [
      ...workloads,
      ...apiObjects(input),
      ...horizontalPodAutoscalers(input),
      ...podDisruptionBudgets(input),
      ...networkPolicies(input),
      ...jobNetworkPolicies(input, workloads as Child[]),
      ...(ingress ? [ingress] : []),
      ...management.objects,
      ...monitoring.objects,
    ],
    skipped: [...management.skipped, ...monitoring.skipped],
    generatedSecretNames: generatedSecretNames(cr),
  };
}

export interface DesiredVolume {
  statefulSet: string;
  /** The PVC the StatefulSet's `data` volumeClaimTemplate created for pod 0. */
  persistentVolumeClaim: string;
  size: string;
}

/**
 * The data PVCs of the managed data services and their desired size. A StatefulSet's
 * volumeClaimTemplates are immutable, so growing `storage.size` is the reconciler's job: it patches
 * these PVCs (the CRD already refuses a smaller size) and leaves the template as created.
 */
export function desiredVolumes(cr: HuntMasterPlatform): DesiredVolume[] {
  const { spec, names } = prepare(cr, { configHash: '' });
  const services: [string, ResolvedPostgres | ResolvedRedis | ResolvedObjectStorage][] = [
    [names.postgres, spec.postgres],
    [names.redis, spec.redis],
    [names.minio, spec.objectStorage],
  ];
  return services.flatMap(([statefulSet, service]) =>
    service.mode === 'managed' ? [{ statefulSet, persistentVolumeClaim: names.dataPvc(statefulSet), size: service.storage.size }] : [],
  );
}
