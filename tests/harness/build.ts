/**
 * Builds the Go-based test components (Kubernetes control plane, kwok, helm, helm-docs, MinIO, Prometheus
 * and promtool, the kind/Tilt checkers, and the node tier's kubelet, kube-proxy, kubectl, crictl, CoreDNS, a volume
 * provisioner, mc and kube-router) once into the cache, and installs the Debian packages that are missing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, binaries, binDirs, cacheRoot, goCacheEnv } from './paths.ts';
import {
  COREDNS_VERSION,
  CRICTL_VERSION,
  HELM_DOCS_VERSION,
  HELM_VERSION,
  KUBERNETES_VERSION,
  KUBE_ROUTER_VERSION,
  KWOK_VERSION,
  LOCAL_PATH_PROVISIONER_VERSION,
  MC_MODULE_VERSION,
  MINIO_MODULE_VERSION,
  MINIO_RELEASE,
  PROMETHEUS_BUILD_TAGS,
  PROMETHEUS_MODULE_VERSION,
  PROMETHEUS_RELEASE,
} from './versions.ts';
import { findPostgresBinDir } from './postgres.ts';
import { log, run } from './shell.ts';

export class PrerequisiteError extends Error {}

function goVersion(): [number, number] | null {
  const res = spawnSync('go', ['env', 'GOVERSION'], { encoding: 'utf8' });
  const match = /go(\d+)\.(\d+)/.exec(res.stdout ?? '');
  return match ? [Number(match[1]), Number(match[2])] : null;
}

function requireGo(): void {
  const version = goVersion();
  if (!version) throw new PrerequisiteError('Go is missing: install Go 1.24 or newer (https://go.dev/doc/install) and put `go` on PATH.');
  const [major, minor] = version;
  if (major < 1 || (major === 1 && minor < 24))
    throw new PrerequisiteError(`Go ${major}.${minor} is too old: the test binaries need Go 1.24 or newer.`);
}

const commandWorks = (cmd: string, args = ['--version']) => spawnSync(cmd, args).status === 0;

/**
 * Debian packages the tiers need, each with how to tell it is there. The node tier's: a container
 * runtime (containerd, runc), the CNI plugins, buildah and mmdebstrap for images without a daemon or
 * registry, iptables for kube-proxy and the network guards, ipset for the NetworkPolicy agent
 * (kube-router), and a C compiler for the pause binary.
 */
const APT_PACKAGES: Array<{ name: string; present: () => boolean }> = [
  { name: 'postgresql', present: () => findPostgresBinDir() !== null },
  { name: 'redis-server', present: () => commandWorks('redis-server') },
  { name: 'containerd', present: () => commandWorks('containerd') },
  { name: 'runc', present: () => commandWorks('runc') },
  { name: 'containernetworking-plugins', present: () => existsSync('/usr/lib/cni/bridge') && existsSync('/usr/lib/cni/host-local') },
  { name: 'buildah', present: () => commandWorks('buildah') },
  { name: 'mmdebstrap', present: () => commandWorks('mmdebstrap') },
  { name: 'iptables', present: () => commandWorks('iptables') },
  { name: 'ipset', present: () => commandWorks('ipset', ['version']) },
  { name: 'gcc', present: () => commandWorks('cc') },
  { name: 'libc6-dev', present: () => existsSync('/usr/lib/x86_64-linux-gnu/libc.a') || existsSync('/usr/lib/aarch64-linux-gnu/libc.a') },
];

function aptMissing(): string[] {
  return APT_PACKAGES.filter((p) => !p.present()).map((p) => p.name);
}

/** The packages come from Debian; install the missing ones when we may (root, or sudo without a password). */
export async function ensureAptPackages(): Promise<void> {
  const missing = aptMissing();
  if (missing.length === 0) {
    log(`apt packages present: ${APT_PACKAGES.map((p) => p.name).join(', ')}`);
    return;
  }
  const isRoot = process.getuid?.() === 0;
  const sudoOk = !isRoot && spawnSync('sudo', ['-n', 'true']).status === 0;
  if (spawnSync('apt-get', ['--version']).status !== 0 || (!isRoot && !sudoOk)) {
    throw new PrerequisiteError(`missing packages: ${missing.join(', ')}. Install them with: sudo apt-get install -y ${missing.join(' ')}`);
  }
  const prefix = isRoot ? [] : ['sudo', '-n'];
  const [cmd, ...pre] = prefix.length ? prefix : ['apt-get'];
  const aptArgs = (args: string[]) => (prefix.length ? [...pre, 'apt-get', ...args] : args);
  log(`apt: installing ${missing.join(', ')}`);
  await run('apt-get update', cmd!, aptArgs(['update', '-q']));
  await run(`apt-get install ${missing.join(' ')}`, cmd!, aptArgs(['install', '-y', '-q', '--no-install-recommends', ...missing]), {
    env: { DEBIAN_FRONTEND: 'noninteractive' },
  });
  const still = aptMissing();
  if (still.length) throw new PrerequisiteError(`apt-get reported success but these are still missing: ${still.join(', ')}`);
}

