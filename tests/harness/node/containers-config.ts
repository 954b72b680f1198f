/**
 * buildah's configuration for the node tier: its own storage under the cache, runc (crun refuses
 * hybrid cgroup hosts), rlimits this host can grant (it lacks CAP_SYS_RESOURCE), and every image
 * registry blocked, so a build can only use images made here.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheRoot } from '../paths.ts';

const etcDir = () => join(cacheRoot(), 'node-images', 'etc');

/** Registries a Containerfile or a pod spec could name; every one is blocked or sent to 127.0.0.1:1. */
export const BLOCKED_REGISTRIES = [
  'docker.io',
  'registry-1.docker.io',
  'registry.k8s.io',
  'k8s.gcr.io',
  'quay.io',
  'ghcr.io',
  'gcr.io',
  'registry.fedoraproject.org',
  'mcr.microsoft.com',
  'public.ecr.aws',
];

export function containersConfig(): void {
  const etc = etcDir();
  const storage = join(cacheRoot(), 'node-images', 'storage');
  mkdirSync(etc, { recursive: true });
  writeFileSync(
    join(etc, 'storage.conf'),
    ['[storage]', 'driver = "overlay"', `graphroot = "${storage}/graph"`, `runroot = "${storage}/run"`, ''].join('\n'),
  );
  writeFileSync(
    join(etc, 'containers.conf'),
    [
      '[containers]',
      'netns = "none"',
      'default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]',
      '[engine]',
      'cgroup_manager = "cgroupfs"',
      'events_logger = "none"',
      'runtime = "runc"',
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(etc, 'registries.conf'),
    [
      '# Nothing is ever pulled: short names resolve to docker.io, which is blocked like every other registry.',
      'unqualified-search-registries = ["docker.io"]',
      'short-name-mode = "permissive"',
      ...BLOCKED_REGISTRIES.flatMap((r) => ['[[registry]]', `location = "${r}"`, 'blocked = true']),
      '',
    ].join('\n'),
  );
}

/** The environment that points buildah at this configuration and nothing else. */
export function buildahEnv(): NodeJS.ProcessEnv {
  const etc = etcDir();
  return {
    CONTAINERS_STORAGE_CONF: join(etc, 'storage.conf'),
    CONTAINERS_CONF: join(etc, 'containers.conf'),
    CONTAINERS_REGISTRIES_CONF: join(etc, 'registries.conf'),
    REGISTRIES_CONFIG_PATH: join(etc, 'registries.conf'),
    BUILDAH_ISOLATION: 'oci',
  };
}
