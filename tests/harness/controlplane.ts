/**
 * A real Kubernetes control plane, built from k8s.io/kubernetes (see build.ts), in three tiers:
 * - `apiserver`: etcd + kube-apiserver, like controller-runtime's envtest. No garbage collector.
 * - `cluster`: adds kube-controller-manager, kube-scheduler and kwok with fake nodes, so pods
 *   become Running and Ready without a container runtime.
 * - `node`: one real node, where pods really run from our own images (node/cluster.ts).
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { apiRequester, type ApiRequest } from './apiclient.ts';
import { etcdArgs } from './etcd.ts';
import { startNodeCluster } from './node/cluster.ts';
import { binaries, REPO_ROOT } from './paths.ts';
import { freePort } from './ports.ts';
import { spawnManaged, waitUntil, type ManagedProcess } from './process.ts';
import { makeTempDir } from './tempdir.ts';

export type Tier = 'apiserver' | 'cluster' | 'node';

export interface ControlPlaneOptions {
  tier: Tier;
  /** Fake kwok nodes to register in the cluster tier (default 2). */
  nodes?: number;
}

export interface ControlPlane {
  readonly tier: Tier;
  readonly server: string;
  /** Bearer token of a `system:masters` user. */
  readonly token: string;
  readonly kubeconfigPath: string;
  readonly kubeconfig: string;
  /** PEM of the CA that signed the API server's serving cert. */
  readonly caPem: string;
  /** Calls the API server as the admin; for tests and for readiness polling. */
  request: ApiRequest;
  close(): Promise<void>;
}

const SERVICE_CIDR = '10.96.0.0/16';
const POD_CIDR = '10.244.0.0/16'; // must not overlap the service range

function requireBinaries(tier: Tier): void {
  const needed = [binaries.etcd(), binaries.kubeApiserver()];
  if (tier === 'cluster') needed.push(binaries.kubeControllerManager(), binaries.kubeScheduler(), binaries.kwok());
  const missing = needed.filter((b) => !existsSync(b));
  if (missing.length) throw new Error(`control-plane binaries missing (${missing.join(', ')}): run \`npm run testenv -- prepare\``);
}

function kubeconfigYaml(server: string, caPem: string, token: string): string {
  // JSON is valid YAML, and every kubeconfig reader accepts it.
  return JSON.stringify(
    {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'hma-test', cluster: { server, 'certificate-authority-data': Buffer.from(caPem).toString('base64') } }],
      users: [{ name: 'hma-admin', user: { token } }],
      contexts: [{ name: 'hma-test', context: { cluster: 'hma-test', user: 'hma-admin', namespace: 'default' } }],
      'current-context': 'hma-test',
    },
    null,
    2,
  );
}

