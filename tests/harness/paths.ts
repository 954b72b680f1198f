import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ETCD_VERSION, HELM_VERSION, KUBERNETES_VERSION, KWOK_VERSION, MINIO_RELEASE } from './versions.ts';

export const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** Built binaries live outside the repository so every clone on the machine shares them. */
export function cacheRoot(): string {
  if (process.env.HMA_TESTENV_CACHE) return resolve(process.env.HMA_TESTENV_CACHE);
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'huntmaster-testenv');
}

/** One directory per component and version: a version bump never reuses a stale binary. */
export const binDirs = {
  kubernetes: () => join(cacheRoot(), `kubernetes-${KUBERNETES_VERSION}-etcd-${ETCD_VERSION}`),
  kwok: () => join(cacheRoot(), `kwok-${KWOK_VERSION}`),
  helm: () => join(cacheRoot(), `helm-${HELM_VERSION}-k8s-${KUBERNETES_VERSION}`),
  minio: () => join(cacheRoot(), `minio-${MINIO_RELEASE}`),
};

export const binaries = {
  etcd: () => join(binDirs.kubernetes(), 'etcd'),
  kubeApiserver: () => join(binDirs.kubernetes(), 'kube-apiserver'),
  kubeControllerManager: () => join(binDirs.kubernetes(), 'kube-controller-manager'),
  kubeScheduler: () => join(binDirs.kubernetes(), 'kube-scheduler'),
  kwok: () => join(binDirs.kwok(), 'kwok'),
  helm: () => join(binDirs.helm(), 'helm'),
  minio: () => join(binDirs.minio(), 'minio'),
};

/** Where running components record their pids, so a later run can reap what a crashed run left. */
export const runDir = () => join(cacheRoot(), 'run');
