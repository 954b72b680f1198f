/**
 * Managed object storage: a one-replica MinIO StatefulSet (S3 API on 9000, console on 9001) and a
 * Job that creates the bucket with `mc mb --ignore-existing`.
 *
 * Why a Job rather than an init container or the server's own startup: MinIO has no declarative
 * bucket setting, an init container would run before the server is up, and a Job's status tells
 * the reconciler (ObjectStorageReady) whether the bucket exists. The Job's name carries a hash of
 * the bucket name, so renaming the bucket creates a new Job; the Job retries until MinIO answers, and
 * the reconciler replaces it when its spec changes or it failed (see jobs.ts).
 */
import type { V1ContainerPort, V1Job } from '@kubernetes/client-node';
import { PORTS, UIDS } from './constants.ts';
import type { BuildInput } from './context.ts';
import { LINT_EXEMPTIONS } from './lint-exemptions.ts';
import { secretEnv } from './env.ts';
import { createOnlyJob } from './jobs.ts';
import { childMeta, podTemplateMeta } from './labels.ts';
import { containerBase, containerSecurityContext, httpProbe, podBase, podSecurityContext, tmpMount, tmpVolume } from './pod.ts';
import { SECRET_KEYS } from './secrets.ts';
import { dataServiceServices, dataServiceStatefulSet, dataServiceVersion, type DataServiceParams } from './stateful.ts';
import type { Child } from './types.ts';

const PORTS_MINIO: V1ContainerPort[] = [
  { name: 'api', containerPort: PORTS.minioApi, protocol: 'TCP' },
  { name: 'console', containerPort: PORTS.minioConsole, protocol: 'TCP' },
];

export function minioBucketJob(input: BuildInput): Child<V1Job> | undefined {
  const { cr, spec, names, images } = input;
  const os = spec.objectStorage;
  if (os.mode !== 'managed' || spec.suspend) return undefined;
  const secret = names.secrets.minio;
  const K = SECRET_KEYS.objectStorage;
  const version = dataServiceVersion(images.minioClient);
  return createOnlyJob({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: childMeta(cr, names.bucketJob(os.bucket), 'bucketInit', { version, annotations: LINT_EXEMPTIONS.keptJob }),
    spec: {
      backoffLimit: 10,
      template: {
        metadata: podTemplateMeta(cr, 'bucketInit', version),
        spec: {
          ...podBase(input, os.scheduling),
          restartPolicy: 'OnFailure',
          securityContext: podSecurityContext(UIDS.minio),
          containers: [
            {
              ...containerBase(input, 'mc', images.minioClient),
              command: ['mc'],
              // --config-dir is a global flag: after the subcommand mc ignores it and tries to create
              // $HOME/.mc, which is /.mc on the read-only root filesystem.
              args: ['--config-dir', '/tmp/.mc', 'mb', '--ignore-existing', `hma/${os.bucket}`],
              env: [
                secretEnv('MINIO_ACCESS_KEY', { name: secret, key: K.accessKey }),
                secretEnv('MINIO_SECRET_KEY', { name: secret, key: K.secretKey }),
                // mc reads an alias from MC_HOST_<alias>; the kubelet expands $(VAR) from the Secret-backed variables.
                {
                  name: 'MC_HOST_hma',
                  value: `http://$(MINIO_ACCESS_KEY):$(MINIO_SECRET_KEY)@${names.minio}.${cr.metadata.namespace}.svc:${PORTS.minioApi}`,
                },
              ],
              resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '128Mi' } },
              securityContext: containerSecurityContext(),
              volumeMounts: [tmpMount()],
            },
          ],
          volumes: [tmpVolume()],
        },
      },
    },
  });
}

export function minioObjects(input: BuildInput): Child[] {
  const { spec, names, images } = input;
  const os = spec.objectStorage;
  if (os.mode !== 'managed') return [];
  const secret = names.secrets.minio;
  const K = SECRET_KEYS.objectStorage;
  const params: DataServiceParams = {
    key: 'minio',
    name: names.minio,
    headlessName: names.minioHeadless,
    image: images.minio,
    settings: os,
    uid: UIDS.minio,
    gid: UIDS.minio,
    dataMountPath: '/data',
    container: {
      name: 'minio',
      // The image's entrypoint prepends `minio`. The certs dir moves to /tmp: the root filesystem is read-only.
      args: [
        'server',
        '/data',
        '--address',
        `:${PORTS.minioApi}`,
        '--console-address',
        `:${PORTS.minioConsole}`,
        '--certs-dir',
        '/tmp/certs',
      ],
      ports: PORTS_MINIO,
      env: [
        secretEnv('MINIO_ROOT_USER', { name: secret, key: K.accessKey }),
        secretEnv('MINIO_ROOT_PASSWORD', { name: secret, key: K.secretKey }),
      ],
      startupProbe: httpProbe('/minio/health/live', 'api', { periodSeconds: 5, failureThreshold: 60 }),
      readinessProbe: httpProbe('/minio/health/ready', 'api', { periodSeconds: 5 }),
      livenessProbe: httpProbe('/minio/health/live', 'api'),
    },
  };
  const job = minioBucketJob(input);
  return [dataServiceStatefulSet(input, params), ...dataServiceServices(input, params, PORTS_MINIO), ...(job ? [job] : [])];
}
