/**
 * Database migrations: one Job per platform version, `<cr>-migrate-<version>` (with a hash of
 * `spec.images.contentBridge` when that is set, so a new image migrates first), running the Content
 * Bridge image. No ttlSecondsAfterFinished: the reconciler reads the finished Job to set
 * MigrationsComplete, and prunes the Jobs of older versions itself. A Job's template is immutable,
 * so the reconciler never patches it: it creates the Job once PostgreSQL is ready, replaces it while
 * unfinished if its spec changed, and recreates a Failed one with backoff (see jobs.ts). The
 * migrate CLI itself waits for the database (services/kit/deps/migrate-cli.ts).
 */
import type { V1Job } from '@kubernetes/client-node';
import { MIGRATION_COMMAND, UIDS } from './constants.ts';
import type { BuildInput } from './context.ts';
import { LINT_EXEMPTIONS } from './lint-exemptions.ts';
import { databaseEnv, mergeEnv } from './env.ts';
import { createOnlyJob } from './jobs.ts';
import { childMeta, podTemplateMeta } from './labels.ts';
import { containerBase, containerSecurityContext, podBase, podSecurityContext, tmpMount, tmpVolume, toResources } from './pod.ts';
import type { Child } from './types.ts';

export const MIGRATION_BACKOFF_LIMIT = 3;
export const MIGRATION_DEADLINE_SECONDS = 1800;

/** The migration Job of the current version, or undefined while suspended. */
export function migrationJob(input: BuildInput): Child<V1Job> | undefined {
  const { cr, spec, names, images } = input;
  if (spec.suspend) return undefined;
  const ours = [
    { name: 'NODE_ENV', value: 'production' },
    { name: 'SERVICE_VERSION', value: spec.version },
    { name: 'OTEL_SERVICE_NAME', value: 'content-bridge-migrations' },
    ...databaseEnv(input),
  ];
  return createOnlyJob({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: childMeta(cr, names.migrationJob(spec.version, spec.images.contentBridge), 'migrations', {
      version: spec.version,
      annotations: LINT_EXEMPTIONS.keptJob,
    }),
    spec: {
      backoffLimit: MIGRATION_BACKOFF_LIMIT,
      activeDeadlineSeconds: MIGRATION_DEADLINE_SECONDS,
      template: {
        metadata: podTemplateMeta(cr, 'migrations', spec.version),
        spec: {
          ...podBase(input, spec.contentBridge.scheduling),
          restartPolicy: 'Never',
          securityContext: podSecurityContext(UIDS.api),
          containers: [
            {
              ...containerBase(input, 'migrate', images.contentBridge),
              command: [...MIGRATION_COMMAND],
              // The Content Bridge's own env (a custom CA, PGSSLMODE…) applies to its migrations too.
              env: mergeEnv(ours, spec.contentBridge.env),
              resources: toResources(spec.contentBridge.resources),
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
