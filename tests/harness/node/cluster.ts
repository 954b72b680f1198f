/**
 * The node tier: a real single-node Kubernetes whose pods really run. etcd, kube-apiserver,
 * kube-controller-manager, kube-scheduler, containerd (runc), the kubelet, kube-proxy (iptables),
 * CoreDNS as a pod and a local-path volume provisioner, all in the node's own network namespace
 * (see network.ts), every file under one temp dir, every process started and stopped by its pid.
 * On demand, kube-router's network-policy controller enforces NetworkPolicies (policy-agent.ts).
 */
import { existsSync, mkdirSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiRequester, type ApiRequest } from '../apiclient.ts';
import { etcdArgs } from '../etcd.ts';
import { binaries } from '../paths.ts';
import { spawnManaged, waitUntil, type ManagedProcess } from '../process.ts';
import { log, runOutput } from '../shell.ts';
import { makeTempDir } from '../tempdir.ts';
import { applyAddons } from './addons.ts';
import { cleanupNode, recordBaseline, type HostBaseline } from './cleanup.ts';
import {
  kubeconfig,
  NODE_NAME,
  nodePaths,
  PORTS,
  writeContainerdConfig,
  writeKubeletConfig,
  writeKubeProxyConfig,
  type NodePaths,
} from './config.ts';
import { ensureImages, IMAGE_REFS } from './images.ts';
import { cniConflist, createNodeNetwork, NODE_NETWORK as N } from './network.ts';
import { makePki, tokenFile, type Pki } from './pki.ts';
import { policyAgentArgs, removeAgentRules, waitAgentHooked } from './policy-agent.ts';

export interface NodeCluster {
  readonly tier: 'node';
  readonly server: string;
  readonly token: string;
  readonly kubeconfigPath: string;
  readonly kubeconfig: string;
  readonly caPem: string;
  readonly nodeName: string;
  readonly paths: NodePaths;
  readonly baseline: HostBaseline;
  request: ApiRequest;
  /**
   * Stops one of the node's daemons (SIGTERM, as systemd would), waits `downMs`, and starts it again
   * with the same command line: what an upgrade or a crash of containerd or the kubelet looks like.
   */
  restart(name: RestartableDaemon, downMs?: number): Promise<void>;
  /**
   * kube-router's network-policy controller: start() returns once its chains are hooked in; stop()
   * stops it and removes its chains and ipsets, so the bridge is back to enforcing nothing.
   */
  policyAgent: { start(): Promise<void>; stop(): Promise<void> };
  /** kubectl as the admin; rejects on a non-zero exit unless allowFailure. */
  kubectl(args: string[], opts?: { input?: string; allowFailure?: boolean }): Promise<string>;
  close(): Promise<void>;
}

export type RestartableDaemon = 'containerd' | 'kubelet' | 'kube-proxy';

const IDENTITIES = {
  admin: { user: 'hma-admin', groups: ['system:masters'] },
  kubelet: { user: `system:node:${NODE_NAME}`, groups: ['system:nodes'] },
  kubeProxy: { user: 'system:kube-proxy', groups: [] },
  controllerManager: { user: 'system:kube-controller-manager', groups: [] },
  scheduler: { user: 'system:kube-scheduler', groups: [] },
  // It watches pods, namespaces and policies, and reads its node.
  policyAgent: { user: 'system:kube-router', groups: ['system:masters'] },
};

function requireRoot(): void {
  if (process.getuid?.() !== 0)
    throw new Error('the node tier runs containerd, a kubelet and iptables in a network namespace: it needs root');
  const missing = [
    binaries.kubelet(),
    binaries.kubeProxy(),
    binaries.kubectl(),
    binaries.crictl(),
    binaries.localPathProvisioner(),
    binaries.kubeRouter(),
  ].filter((b) => !existsSync(b));
  if (missing.length) throw new Error(`node tier binaries missing (${missing.join(', ')}): run \`npm run testenv -- prepare\``);
}

