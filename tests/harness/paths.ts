import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  COREDNS_VERSION,
  CRICTL_VERSION,
  ETCD_VERSION,
  HELM_DOCS_VERSION,
  HELM_VERSION,
  KUBERNETES_VERSION,
  KUBE_ROUTER_VERSION,
  KWOK_VERSION,
  LOCAL_PATH_PROVISIONER_VERSION,
  MC_MODULE_VERSION,
  MINIO_RELEASE,
  PROMETHEUS_BUILD_TAGS,
  PROMETHEUS_MODULE_VERSION,
} from './versions.ts';

export const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/**
 * Go's build and module caches for our builds, under the cache root rather than the user's, so that
 * prepare may drop them (about 14 GiB) once every binary is built: a new CI machine needs that disk
 * for the node tier's pods.
 */
export const goCacheEnv = () => ({ GOCACHE: join(cacheRoot(), 'go', 'build'), GOMODCACHE: join(cacheRoot(), 'go', 'mod') });

/** Built binaries live outside the repository so every clone on the machine shares them. */
export function cacheRoot(): string {
  if (process.env.HMA_TESTENV_CACHE) return resolve(process.env.HMA_TESTENV_CACHE);
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'huntmaster-testenv');
}

/**
 * A tool built from this repository's own Go source has no version: its cache key is a hash of its
 * go.mod, go.sum and .go files (and `extra`, e.g. build tags), so an edit rebuilds it.
 */
export function sourceHash(dir: string, ...extra: string[]): string {
  const hash = createHash('sha256');
  for (const e of extra) hash.update(`${e}\0`);
  const root = join(REPO_ROOT, dir);
  const files = (readdirSync(root, { recursive: true }) as string[]).filter((f) => /(^|\/)(go\.mod|go\.sum)$|\.go$/.test(f)).sort();
  for (const f of files) hash.update(`${f}\0`).update(readFileSync(join(root, f)));
  return hash.digest('hex').slice(0, 12);
}

/** One directory per component and version: a version bump never reuses a stale binary. */
export const binDirs = {
  kubernetes: () => join(cacheRoot(), `kubernetes-${KUBERNETES_VERSION}-etcd-${ETCD_VERSION}`),
  kwok: () => join(cacheRoot(), `kwok-${KWOK_VERSION}`),
  helm: () => join(cacheRoot(), `helm-${HELM_VERSION}-k8s-${KUBERNETES_VERSION}`),
  helmDocs: () => join(cacheRoot(), `helm-docs-${HELM_DOCS_VERSION}`),
  minio: () => join(cacheRoot(), `minio-${MINIO_RELEASE}`),
  /** prometheus and promtool, from one `go build` in tools/promtool. */
  prometheus: () => join(cacheRoot(), `prometheus-${PROMETHEUS_MODULE_VERSION}-${sourceHash('tools/promtool', PROMETHEUS_BUILD_TAGS)}`),
  kindcheck: () => join(cacheRoot(), `kindcheck-${sourceHash('tools/kindcheck')}`),
  /** kubelet, kube-proxy and kubectl: the node tier's half of Kubernetes, from the same tools/k8s module. */
  kubernetesNode: () => join(cacheRoot(), `kubernetes-node-${KUBERNETES_VERSION}`),
  crictl: () => join(cacheRoot(), `crictl-${CRICTL_VERSION}`),
  coredns: () => join(cacheRoot(), `coredns-${COREDNS_VERSION}`),
  localPathProvisioner: () => join(cacheRoot(), `local-path-provisioner-${LOCAL_PATH_PROVISIONER_VERSION}`),
  mc: () => join(cacheRoot(), `mc-${MC_MODULE_VERSION}`),
  kubeRouter: () => join(cacheRoot(), `kube-router-${KUBE_ROUTER_VERSION}`),
};

export const binaries = {
  etcd: () => join(binDirs.kubernetes(), 'etcd'),
  kubeApiserver: () => join(binDirs.kubernetes(), 'kube-apiserver'),
  kubeControllerManager: () => join(binDirs.kubernetes(), 'kube-controller-manager'),
  kubeScheduler: () => join(binDirs.kubernetes(), 'kube-scheduler'),
  kwok: () => join(binDirs.kwok(), 'kwok'),
  helm: () => join(binDirs.helm(), 'helm'),
  /** Generates charts/huntmaster/README.md from values.yaml (scripts/chart-docs.ts). */
  helmDocs: () => join(binDirs.helmDocs(), 'helm-docs'),
  minio: () => join(binDirs.minio(), 'minio'),
  prometheus: () => join(binDirs.prometheus(), 'prometheus'),
  promtool: () => join(binDirs.prometheus(), 'promtool'),
  /** Validates kind-config.yaml with kind's v1alpha4 types (tools/kindcheck). */
  kindcheck: () => join(binDirs.kindcheck(), 'kindcheck'),
  /** Executes the Tiltfile with Tilt's Starlark interpreter against recording stubs (tools/kindcheck/tiltfile). */
  tiltfileCheck: () => join(binDirs.kindcheck(), 'tiltfile'),
  kubelet: () => join(binDirs.kubernetesNode(), 'kubelet'),
  kubeProxy: () => join(binDirs.kubernetesNode(), 'kube-proxy'),
  kubectl: () => join(binDirs.kubernetesNode(), 'kubectl'),
  crictl: () => join(binDirs.crictl(), 'crictl'),
  coredns: () => join(binDirs.coredns(), 'coredns'),
  localPathProvisioner: () => join(binDirs.localPathProvisioner(), 'local-path-provisioner'),
  mc: () => join(binDirs.mc(), 'mc'),
  /** Its network-policy controller only: the node tier's NetworkPolicy enforcement (tests/harness/node/policy-agent.ts). */
  kubeRouter: () => join(binDirs.kubeRouter(), 'kube-router'),
};

/** Where running components record their pids, so a later run can reap what a crashed run left. */
export const runDir = () => join(cacheRoot(), 'run');
