/**
 * Reconciles one HuntMasterPlatform: level-triggered, it reads the CR and its children from the
 * informer caches, computes the desired state (operator/specs, pure), writes only what differs,
 * prunes what is no longer wanted, and reports status through the /status subresource.
 *
 * The reconcile reads as its phases, each in its own module: finalizer, generated Secrets, apply
 * (with the per-object rules), prune, observe, status. Every thrown error is retried with backoff
 * (controller.ts); what retrying cannot fix (an invalid spec) is reported in the status and not retried.
 */
import { isNotFound } from '../kube/errors.ts';
import { resourceFor } from '../kube/resources.ts';
import {
  applyDefaults,
  desiredChildren,
  observeJob,
  observeState,
  observeWorkload,
  platformNames,
  SpecError,
  type Child,
  type DesiredState,
  type HuntMasterPlatform,
  type JobObject,
  type KubeObject,
  type PlatformNames,
  type PlatformStatus,
  type ResolvedSpec,
} from '../specs/index.ts';
import type { ReconcileResult } from '../controller/controller.ts';
import { applyChildren, type ApplyOutcome } from './apply.ts';
import type { ClusterCache, Phase, ReconcilerDeps } from './deps.ts';
import { ensureFinalizer, finalize, FINALIZER } from './finalize.ts';
import { prune } from './prune.ts';
import { ensureGeneratedSecrets, readReferencedSecrets, type ReferencedSecrets } from './secrets.ts';
import { writeStatus } from './status-writer.ts';

export { FINALIZER };
export type { ClusterCache, ReconcilerDeps };

