/**
 * Configuration files of the node's daemons. Each setting that differs from upstream's default says
 * why: most come from what this kind of machine lacks (CAP_SYS_RESOURCE, cgroup v2, a registry).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BLOCKED_REGISTRIES } from './containers-config.ts';
import { NODE_NETWORK as N } from './network.ts';
import type { Pki } from './pki.ts';

export const NODE_NAME = 'hma-node';
export const PORTS = { etcd: 2379, etcdPeer: 2380, apiserver: 6443, kubelet: 10250, kubeletHealthz: 10248 } as const;

export interface NodePaths {
  dir: string;
  containerdSocket: string;
  kubeletRoot: string;
  localPathRoot: string;
}

export function nodePaths(dir: string): NodePaths {
  return {
    dir,
    containerdSocket: join(dir, 'containerd/containerd.sock'),
    kubeletRoot: join(dir, 'kubelet'),
    localPathRoot: join(dir, 'local-path'),
  };
}

/** containerd 1.6 with its own root, state and socket, the CRI plugin on runc, and every registry sent to 127.0.0.1:1. */
export function writeContainerdConfig(paths: NodePaths, sandboxImage: string): string {
  const base = join(paths.dir, 'containerd');
  const certsDir = join(base, 'certs.d');
  for (const registry of BLOCKED_REGISTRIES) {
    mkdirSync(join(certsDir, registry), { recursive: true });
    // containerd 1.6 needs a [host] table: without one it logs "invalid host tree" and falls back to the real registry.
    writeFileSync(
      join(certsDir, registry, 'hosts.toml'),
      ['server = "http://127.0.0.1:1"', '[host."http://127.0.0.1:1"]', '  capabilities = ["pull", "resolve"]', ''].join('\n'),
    );
  }
  const file = join(base, 'config.toml');
  writeFileSync(
    file,
    `version = 2
root = "${base}/root"
state = "${base}/state"
# Without CAP_SYS_RESOURCE the daemon cannot lower its own oom_score_adj.
oom_score = 0

[grpc]
  address = "${paths.containerdSocket}"
[ttrpc]
  address = "${paths.containerdSocket}.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""

[plugins]
  [plugins."io.containerd.internal.v1.opt"]
    path = "${base}/opt"
  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = "${sandboxImage}"
    restrict_oom_score_adj = true
    stream_server_address = "127.0.0.1"
    stream_server_port = "0"
    enable_cdi = false
    [plugins."io.containerd.grpc.v1.cri".containerd]
      snapshotter = "overlayfs"
      default_runtime_name = "runc"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"
        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
          SystemdCgroup = false
    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = "/usr/lib/cni"
      conf_dir = "${base}/net.d"
      max_conf_num = 1
    [plugins."io.containerd.grpc.v1.cri".registry]
      config_path = "${certsDir}"
`,
  );
  return file;
}

export function kubeconfig(server: string, caPem: string, user: string, token: string): string {
  // JSON is valid YAML, and every kubeconfig reader accepts it.
  return JSON.stringify(
    {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'hma-node', cluster: { server, 'certificate-authority-data': Buffer.from(caPem).toString('base64') } }],
      users: [{ name: user, user: { token } }],
      contexts: [{ name: 'hma-node', context: { cluster: 'hma-node', user, namespace: 'default' } }],
      'current-context': 'hma-node',
    },
    null,
    2,
  );
}

/** The kubelet's hard eviction signals: what a test node must keep free before it stops taking pods. */
const KUBELET_EVICTION_HARD = {
  'memory.available': '100Mi',
  'nodefs.available': '512Mi',
  'imagefs.available': '512Mi',
  'nodefs.inodesFree': '10000',
};

export function writeKubeletConfig(paths: NodePaths, pki: Pki): string {
  const file = join(paths.dir, 'kubelet-config.json');
  const resolvConf = join(paths.dir, 'resolv.conf');
  // Pods resolve only cluster names: no upstream resolver is handed to them.
  writeFileSync(resolvConf, '');
  const config = {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    // The node end of the veth pair: the kubelet never listens on the machine's own interfaces.
    address: N.nodeIp,
    port: PORTS.kubelet,
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    healthzPort: PORTS.kubeletHealthz,
    // containerd 1.6 has no RuntimeConfig CRI call, so the kubelet cannot ask; the host uses cgroup v1.
    cgroupDriver: 'cgroupfs',
    failCgroupV1: false,
    failSwapOn: false,
    containerRuntimeEndpoint: `unix://${paths.containerdSocket}`,
    imageServiceEndpoint: `unix://${paths.containerdSocket}`,
    authentication: { anonymous: { enabled: false }, webhook: { enabled: true }, x509: { clientCAFile: pki.caCert } },
    authorization: { mode: 'Webhook' },
    tlsCertFile: pki.kubeletCert,
    tlsPrivateKeyFile: pki.kubeletKey,
    clusterDomain: 'cluster.local',
    clusterDNS: [N.dnsServiceIp],
    resolvConf,
    podLogsDir: join(paths.dir, 'pod-logs'),
    // The host's hard NOFILE limit, and no CAP_SYS_RESOURCE to lower oom_score_adj.
    maxOpenFiles: 20000,
    oomScoreAdj: 0,
    serializeImagePulls: false,
    // Images cannot be pulled again, so they are never garbage-collected.
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    // Absolute floors, not shares: on a big, nearly full disk (CI's: 2% of 252 GB is 5 GB) a share put the
    // node under DiskPressure, its taint kept every pod unscheduled, and each node test timed out.
    evictionHard: KUBELET_EVICTION_HARD,
    shutdownGracePeriod: '0s',
    rotateCertificates: false,
    serverTLSBootstrap: false,
  };
  writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

export function writeKubeProxyConfig(paths: NodePaths, kubeconfigPath: string): string {
  const file = join(paths.dir, 'kube-proxy-config.json');
  const config = {
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    mode: 'iptables',
    clientConnection: { kubeconfig: kubeconfigPath },
    hostnameOverride: NODE_NAME,
    healthzBindAddress: '127.0.0.1:10256',
    metricsBindAddress: '127.0.0.1:10249',
    clusterCIDR: N.podCidr,
    nodePortAddresses: [`${N.nodeIp}/32`],
    // localhost NodePorts would need route_localnet; 0 leaves the conntrack sysctls alone.
    iptables: { localhostNodePorts: false, masqueradeAll: false },
    conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' },
  };
  writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}