/**
 * Measured: the node project's files take 2.9 GiB (unpacked images, volumes, logs); the kubelet stops
 * taking pods 512 MiB before the disk is full. Failing here names the cause in seconds; otherwise every
 * pod stays Pending under the DiskPressure taint and each test waits out its timeout.
 */
const NODE_TIER_MIN_FREE_BYTES = 4 * 1024 ** 3;

function requireFreeDisk(dir: string): void {
  const { bavail, bsize } = statfsSync(dir);
  const free = bavail * bsize;
  if (free < NODE_TIER_MIN_FREE_BYTES)
    throw new Error(
      `the node tier needs ${NODE_TIER_MIN_FREE_BYTES / 1024 ** 3} GiB free where it keeps its files (${dir}); ` +
        `${(free / 1024 ** 3).toFixed(1)} GiB are`,
    );
}

export async function startNodeCluster(): Promise<NodeCluster> {
  requireRoot();
  requireFreeDisk(tmpdir());
  const started = Date.now();
  const layout = await ensureImages();
  await cleanupNode(); // whatever a crashed run left
  const baseline = await recordBaseline();
  const dir = makeTempDir('node');
  const paths = nodePaths(dir);
  const processes: ManagedProcess[] = [];
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await cleanupNode({ processes, paths, baseline });
  };
  try {
    await createNodeNetwork();
    const pki = await makePki(dir, { nodeName: NODE_NAME, nodeIp: N.nodeIp, apiServiceIp: N.apiServiceIp });
    const tokens = tokenFile(join(dir, 'tokens.csv'), IDENTITIES);
    const server = `https://${N.nodeIp}:${PORTS.apiserver}`;
    const kubeconfigs = Object.fromEntries(
      Object.entries(IDENTITIES).map(([key, id]) => {
        const file = join(dir, `${key}.kubeconfig`);
        writeFileSync(file, kubeconfig(server, pki.caPem, id.user, tokens[key]!), { mode: 0o600 });
        return [key, file];
      }),
    ) as Record<keyof typeof IDENTITIES, string>;
    const launchers = new Map<string, () => ManagedProcess>();
    const spawn = (name: string, command: string, args: string[]) => {
      const launch = () => {
        const p = spawnManaged(name, command, args, { logDir: join(dir, 'logs'), netns: N.netns });
        processes.push(p);
        return p;
      };
      launchers.set(name, launch);
      return launch();
    };
    const running = (name: string) => processes.find((p) => p.name === name && p.child.exitCode === null);
    const stop = async (name: string) => {
      const p = running(name);
      if (!p) return;
      await p.stop('SIGTERM', 15_000);
      processes.splice(processes.indexOf(p), 1);
    };
    const restart: NodeCluster['restart'] = async (name, downMs = 0) => {
      await stop(name);
      await new Promise((r) => setTimeout(r, downMs));
      launchers.get(name)!();
    };
    const policyAgent: NodeCluster['policyAgent'] = {
      async start() {
        if (running('kube-router')) return;
        await waitAgentHooked(spawn('kube-router', binaries.kubeRouter(), policyAgentArgs(kubeconfigs.policyAgent)));
      },
      async stop() {
        await stop('kube-router');
        await removeAgentRules(); // also after a crash of the agent
      },
    };

    const containerd = startContainerd(paths, spawn);
    const etcd = spawn('etcd', binaries.etcd(), etcdArgs(join(dir, 'etcd'), PORTS.etcd, PORTS.etcdPeer));
    const apiserver = spawn('kube-apiserver', binaries.kubeApiserver(), apiserverArgs(dir, pki));
    const request = apiRequester(server, () => pki.caPem, tokens.admin!);
    const imported = waitUntil('containerd', async () => existsSync(paths.containerdSocket), {
      timeoutMs: 30_000,
      process: containerd,
    }).then(() => importImages(paths, layout));
    imported.catch(() => undefined); // awaited below; a failure must not go unhandled meanwhile
    // The API server's /readyz includes its etcd check.
    await waitUntil('kube-apiserver', async () => etcd.child.exitCode === null && (await request('/readyz')).status === 200, {
      timeoutMs: 90_000,
      process: apiserver,
    });

    spawn('kube-controller-manager', binaries.kubeControllerManager(), controllerManagerArgs(dir, pki, kubeconfigs.controllerManager));
    spawn('kube-scheduler', binaries.kubeScheduler(), [
      `--kubeconfig=${kubeconfigs.scheduler}`,
      `--authentication-kubeconfig=${kubeconfigs.scheduler}`,
      `--authorization-kubeconfig=${kubeconfigs.scheduler}`,
      '--leader-elect=false',
      '--bind-address=127.0.0.1',
    ]);
    const kubelet = startKubelet(paths, pki, kubeconfigs.kubelet, spawn);
    spawn('kube-proxy', binaries.kubeProxy(), [`--config=${writeKubeProxyConfig(paths, kubeconfigs.kubeProxy)}`, '--v=1']);
    await waitUntil(
      `node ${NODE_NAME} Ready`,
      async () => {
        const node = (await request(`/api/v1/nodes/${NODE_NAME}`)).body;
        return node?.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True') ?? false;
      },
      { timeoutMs: 120_000, process: kubelet },
    );

    await imported;
    const kubectl: NodeCluster['kubectl'] = (args, opts = {}) =>
      runOutput(binaries.kubectl(), args, { env: { KUBECONFIG: kubeconfigs.admin }, input: opts.input, allowFailure: opts.allowFailure });
    await applyAddons({ request, kubectl, paths, spawn, adminKubeconfig: kubeconfigs.admin });
    log(`node tier up in ${((Date.now() - started) / 1000).toFixed(1)} s (KUBECONFIG=${kubeconfigs.admin})`);
    return {
      tier: 'node',
      server,
      token: tokens.admin!,
      kubeconfigPath: kubeconfigs.admin,
      kubeconfig: kubeconfig(server, pki.caPem, IDENTITIES.admin.user, tokens.admin!),
      caPem: pki.caPem,
      nodeName: NODE_NAME,
      paths,
      baseline,
      request,
      kubectl,
      restart,
      policyAgent,
      close,
    };
  } catch (err) {
    const logs = processes.map((p) => `--- ${p.name}\n${p.logTail().slice(-1500)}`).join('\n');
    await close().catch((e) => log(`cleanup after a failed start: ${(e as Error).message}`));
    throw new Error(`${(err as Error).message}\n${logs}`, { cause: err });
  }
}