/** The phase helpers over the deps. */
function phaseOf(d: ReconcilerDeps): Phase {
  return {
    ...d,
    wrote: (verb, o) => d.onWrite?.(verb, o.kind ?? '?', o.metadata.name),
    clock: () => d.now?.() ?? new Date(),
    async live(kind, namespace, name, apiVersion) {
      if (d.cache.has(kind)) return d.cache.get(kind, namespace, name);
      try {
        return await d.client.get(resourceFor(apiVersion, kind), namespace, name);
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },
  };
}

/**
 * Resolves the spec before anything is written. A spec the operator refuses (applyDefaults throws every
 * SpecError, beyond what the CRD catches) is reported in the status, and undefined means stop here
 * (retrying cannot help until it changes).
 */
async function resolveSpec(p: Phase, cr: HuntMasterPlatform): Promise<ResolvedSpec | undefined> {
  try {
    return applyDefaults(cr.spec);
  } catch (err) {
    if (!(err instanceof SpecError)) throw err;
    await writeStatus(p, cr, { errors: [`invalid spec: ${err.message}`] });
    return undefined;
  }
}

/** Builds the desired children (the spec passed resolveSpec, so building cannot refuse it). */
async function desiredState(p: Phase, cr: HuntMasterPlatform, secrets: ReferencedSecrets): Promise<DesiredState> {
  return desiredChildren(cr, { configHash: secrets.hash, capabilities: await p.capabilities(), dashboards: p.dashboards });
}

async function probeObjectStorage(p: Phase, cr: HuntMasterPlatform): Promise<string[]> {
  const endpoint = cr.spec?.objectStorage?.mode === 'external' ? cr.spec.objectStorage.external?.endpoint : undefined;
  if (!endpoint) return [];
  return p.probeObjectStorage(endpoint).then(
    () => [],
    (err: Error) => [`object storage: ${err.message}`],
  );
}

/** Applies the children and prunes the rest, unless a referenced Secret is missing (nothing is written then). */
async function applyAndPrune(
  p: Phase,
  platform: { cr: HuntMasterPlatform; spec: ResolvedSpec; names: PlatformNames },
  desired: DesiredState,
  migration: { job: Child | undefined; live: JobObject | undefined },
  secrets: ReferencedSecrets,
): Promise<ApplyOutcome> {
  if (secrets.missing.length) return { errors: [], retryAt: new Map() };
  const { cr, spec, names } = platform;
  const postgres = p.cache.get('StatefulSet', cr.metadata.namespace, names.postgres);
  const outcome = await applyChildren(p, {
    cr,
    desired: desired.objects,
    migration: migration.job,
    migrated: !migration.job || observeJob(migration.live)?.succeeded === true,
    postgresReady: spec.postgres.mode !== 'managed' || (observeWorkload(postgres)?.readyReplicas ?? 0) >= 1,
    apiDeployments: new Set([names.contentBridge, names.mlServer]),
  });
  await prune(p, cr, desired.objects, new Set(desired.generatedSecretNames));
  return outcome;
}

/** When to look again: errors retry with backoff; a Failed Job's backoff end; 30 s while not settled. */
function nextLook(p: Phase, status: PlatformStatus, secrets: ReferencedSecrets, errors: string[], retryAt: Map<string, Date>) {
  if (secrets.missing.length) {
    throw new Error(`missing secrets: ${secrets.missing.map((m) => (m.key ? `${m.name}/${m.key}` : m.name)).join(', ')}`);
  }
  if (errors.length) throw new Error(errors.join('; '));
  const nextRetryMs = Math.min(...[...retryAt.values()].map((at) => Math.max(1000, at.getTime() - p.clock().getTime())));
  if (status.phase === 'Ready' || status.phase === 'Suspended') return retryAt.size ? { requeueAfterMs: nextRetryMs } : undefined;
  return { requeueAfterMs: Math.min(30_000, nextRetryMs) };
}

export function createReconciler(d: ReconcilerDeps) {
  const p = phaseOf(d);

  return async function reconcile(key: string): Promise<ReconcileResult | void> {
    const [namespace, name] = key.split('/') as [string, string];
    const found = p.cache.get('HuntMasterPlatform', namespace, name);
    if (!found) {
      p.onReadiness(namespace, name, undefined);
      p.onBackup?.(namespace, name, undefined);
      return;
    }
    if (found.metadata.deletionTimestamp) return finalize(p, found);

    const cr = await ensureFinalizer(p, found);
    const spec = await resolveSpec(p, cr);
    if (!spec) return;
    const fresh = await ensureGeneratedSecrets(p, cr);
    const secrets = await readReferencedSecrets(p, cr, fresh);
    const probeErrors = await probeObjectStorage(p, cr);
    const desired = await desiredState(p, cr, secrets);

    const names = platformNames(cr);
    const migrationName = names.migrationJob(spec.version, spec.images.contentBridge);
    const migrationJob = desired.objects.find((o) => o.kind === 'Job' && o.metadata.name === migrationName);
    const liveMigration: JobObject | undefined = migrationJob && (await p.live('Job', namespace, migrationName, 'batch/v1'));
    const applied = await applyAndPrune(p, { cr, spec, names }, desired, { job: migrationJob, live: liveMigration }, secrets);

    const errors = [...probeErrors, ...applied.errors];
    const observed = observeState(liveChildren(p.cache, namespace), {
      names,
      desired: desired.objects,
      migrationJob: liveMigration,
      retryAt: applied.retryAt,
      missingSecrets: secrets.missing,
      errors,
      skipped: desired.skipped,
    });
    const status = await writeStatus(p, cr, observed);
    const backupSince = status.backup
      ? (status.backup.lastSuccessfulTime ?? p.cache.get('CronJob', namespace, names.postgresBackup)?.metadata.creationTimestamp)
      : undefined;
    p.onBackup?.(namespace, name, backupSince ? Date.parse(backupSince) / 1000 : undefined);
    return nextLook(p, status, secrets, errors, applied.retryAt);
  };
}

/** The cached children of one namespace, by kind and name. */
function liveChildren(cache: ClusterCache, namespace: string) {
  return {
    deployment: (name: string) => cache.get('Deployment', namespace, name),
    statefulSet: (name: string) => cache.get('StatefulSet', namespace, name),
    job: (name: string) => cache.get('Job', namespace, name),
    cronJob: (name: string) => cache.get('CronJob', namespace, name),
  };
}

export type { KubeObject };
