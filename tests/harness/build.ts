/**
 * Builds the Go-based test components (Kubernetes control plane, kwok, helm, MinIO, promtool, the
 * kind/Tilt checkers) once into the cache, and installs Debian's PostgreSQL and Redis when they are missing.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, binaries, binDirs, cacheRoot } from './paths.ts';
import {
  HELM_VERSION,
  KUBERNETES_VERSION,
  KWOK_VERSION,
  MINIO_MODULE_VERSION,
  MINIO_RELEASE,
  PROMETHEUS_MODULE_VERSION,
} from './versions.ts';
import { findPostgresBinDir } from './postgres.ts';

export class PrerequisiteError extends Error {}

function log(line: string): void {
  process.stdout.write(`[testenv] ${line}\n`);
}

function run(step: string, cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-8000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (err) => reject(new Error(`${step}: could not run ${cmd}: ${err.message}`)));
    child.on('exit', (code) => {
      if (code === 0) resolvePromise();
      else reject(new Error(`${step} failed (exit ${code}):\n${output.trim()}`));
    });
  });
}

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

const APT_PACKAGES = ['postgresql', 'redis-server'];

function aptMissing(): string[] {
  const missing: string[] = [];
  if (!findPostgresBinDir()) missing.push('postgresql');
  if (spawnSync('redis-server', ['--version']).status !== 0) missing.push('redis-server');
  return missing;
}

/** PostgreSQL and Redis come from Debian; install them when we may (root, or sudo without a password). */
export async function ensureAptPackages(): Promise<void> {
  const missing = aptMissing();
  if (missing.length === 0) {
    log(`apt packages present: ${APT_PACKAGES.join(', ')}`);
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
export type Component = 'kubernetes' | 'kwok' | 'helm' | 'minio' | 'promtool' | 'kindcheck';

interface GoBuild {
  id: Component;
  name: string;
  dir: string;
  outputs: string[];
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

/** Prometheus tags v3.X.Y are Go module versions v0.3XX.Y: promtool --version prints the release. */
function promtoolLdflags(): string {
  const m = /^v0\.(\d+)\.(\d+)$/.exec(PROMETHEUS_MODULE_VERSION);
  const release = m ? `${Math.floor(Number(m[1]) / 100)}.${Number(m[1]) % 100}.${m[2]}` : PROMETHEUS_MODULE_VERSION;
  return ['-s -w', `-X github.com/prometheus/common/version.Version=${release}`].join(' ');
}

const goBuilds = (): GoBuild[] => [
  {
    id: 'kubernetes',
    name: `kubernetes ${KUBERNETES_VERSION} (etcd, kube-apiserver, kube-controller-manager, kube-scheduler)`,
    dir: binDirs.kubernetes(),
    outputs: [binaries.etcd(), binaries.kubeApiserver(), binaries.kubeControllerManager(), binaries.kubeScheduler()],
    // One invocation so the four binaries share the compile cache; tools/k8s pins every module.
    async build(tmp) {
      await run(
        'go build kubernetes',
        'go',
        [
          'build',
          '-trimpath',
          '-ldflags',
          k8sLdflags(),
          '-o',
          tmp + '/',
          'k8s.io/kubernetes/cmd/kube-apiserver',
          'k8s.io/kubernetes/cmd/kube-controller-manager',
          'k8s.io/kubernetes/cmd/kube-scheduler',
          'go.etcd.io/etcd/server/v3',
        ],
        { cwd: join(REPO_ROOT, 'tools/k8s') },
      );
      renameSync(join(tmp, 'server'), join(tmp, 'etcd')); // go names etcd's main package after its directory
    },
  },
  {
    id: 'kwok',
    name: `kwok ${KWOK_VERSION}`,
    dir: binDirs.kwok(),
    outputs: [binaries.kwok()],
    build: (tmp) =>
      run('go install kwok', 'go', ['install', '-trimpath', '-ldflags', '-s -w', `sigs.k8s.io/kwok/cmd/kwok@${KWOK_VERSION}`], {
        env: { GOBIN: tmp },
      }),
  },
  {
    id: 'helm',
    name: `helm ${HELM_VERSION}`,
    dir: binDirs.helm(),
    outputs: [binaries.helm()],
    build: (tmp) =>
      run('go install helm', 'go', ['install', '-trimpath', '-ldflags', helmLdflags(), `helm.sh/helm/v3/cmd/helm@${HELM_VERSION}`], {
        env: { GOBIN: tmp },
      }),
  },
  {
    id: 'minio',
    name: `minio ${MINIO_RELEASE}`,
    dir: binDirs.minio(),
    outputs: [binaries.minio()],
    build: (tmp) =>
      run('go install minio', 'go', ['install', '-trimpath', '-ldflags', '-s -w', `github.com/minio/minio@${MINIO_MODULE_VERSION}`], {
        env: { GOBIN: tmp },
      }),
  },
  {
    id: 'promtool',
    name: `promtool (prometheus ${PROMETHEUS_MODULE_VERSION})`,
    dir: binDirs.promtool(),
    outputs: [binaries.promtool()],
    // Prometheus' go.mod has a replace directive, so `go install …@version` refuses it; tools/promtool
    // requires it like a dependency and repeats the directive.
    async build(tmp) {
      const gomod = readFileSync(join(REPO_ROOT, 'tools/promtool/go.mod'), 'utf8');
      if (!gomod.includes(`github.com/prometheus/prometheus ${PROMETHEUS_MODULE_VERSION}`))
        throw new Error(`tools/promtool/go.mod does not require prometheus ${PROMETHEUS_MODULE_VERSION} (versions.ts)`);
      await run(
        'go build promtool',
        'go',
        ['build', '-trimpath', '-ldflags', promtoolLdflags(), '-o', join(tmp, 'promtool'), 'github.com/prometheus/prometheus/cmd/promtool'],
        { cwd: join(REPO_ROOT, 'tools/promtool') },
      );
    },
  },
  {
    id: 'kindcheck',
    name: 'kindcheck and the Tiltfile checker (tools/kindcheck)',
    dir: binDirs.kindcheck(),
    outputs: [binaries.kindcheck(), binaries.tiltfileCheck()],
    build: (tmp) =>
      run('go build kindcheck', 'go', ['build', '-trimpath', '-ldflags', '-s -w', '-o', tmp + '/', '.', './tiltfile'], {
        cwd: join(REPO_ROOT, 'tools/kindcheck'),
      }),
  },
];

/**
 * Builds whatever is not cached yet (only the `only` components, when given). Each build lands in a
 * temp dir first, so a failed build caches nothing.
 */
export async function ensureBinaries(only?: Component[]): Promise<void> {
  const pending = goBuilds().filter((b) => (!only || only.includes(b.id)) && !b.outputs.every((o) => existsSync(o)));
  if (pending.length === 0) {
    log(`Go-built binaries cached in ${cacheRoot()}`);
    return;
  }
  requireGo();
  mkdirSync(cacheRoot(), { recursive: true });
  for (const b of pending) {
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
}