/** The ids `ensureBinaries(only)` accepts. */
export type Component =
  | 'kubernetes'
  | 'kwok'
  | 'helm'
  | 'helm-docs'
  | 'minio'
  | 'prometheus'
  | 'kindcheck'
  | 'kubernetes-node'
  | 'crictl'
  | 'coredns'
  | 'local-path-provisioner'
  | 'mc'
  | 'kube-router';

interface GoBuild {
  id: Component;
  name: string;
  dir: string;
  outputs: string[];
  /** Built only once this one is done, to reuse its compiled packages. */
  after?: Component;
  build(tmp: string): Promise<void>;
}

function k8sLdflags(): string {
  const [, minor] = KUBERNETES_VERSION.slice(1).split('.');
  const pkg = 'k8s.io/component-base/version';
  return [
    '-s -w',
    `-X ${pkg}.gitVersion=${KUBERNETES_VERSION}`,
    `-X ${pkg}.gitMajor=1`,
    `-X ${pkg}.gitMinor=${minor}`,
    `-X ${pkg}.gitTreeState=clean`,
  ].join(' ');
}

function helmLdflags(): string {
  const [, minor] = KUBERNETES_VERSION.slice(1).split('.');
  return [
    '-s -w',
    `-X helm.sh/helm/v3/internal/version.version=${HELM_VERSION}`,
    '-X helm.sh/helm/v3/internal/version.gitTreeState=clean',
    `-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1`,
    `-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=${minor}`,
    `-X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1`,
    `-X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=${minor}`,
  ].join(' ');
}

/** Prometheus tags v3.X.Y are Go module versions v0.3XX.Y: `--version` prints the release. */
function prometheusLdflags(): string {
  return ['-s -w', `-X github.com/prometheus/common/version.Version=${PROMETHEUS_RELEASE}`].join(' ');
}

/** A go command with our own build and module caches (goCacheEnv). */
function runGo(step: string, args: string[], cwd?: string, env: NodeJS.ProcessEnv = {}): Promise<void> {
  return run(step, 'go', args, { cwd, env: { ...goCacheEnv(), ...env } });
}

/** One `go build` of Kubernetes commands from tools/k8s, which pins every module, with the version stamped in. */
function goBuildK8s(step: string, tmp: string, packages: string[]): Promise<void> {
  return runGo(step, ['build', '-trimpath', '-ldflags', k8sLdflags(), '-o', tmp + '/', ...packages], join(REPO_ROOT, 'tools/k8s'));
}

/** `go install module@version` into the build's temp dir: for modules without replace directives. */
function goInstall(step: string, moduleAtVersion: string, ldflags = '-s -w') {
  return (tmp: string) => runGo(step, ['install', '-trimpath', '-ldflags', ldflags, moduleAtVersion], undefined, { GOBIN: tmp });
}

