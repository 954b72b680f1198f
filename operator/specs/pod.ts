/** Pieces every pod shares: the restricted security context, /tmp, pull secrets, probes. */
import type {
  V1Affinity,
  V1Container,
  V1PodSecurityContext,
  V1PodSpec,
  V1Probe,
  V1ResourceRequirements,
  V1SecurityContext,
  V1Volume,
  V1VolumeMount,
} from '@kubernetes/client-node';
import type { BuildInput } from './context.ts';
import type { ResourceRequirements, SchedulingSpec } from './types.ts';

/** Pod-level half of the Pod Security Standard "restricted" profile. */
export function podSecurityContext(uid: number, gid: number = uid, fsGroup: number = gid): V1PodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: uid,
    runAsGroup: gid,
    fsGroup,
    fsGroupChangePolicy: 'OnRootMismatch',
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

/** Container-level half of "restricted", plus a read-only root filesystem unless an image cannot cope. */
export function containerSecurityContext(opts: { readOnlyRootFilesystem?: boolean } = {}): V1SecurityContext {
  return {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: opts.readOnlyRootFilesystem ?? true,
    runAsNonRoot: true,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

/** A writable /tmp for containers with a read-only root filesystem. */
export const tmpVolume = (): V1Volume => ({ name: 'tmp', emptyDir: { sizeLimit: '256Mi' } });
export const tmpMount = (): V1VolumeMount => ({ name: 'tmp', mountPath: '/tmp' });

type PodBase = Pick<
  V1PodSpec,
  | 'imagePullSecrets'
  | 'automountServiceAccountToken'
  | 'enableServiceLinks'
  | 'nodeSelector'
  | 'tolerations'
  | 'affinity'
  | 'priorityClassName'
>;

/**
 * Fields every pod spec gets: pull secrets, no API token, no service-link env (it would clash, e.g.
 * POSTGRES_PORT), and where it runs. Every builder passes its component's scheduling, so no pod can
 * miss the platform's node selector or tolerations.
 */
export function podBase(input: BuildInput, scheduling: SchedulingSpec): PodBase {
  const { nodeSelector, tolerations, affinity, priorityClassName } = structuredClone(scheduling);
  return {
    ...(input.spec.imagePullSecrets.length ? { imagePullSecrets: input.spec.imagePullSecrets.map(({ name }) => ({ name })) } : {}),
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    ...(nodeSelector && Object.keys(nodeSelector).length ? { nodeSelector } : {}),
    ...(tolerations?.length ? { tolerations } : {}),
    ...(affinity && Object.keys(affinity).length ? { affinity: affinity as V1Affinity } : {}),
    ...(priorityClassName ? { priorityClassName } : {}),
  };
}

export function containerBase(input: BuildInput, name: string, image: string): Pick<V1Container, 'name' | 'image' | 'imagePullPolicy'> {
  return { name, image, imagePullPolicy: input.spec.imagePullPolicy };
}

export function execProbe(command: string[], o: Partial<V1Probe> = {}): V1Probe {
  return { exec: { command: [...command] }, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3, ...o };
}

export function httpProbe(path: string, port: string | number, o: Partial<V1Probe> = {}): V1Probe {
  return { httpGet: { path, port }, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3, ...o };
}

/** The CRD accepts integer quantities (`cpu: 1`); the pod spec gets them as strings. */
export function toResources(r: ResourceRequirements): V1ResourceRequirements {
  const str = (m: Record<string, string | number> | undefined) =>
    m && Object.fromEntries(Object.entries(m).map(([k, v]) => [k, String(v)]));
  const requests = str(r.requests);
  const limits = str(r.limits);
  return { ...(requests ? { requests } : {}), ...(limits ? { limits } : {}) };
}