export async function startControlPlane(options: ControlPlaneOptions): Promise<ControlPlane> {
  const { tier } = options;
  if (tier === 'node') return startNodeCluster();
  requireBinaries(tier);
  const dir = makeTempDir(`k8s-${tier}`);
  const processes: ManagedProcess[] = [];
  const closeAll = async () => {
    // Reverse order: the API server's clients first, etcd last.
    for (const p of processes.reverse()) await p.stop('SIGTERM', 10_000);
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    const [etcdPort, peerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
    const etcd = spawnManaged('etcd', binaries.etcd(), etcdArgs(join(dir, 'etcd'), etcdPort, peerPort), { logDir: dir });
    processes.push(etcd);
    await waitUntil('etcd', async () => (await fetch(`http://127.0.0.1:${etcdPort}/health`)).ok, { timeoutMs: 30_000, process: etcd });

    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(join(dir, 'sa.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(join(dir, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
    const token = randomBytes(24).toString('hex');
    writeFileSync(join(dir, 'tokens.csv'), `${token},hma-admin,hma-admin,"system:masters"\n`);
    const certDir = join(dir, 'certs');

    const apiserver = spawnManaged(
      'kube-apiserver',
      binaries.kubeApiserver(),
      [
        `--etcd-servers=http://127.0.0.1:${etcdPort}`,
        `--secure-port=${apiPort}`,
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        `--cert-dir=${certDir}`,
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        `--service-account-key-file=${join(dir, 'sa.pub')}`,
        `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
        '--authorization-mode=RBAC',
        `--token-auth-file=${join(dir, 'tokens.csv')}`,
        `--service-cluster-ip-range=${SERVICE_CIDR}`,
        '--allow-privileged=true',
        // Without a controller-manager nothing creates the `default` ServiceAccount that admission waits for.
        ...(tier === 'apiserver' ? ['--disable-admission-plugins=ServiceAccount'] : []),
      ],
      { logDir: dir },
    );
    processes.push(apiserver);

    const server = `https://127.0.0.1:${apiPort}`;
    let caPem = '';
    const request = apiRequester(server, () => caPem, token);
    await waitUntil(
      'kube-apiserver',
      async () => {
        const crt = join(certDir, 'apiserver.crt');
        if (!existsSync(crt)) return false;
        caPem ||= readFileSync(crt, 'utf8');
        return (await request('/readyz')).status === 200;
      },
      { timeoutMs: 90_000, process: apiserver },
    );

    const kubeconfig = kubeconfigYaml(server, caPem, token);
    const kubeconfigPath = join(dir, 'kubeconfig');
    writeFileSync(kubeconfigPath, kubeconfig, { mode: 0o600 });

    if (tier === 'cluster') {
      await startClusterComponents({ dir, kubeconfigPath, certDir, processes, request, nodes: options.nodes ?? 2 });
    }

    return { tier, server, token, kubeconfigPath, kubeconfig, caPem, request, close: closeAll };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

interface ClusterContext {
  dir: string;
  kubeconfigPath: string;
  certDir: string;
  processes: ManagedProcess[];
  request: ControlPlane['request'];
  nodes: number;
}

async function startClusterComponents(ctx: ClusterContext): Promise<void> {
  const { dir, kubeconfigPath, processes } = ctx;
  const kc = `--kubeconfig=${kubeconfigPath}`;
  const delegated = [`--authentication-kubeconfig=${kubeconfigPath}`, `--authorization-kubeconfig=${kubeconfigPath}`];
  const cm = spawnManaged(
    'kube-controller-manager',
    binaries.kubeControllerManager(),
    [
      kc,
      ...delegated,
      '--leader-elect=false',
      '--bind-address=127.0.0.1',
      `--secure-port=${await freePort()}`,
      `--service-account-private-key-file=${join(dir, 'sa.key')}`,
      `--root-ca-file=${join(ctx.certDir, 'apiserver.crt')}`,
      '--use-service-account-credentials=false',
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      // Tests want fast convergence: GC and endpoint controllers otherwise batch for seconds.
      '--concurrent-gc-syncs=5',
      '--concurrent-deployment-syncs=5',
    ],
    { logDir: dir },
  );
  processes.push(cm);
  const scheduler = spawnManaged(
    'kube-scheduler',
    binaries.kubeScheduler(),
    [kc, ...delegated, '--leader-elect=false', '--bind-address=127.0.0.1', `--secure-port=${await freePort()}`],
    { logDir: dir },
  );
  processes.push(scheduler);
  const kwok = spawnManaged(
    'kwok',
    binaries.kwok(),
    [
      kc,
      '--manage-all-nodes=false',
      '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
      '--disregard-status-with-annotation-selector=kwok.x-k8s.io/status=custom',
      `--cidr=${POD_CIDR}`,
      '--node-ip=10.250.0.1',
      '-c',
      join(REPO_ROOT, 'tests/harness/kwok-stages.yaml'),
    ],
    { logDir: dir },
  );
  processes.push(kwok);

  for (let i = 0; i < ctx.nodes; i++) {
    const res = await ctx.request('/api/v1/nodes', { method: 'POST', body: fakeNode(`kwok-node-${i}`) });
    if (res.status !== 201) throw new Error(`creating kwok node: ${res.status} ${JSON.stringify(res.body)}`);
  }
  await waitUntil(
    'kwok nodes Ready',
    async () => {
      const res = await ctx.request('/api/v1/nodes');
      const items = (res.body?.items ?? []) as any[];
      return (
        items.length === ctx.nodes && items.every((n) => n.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True'))
      );
    },
    { timeoutMs: 60_000, process: kwok },
  );
  // Namespaces get their `default` ServiceAccount from the controller-manager; pods wait on it.
  await waitUntil(
    'default ServiceAccount',
    async () => (await ctx.request('/api/v1/namespaces/default/serviceaccounts/default')).status === 200,
    {
      timeoutMs: 60_000,
      process: cm,
    },
  );
}

/** A Node that kwok keeps Ready (it manages nodes with its annotation); `labels` and `taints` as on a node pool. */
export function fakeNode(name: string, pool: { labels?: Record<string, string>; taints?: object[] } = {}): object {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
      labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', type: 'kwok', ...pool.labels },
    },
    spec: pool.taints ? { taints: pool.taints } : {},
    status: {
      allocatable: { cpu: '32', memory: '256Gi', pods: '110' },
      capacity: { cpu: '32', memory: '256Gi', pods: '110' },
      nodeInfo: { kubeletVersion: 'fake', operatingSystem: 'linux', architecture: 'amd64' },
    },
  };
}