const goBuilds = (): GoBuild[] => [
  {
    id: 'kubernetes',
    name: `kubernetes ${KUBERNETES_VERSION} (etcd, kube-apiserver, kube-controller-manager, kube-scheduler)`,
    dir: binDirs.kubernetes(),
    outputs: [binaries.etcd(), binaries.kubeApiserver(), binaries.kubeControllerManager(), binaries.kubeScheduler()],
    // One invocation so the four binaries share the compile cache; tools/k8s pins every module.
    async build(tmp) {
      await goBuildK8s('go build kubernetes', tmp, [
        'k8s.io/kubernetes/cmd/kube-apiserver',
        'k8s.io/kubernetes/cmd/kube-controller-manager',
        'k8s.io/kubernetes/cmd/kube-scheduler',
        'go.etcd.io/etcd/server/v3',
      ]);
      renameSync(join(tmp, 'server'), join(tmp, 'etcd')); // go names etcd's main package after its directory
    },
  },
  {
    id: 'kwok',
    name: `kwok ${KWOK_VERSION}`,
    dir: binDirs.kwok(),
    outputs: [binaries.kwok()],
    build: goInstall('go install kwok', `sigs.k8s.io/kwok/cmd/kwok@${KWOK_VERSION}`),
  },
  {
    id: 'helm',
    name: `helm ${HELM_VERSION}`,
    dir: binDirs.helm(),
    outputs: [binaries.helm()],
    build: goInstall('go install helm', `helm.sh/helm/v3/cmd/helm@${HELM_VERSION}`, helmLdflags()),
  },
  {
    id: 'helm-docs',
    name: `helm-docs ${HELM_DOCS_VERSION}`,
    dir: binDirs.helmDocs(),
    outputs: [binaries.helmDocs()],
    build: goInstall(
      'go install helm-docs',
      `github.com/norwoodj/helm-docs/cmd/helm-docs@${HELM_DOCS_VERSION}`,
      `-s -w -X main.version=${HELM_DOCS_VERSION.slice(1)}`,
    ),
  },
  {
    id: 'minio',
    name: `minio ${MINIO_RELEASE}`,
    dir: binDirs.minio(),
    outputs: [binaries.minio()],
    build: goInstall('go install minio', `github.com/minio/minio@${MINIO_MODULE_VERSION}`),
  },
  {
    id: 'prometheus',
    name: `prometheus and promtool (prometheus ${PROMETHEUS_MODULE_VERSION}, tags ${PROMETHEUS_BUILD_TAGS})`,
    dir: binDirs.prometheus(),
    outputs: [binaries.prometheus(), binaries.promtool()],
    // Prometheus' go.mod has a replace directive, so `go install …@version` refuses it; tools/promtool
    // requires it like a dependency and repeats the directive. One invocation, so both commands share
    // the compile; the tags leave out every service discovery but Kubernetes' (and the cloud SDKs).
    // No `builtinassets` tag: the web UI is not embedded (the API and /metrics do not need it).
    async build(tmp) {
      const gomod = readFileSync(join(REPO_ROOT, 'tools/promtool/go.mod'), 'utf8');
      if (!gomod.includes(`github.com/prometheus/prometheus ${PROMETHEUS_MODULE_VERSION}`))
        throw new Error(`tools/promtool/go.mod does not require prometheus ${PROMETHEUS_MODULE_VERSION} (versions.ts)`);
      await runGo(
        'go build prometheus promtool',
        [
          'build',
          '-trimpath',
          '-tags',
          PROMETHEUS_BUILD_TAGS,
          '-ldflags',
          prometheusLdflags(),
          '-o',
          tmp + '/',
          'github.com/prometheus/prometheus/cmd/prometheus',
          'github.com/prometheus/prometheus/cmd/promtool',
        ],
        join(REPO_ROOT, 'tools/promtool'),
      );
    },
  },
  {
    id: 'kindcheck',
    name: 'kindcheck and the Tiltfile checker (tools/kindcheck)',
    dir: binDirs.kindcheck(),
    outputs: [binaries.kindcheck(), binaries.tiltfileCheck()],
    build: (tmp) =>
      runGo(
        'go build kindcheck',
        ['build', '-trimpath', '-ldflags', '-s -w', '-o', tmp + '/', '.', './tiltfile'],
        join(REPO_ROOT, 'tools/kindcheck'),
      ),
  },
  // The node tier: a real kubelet and what it needs around it.
  {
    id: 'kubernetes-node',
    name: `kubernetes ${KUBERNETES_VERSION} node (kubelet, kube-proxy, kubectl)`,
    dir: binDirs.kubernetesNode(),
    outputs: [binaries.kubelet(), binaries.kubeProxy(), binaries.kubectl()],
    after: 'kubernetes',
    build: (tmp) =>
      goBuildK8s('go build kubelet', tmp, [
        'k8s.io/kubernetes/cmd/kubelet',
        'k8s.io/kubernetes/cmd/kube-proxy',
        'k8s.io/kubernetes/cmd/kubectl',
      ]),
  },
  {
    id: 'crictl',
    name: `crictl ${CRICTL_VERSION}`,
    dir: binDirs.crictl(),
    outputs: [binaries.crictl()],
    build: goInstall('go install crictl', `sigs.k8s.io/cri-tools/cmd/crictl@${CRICTL_VERSION}`),
  },
  {
    id: 'coredns',
    name: `CoreDNS ${COREDNS_VERSION}`,
    dir: binDirs.coredns(),
    outputs: [binaries.coredns()],
    build: goInstall('go install coredns', `github.com/coredns/coredns@${COREDNS_VERSION}`),
  },
  {
    id: 'local-path-provisioner',
    name: `local-path-provisioner ${LOCAL_PATH_PROVISIONER_VERSION}`,
    dir: binDirs.localPathProvisioner(),
    outputs: [binaries.localPathProvisioner()],
    build: goInstall('go install local-path-provisioner', `github.com/rancher/local-path-provisioner@${LOCAL_PATH_PROVISIONER_VERSION}`),
  },
  {
    id: 'mc',
    name: `MinIO client (mc ${MC_MODULE_VERSION})`,
    dir: binDirs.mc(),
    outputs: [binaries.mc()],
    build: goInstall('go install mc', `github.com/minio/mc@${MC_MODULE_VERSION}`),
  },
  {
    id: 'kube-router',
    name: `kube-router ${KUBE_ROUTER_VERSION}`,
    dir: binDirs.kubeRouter(),
    outputs: [binaries.kubeRouter()],
    build: goInstall(
      'go install kube-router',
      `github.com/cloudnativelabs/kube-router/v2/cmd/kube-router@${KUBE_ROUTER_VERSION}`,
      `-s -w -X github.com/cloudnativelabs/kube-router/v2/pkg/version.Version=${KUBE_ROUTER_VERSION}`,
    ),
  },
];