type Spawn = (name: string, command: string, args: string[]) => ManagedProcess;

function startContainerd(paths: NodePaths, spawn: Spawn): ManagedProcess {
  const netDir = join(paths.dir, 'containerd/net.d');
  mkdirSync(netDir, { recursive: true });
  writeFileSync(join(netDir, '10-hma-node.conflist'), cniConflist(join(paths.dir, 'cni-ipam')));
  return spawn('containerd', 'containerd', ['--config', writeContainerdConfig(paths, IMAGE_REFS.pause)]);
}

/**
 * Streams the OCI layout into containerd's k8s.io namespace, where the kubelet looks for images.
 * Unpacking waits until a pod first uses an image (the CRI plugin does it then), so unused images cost nothing.
 */
async function importImages(paths: NodePaths, layout: string): Promise<void> {
  const started = Date.now();
  const ctr = `ctr --address '${paths.containerdSocket}' --namespace k8s.io images import --no-unpack -`;
  await runOutput('bash', ['-o', 'pipefail', '-c', `tar -C '${layout}' -cf - . | ${ctr}`]);
  log(`imported the images into containerd in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

function apiserverArgs(dir: string, pki: Pki): string[] {
  return [
    `--etcd-servers=http://127.0.0.1:${PORTS.etcd}`,
    `--bind-address=${N.nodeIp}`,
    `--advertise-address=${N.nodeIp}`,
    `--secure-port=${PORTS.apiserver}`,
    `--tls-cert-file=${pki.apiserverCert}`,
    `--tls-private-key-file=${pki.apiserverKey}`,
    `--client-ca-file=${pki.caCert}`,
    `--kubelet-client-certificate=${pki.apiserverKubeletClientCert}`,
    `--kubelet-client-key=${pki.apiserverKubeletClientKey}`,
    `--kubelet-certificate-authority=${pki.caCert}`,
    // By name the API server would ask a resolver for the node; the node's IP needs none.
    '--kubelet-preferred-address-types=InternalIP',
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--service-account-key-file=${pki.serviceAccountPub}`,
    `--service-account-signing-key-file=${pki.serviceAccountKey}`,
    `--service-cluster-ip-range=${N.serviceCidr}`,
    '--authorization-mode=Node,RBAC',
    '--enable-admission-plugins=NodeRestriction',
    `--token-auth-file=${join(dir, 'tokens.csv')}`,
    '--allow-privileged=true',
    '--profiling=false',
  ];
}

function controllerManagerArgs(dir: string, pki: Pki, kubeconfigPath: string): string[] {
  return [
    `--kubeconfig=${kubeconfigPath}`,
    `--authentication-kubeconfig=${kubeconfigPath}`,
    `--authorization-kubeconfig=${kubeconfigPath}`,
    '--leader-elect=false',
    '--bind-address=127.0.0.1',
    `--service-account-private-key-file=${pki.serviceAccountKey}`,
    `--root-ca-file=${pki.caCert}`,
    '--use-service-account-credentials=true',
    `--service-cluster-ip-range=${N.serviceCidr}`,
    `--cluster-signing-cert-file=${pki.caCert}`,
    `--cluster-signing-key-file=${pki.caKey}`,
    '--concurrent-gc-syncs=5',
    '--concurrent-deployment-syncs=5',
  ];
}

/**
 * The kubelet runs in a private mount namespace where the three kernel sysctls it would rewrite
 * (vm.overcommit_memory, kernel.panic, kernel.panic_on_oops) read as the values it wants, so the
 * machine's own stay untouched. Its root dir is a shared mount, so the volumes it mounts there
 * propagate back to containerd's (the machine's) mount namespace.
 */
function startKubelet(paths: NodePaths, pki: Pki, kubeconfigPath: string, spawn: Spawn): ManagedProcess {
  const fake = join(paths.dir, 'fake-sysctl');
  mkdirSync(fake, { recursive: true });
  const wanted = { 'vm/overcommit_memory': '1', 'kernel/panic': '10', 'kernel/panic_on_oops': '1' };
  for (const [key, value] of Object.entries(wanted)) writeFileSync(join(fake, key.replace('/', '.')), `${value}\n`);
  mkdirSync(paths.kubeletRoot, { recursive: true });
  const config = writeKubeletConfig(paths, pki);
  const mounts = Object.keys(wanted)
    .map((key) => `mount --bind -o ro '${join(fake, key.replace('/', '.'))}' /proc/sys/${key}`)
    .join(' && ');
  const kubeletCmd = [
    binaries.kubelet(),
    `--config=${config}`,
    `--kubeconfig=${kubeconfigPath}`,
    `--root-dir=${paths.kubeletRoot}`,
    `--hostname-override=${NODE_NAME}`,
    `--node-ip=${N.nodeIp}`,
    '--v=1',
  ]
    .map((a) => `'${a}'`)
    .join(' ');
  const script = [
    `{ mountpoint -q '${paths.kubeletRoot}' || { mount --bind '${paths.kubeletRoot}' '${paths.kubeletRoot}' && mount --make-shared '${paths.kubeletRoot}'; }; }`,
    `exec unshare --mount --propagation unchanged sh -c "${mounts} && exec ${kubeletCmd.replace(/"/g, '\\"')}"`,
  ].join(' && ');
  return spawn('kubelet', 'sh', ['-c', script]);
}
