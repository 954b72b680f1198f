/** What the three managed data services share: a one-replica StatefulSet with a `data` PVC and two Services. */
import type { V1Container, V1ContainerPort, V1Service, V1StatefulSet, V1Volume } from '@kubernetes/client-node';
import { ANNOTATIONS } from './constants.ts';
import type { BuildInput } from './context.ts';
import { imageTag } from './context.ts';
import { childMeta, type ComponentKey, componentLabels, podTemplateMeta, selectorLabels } from './labels.ts';
import { containerBase, containerSecurityContext, podBase, podSecurityContext, tmpMount, tmpVolume, toResources } from './pod.ts';
import type { Child, ManagedDataService } from './types.ts';

export type DataServiceKey = Extract<ComponentKey, 'postgres' | 'redis' | 'minio'>;

export interface DataServiceParams {
  key: DataServiceKey;
  name: string;
  headlessName: string;
  image: string;
  settings: ManagedDataService;
  uid: number;
  gid: number;
  /** The container, without name/image/securityContext/resources and without the data and /tmp mounts. */
  container: Omit<V1Container, 'name' | 'image' | 'imagePullPolicy' | 'securityContext' | 'resources'> & { name: string };
  dataMountPath: string;
  volumes?: V1Volume[];
  terminationGracePeriodSeconds?: number;
}

/** The data services' version label is their image tag, so a platform upgrade does not restart them. */
export function dataServiceVersion(image: string): string {
  return imageTag(image);
}

export function dataServiceStatefulSet(input: BuildInput, p: DataServiceParams): Child<V1StatefulSet> {
  const { cr, spec } = input;
  const version = dataServiceVersion(p.image);
  const { name: containerName, volumeMounts = [], ...container } = structuredClone(p.container);
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: childMeta(cr, p.name, p.key, { version, annotations: { [ANNOTATIONS.storageSize]: p.settings.storage.size } }),
    spec: {
      replicas: spec.suspend ? 0 : 1,
      serviceName: p.headlessName,
      selector: { matchLabels: selectorLabels(cr, p.key) },
      podManagementPolicy: 'OrderedReady',
      updateStrategy: { type: 'RollingUpdate' },
      persistentVolumeClaimRetentionPolicy: { whenDeleted: spec.deletionPolicy.persistentVolumeClaims, whenScaled: 'Retain' },
      template: {
        metadata: podTemplateMeta(cr, p.key, version, { 'kubectl.kubernetes.io/default-container': containerName }),
        spec: {
          ...podBase(input, p.settings.scheduling),
          securityContext: podSecurityContext(p.uid, p.gid),
          terminationGracePeriodSeconds: p.terminationGracePeriodSeconds ?? 30,
          containers: [
            {
              ...containerBase(input, containerName, p.image),
              ...container,
              resources: toResources(p.settings.resources),
              securityContext: containerSecurityContext(),
              volumeMounts: [{ name: 'data', mountPath: p.dataMountPath }, tmpMount(), ...volumeMounts],
            },
          ],
          volumes: [tmpVolume(), ...(p.volumes ?? [])],
        },
      },
      volumeClaimTemplates: [
        {
          apiVersion: 'v1',
          kind: 'PersistentVolumeClaim',
          metadata: { name: 'data', labels: componentLabels(cr, p.key, version) },
          spec: {
            accessModes: ['ReadWriteOnce'],
            ...(p.settings.storage.storageClassName ? { storageClassName: p.settings.storage.storageClassName } : {}),
            resources: { requests: { storage: p.settings.storage.size } },
          },
        },
      ],
    },
  };
}

/** The client Service (ClusterIP) and the headless Service that gives the pod its stable DNS name. */
export function dataServiceServices(
  input: BuildInput,
  p: Pick<DataServiceParams, 'key' | 'name' | 'headlessName' | 'image'>,
  ports: V1ContainerPort[],
) {
  const { cr } = input;
  const version = dataServiceVersion(p.image);
  const servicePorts = () => ports.map((port) => ({ name: port.name, port: port.containerPort, targetPort: port.name, protocol: 'TCP' }));
  const client: Child<V1Service> = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: childMeta(cr, p.name, p.key, { version }),
    spec: { type: 'ClusterIP', selector: selectorLabels(cr, p.key), ports: servicePorts() },
  };
  const headless: Child<V1Service> = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: childMeta(cr, p.headlessName, p.key, { version }),
    spec: { clusterIP: 'None', publishNotReadyAddresses: true, selector: selectorLabels(cr, p.key), ports: servicePorts() },
  };
  return [client, headless];
}