const isBuilt = (b: GoBuild) => b.outputs.every((o) => existsSync(o));

/**
 * Builds whatever is not cached yet (only the `only` components, when given). Each build lands in a
 * temp dir first, so a failed build caches nothing.
 */
export async function ensureBinaries(only?: Component[]): Promise<void> {
  const pending = goBuilds().filter((b) => (!only || only.includes(b.id)) && !isBuilt(b));
  if (pending.length === 0) {
    log(`Go-built binaries cached in ${cacheRoot()}`);
    return;
  }
  requireGo();
  mkdirSync(cacheRoot(), { recursive: true });
  await runInTwoWorkers(pending);
}

/**
 * Drops our Go build and module caches once every binary is built (about 14 GiB after a cold prepare):
 * they would only speed up a rebuild after a version bump, and a new machine needs the disk.
 */
export async function pruneGoCaches(): Promise<void> {
  const goDir = join(cacheRoot(), 'go');
  if (!existsSync(goDir) || !goBuilds().every(isBuilt)) return;
  await runGo('go clean', ['clean', '-cache', '-modcache']);
  rmSync(goDir, { recursive: true, force: true });
  log(`dropped the Go build and module caches in ${goDir}: every binary is built`);
}

/**
 * Two builds at a time, from one queue in `goBuilds()` order (longest first): each build is parallel
 * while it compiles but single-threaded while it downloads modules and links, and a second build
 * fills those gaps on a 2-core machine. A build with `after` waits until that one is done, so it finds
 * their shared packages in the build cache.
 */
async function runInTwoWorkers(pending: GoBuild[]): Promise<void> {
  const queue = [...pending];
  const pendingIds = new Set(pending.map((b) => b.id));
  const done = new Set<Component>(
    goBuilds()
      .map((b) => b.id)
      .filter((id) => !pendingIds.has(id)),
  );
  const finished: Array<() => void> = [];
  const nextReady = () => queue.findIndex((b) => !b.after || done.has(b.after));
  const worker = async () => {
    while (queue.length) {
      const i = nextReady();
      if (i < 0) {
        await new Promise<void>((resolve) => finished.push(resolve)); // only builds waiting on the other worker's are left
        continue;
      }
      const [b] = queue.splice(i, 1);
      try {
        await buildOne(b!);
        done.add(b!.id);
      } catch (err) {
        queue.length = 0; // one failure fails the run: start nothing more
        throw err;
      } finally {
        finished.splice(0).forEach((wake) => wake());
      }
    }
  };
  await Promise.all([worker(), worker()]);
}

async function buildOne(b: GoBuild): Promise<void> {
  const started = Date.now();
  log(`building ${b.name} ...`);
  const tmp = mkdtempSync(join(cacheRoot(), '.build-'));
  try {
    await b.build(tmp);
    rmSync(b.dir, { recursive: true, force: true });
    renameSync(tmp, b.dir);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw new Error(`building ${b.name}: ${(err as Error).message}`, { cause: err });
  }
  log(`built ${b.name} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}
