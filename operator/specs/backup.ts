/**
 * Scheduled PostgreSQL backups (spec.postgres.backup.enabled), managed or external: a CronJob whose
 * pod runs pg_dump from the PostgreSQL image into an emptyDir, then the Content Bridge image's
 * `backup/cli.ts upload`, which stores the dump in the platform's object storage under
 * backups/postgres/ and deletes backups past the retention. A failed dump uploads nothing.
 */
import type { V1CronJob } from '@kubernetes/client-node';
import { UIDS } from './constants.ts';
import type { BuildInput } from './context.ts';
import { databaseEnv, objectStoreEnv } from './env.ts';
import { childMeta, podTemplateMeta } from './labels.ts';
import { containerBase, containerSecurityContext, podBase, podSecurityContext, tmpMount, tmpVolume } from './pod.ts';
import type { Child } from './types.ts';

export const BACKUP_FILE = '/backup/huntmaster.dump';
export const BACKUP_COMMAND: readonly string[] = ['node', 'services/content-bridge/backup/cli.ts', 'upload', BACKUP_FILE];

export function postgresBackupCronJob(input: BuildInput): Child<V1CronJob> | undefined {
  const { cr, spec, names, images } = input;
  const { backup } = spec.postgres;
  if (!backup.enabled) return undefined;
  const scheduling = spec.postgres.mode === 'managed' ? spec.postgres.scheduling : spec.scheduling;
  const backupMount = () => ({ name: 'backup', mountPath: '/backup' });
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: childMeta(cr, names.postgresBackup, 'postgresBackup', { version: spec.version }),
    spec: {
      schedule: backup.schedule,
      timeZone: 'Etc/UTC',
      // One at a time; a run missed by more than an hour (operator or control plane down) is skipped.
      concurrencyPolicy: 'Forbid',
      startingDeadlineSeconds: 3600,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 3,
      suspend: spec.suspend,
      jobTemplate: {
        spec: {
          backoffLimit: 2,
          activeDeadlineSeconds: 3 * 3600,
          template: {
            metadata: podTemplateMeta(cr, 'postgresBackup', spec.version),
            spec: {
              ...podBase(input, scheduling),
              restartPolicy: 'Never',
              securityContext: podSecurityContext(UIDS.api),
              initContainers: [
                {
                  ...containerBase(input, 'dump', images.postgres),
                  command: ['pg_dump'],
                  // The kubelet expands $(DATABASE_URL) from the Secret-backed variable.
                  args: ['--format=custom', `--file=${BACKUP_FILE}`, '--dbname=$(DATABASE_URL)'],
                  env: databaseEnv(input),
                  resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } },
                  securityContext: containerSecurityContext(),
                  volumeMounts: [backupMount(), tmpMount()],
                },
              ],
              containers: [
                {
                  ...containerBase(input, 'upload', images.contentBridge),
                  command: [...BACKUP_COMMAND],
                  env: [
                    { name: 'NODE_ENV', value: 'production' },
                    ...objectStoreEnv(input),
                    { name: 'BACKUP_RETENTION_DAYS', value: String(backup.retentionDays) },
                  ],
                  resources: { requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '256Mi' } },
                  securityContext: containerSecurityContext(),
                  volumeMounts: [backupMount(), tmpMount()],
                },
              ],
              volumes: [tmpVolume(), { name: 'backup', emptyDir: {} }],
            },
          },
        },
      },
    },
  };
}
