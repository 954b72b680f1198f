/**
 * What a cluster needs beyond its daemons: CoreDNS as a pod behind the kube-dns Service, and a
 * StorageClass that really provisions, served by rancher's local-path-provisioner (its helper
 * pods make and remove each volume's directory under the node's temp dir).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ApiRequest } from '../apiclient.ts';
import { binaries } from '../paths.ts';
import { waitUntil, type ManagedProcess } from '../process.ts';
import type { NodePaths } from './config.ts';
import { IMAGE_REFS } from './images.ts';
import { NODE_NETWORK as N } from './network.ts';

export const STORAGE_CLASS = 'standard';
const PROVISIONER = 'rancher.io/local-path';
const LOCAL_PATH_NAMESPACE = 'local-path-storage';

interface AddonContext {
  request: ApiRequest;
  kubectl(args: string[], opts?: { input?: string }): Promise<string>;
  paths: NodePaths;
  spawn(name: string, command: string, args: string[]): ManagedProcess;
  adminKubeconfig: string;
}

function corednsObjects(): object[] {
  const ns = 'kube-system';
  const labels = { 'k8s-app': 'kube-dns' };
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'coredns', namespace: ns } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'system:coredns' },
      rules: [
        { apiGroups: [''], resources: ['endpoints', 'services', 'pods', 'namespaces'], verbs: ['list', 'watch'] },
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'system:coredns' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:coredns' },
      subjects: [{ kind: 'ServiceAccount', name: 'coredns', namespace: ns }],
    },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'coredns', namespace: ns },
      // No `forward`: a name outside cluster.local gets an answer from nobody, and nothing leaves the node.
      data: {
        Corefile: [
          '.:53 {',
          '    errors',
          '    health :8080',
          '    ready :8181',
          '    kubernetes cluster.local in-addr.arpa ip6.arpa {',
          '        pods insecure',
          '        fallthrough in-addr.arpa ip6.arpa',
          '    }',
          '    cache 30',
          '}',
          '',
        ].join('\n'),
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'kube-dns', namespace: ns, labels },
      spec: {
        clusterIP: N.dnsServiceIp,
        selector: labels,
        ports: [
          { name: 'dns', port: 53, protocol: 'UDP' },
          { name: 'dns-tcp', port: 53, protocol: 'TCP' },
        ],
      },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'coredns', namespace: ns, labels },
      spec: {
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: 'coredns',
            dnsPolicy: 'Default',
            priorityClassName: 'system-cluster-critical',
            // Non-root without file capabilities: port 53 is made unprivileged inside the pod's own network namespace.
            securityContext: { sysctls: [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '0' }] },
            containers: [
              {
                name: 'coredns',
                image: IMAGE_REFS.coredns,
                imagePullPolicy: 'Never',
                args: ['-conf', '/etc/coredns/Corefile'],
                readinessProbe: { httpGet: { path: '/ready', port: 8181 }, periodSeconds: 2 },
                livenessProbe: { httpGet: { path: '/health', port: 8080 }, periodSeconds: 10 },
                securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
                volumeMounts: [{ name: 'config', mountPath: '/etc/coredns' }],
              },
            ],
            volumes: [{ name: 'config', configMap: { name: 'coredns' } }],
          },
        },
      },
    },
  ];
}

function localPathObjects(root: string): object[] {
  const helperPod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'helper-pod' },
    spec: {
      containers: [{ name: 'helper-pod', image: IMAGE_REFS.debian, imagePullPolicy: 'Never' }],
    },
  };
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: LOCAL_PATH_NAMESPACE } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'local-path-provisioner', namespace: LOCAL_PATH_NAMESPACE } },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'local-path-config', namespace: LOCAL_PATH_NAMESPACE },
      data: {
        'config.json': JSON.stringify({ nodePathMap: [{ node: 'DEFAULT_PATH_FOR_NON_LISTED_NODES', paths: [root] }] }),
        setup: '#!/bin/sh\nset -eu\nmkdir -m 0777 -p "$VOL_DIR"\n',
        teardown: '#!/bin/sh\nset -eu\nrm -rf "$VOL_DIR"\n',
        'helperPod.yaml': JSON.stringify(helperPod),
      },
    },
    {
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: { name: STORAGE_CLASS, annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
      provisioner: PROVISIONER,
      // The volume's directory is made on the node the pod is scheduled to.
      volumeBindingMode: 'WaitForFirstConsumer',
      reclaimPolicy: 'Delete',
      allowVolumeExpansion: false,
    },
  ];
}

/** Applies the add-ons and starts the provisioner; resolves once CoreDNS answers readiness. */
export async function applyAddons(ctx: AddonContext): Promise<void> {
  const { paths } = ctx;
  mkdirSync(paths.localPathRoot, { recursive: true });
  await ctx.kubectl(['apply', '--server-side', '-f', '-'], {
    input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [...corednsObjects(), ...localPathObjects(paths.localPathRoot)] }),
  });
  const configFile = join(paths.dir, 'local-path-config.json');
  writeFileSync(configFile, JSON.stringify({ nodePathMap: [{ node: 'DEFAULT_PATH_FOR_NON_LISTED_NODES', paths: [paths.localPathRoot] }] }));
  const provisioner = ctx.spawn('local-path-provisioner', binaries.localPathProvisioner(), [
    'start',
    `--kubeconfig=${ctx.adminKubeconfig}`,
    `--config=${configFile}`,
    `--namespace=${LOCAL_PATH_NAMESPACE}`,
    `--provisioner-name=${PROVISIONER}`,
    `--helper-image=${IMAGE_REFS.debian}`,
    '--service-account-name=local-path-provisioner',
  ]);
  await waitUntil(
    'CoreDNS ready',
    async () => {
      const res = await ctx.request('/apis/apps/v1/namespaces/kube-system/deployments/coredns');
      return (res.body?.status?.readyReplicas ?? 0) >= 1;
    },
    { timeoutMs: 120_000, process: provisioner },
  );
}
