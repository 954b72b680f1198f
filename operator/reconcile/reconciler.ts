/**
 * Reconciles one HuntMasterPlatform: level-triggered, it reads the CR and its children from the
 * informer caches, computes the desired state (operator/specs, pure), writes only what differs,
 * prunes what is no longer wanted, and reports status through the /status subresource.
 */
import type { Logger } from 'pino';
import type { KubeClient, KubeObject } from '../kube/client.ts';
import { isConflict, isNotFound, KubeApiError } from '../kube/errors.ts';
import { RESOURCES, resourceFor } from '../kube/resources.ts';
import {
  ANNOTATIONS,
  applyDefaults,
  CHILD_KINDS,
  computeStatus,
  configHash,
  desiredChildren,
  desiredVolumes,
  generatedSecretNames,
  generatedSecrets,
  observeDeployment,
  observeCronJob,
  observeJob,
  observeStatefulSet,
  ownerReference,
  platformNames,
  referencedSecretKeys,
  SpecError,
  type HuntMasterPlatform,
  type ObservedState,
} from '../specs/index.ts';
import type { EventRecorder } from './events.ts';
import { firstDifference, mergePatchFrom } from './compare.ts';
import { keepRecordedSize, needsGrowth, planVolumeGrowth } from './volumes.ts';
import { HANDOVER_FIELD_MANAGER, replicasHandover } from './autoscaling.ts';
import { planJob } from './jobs.ts';
import { adoptable, releasedOwnerReferences } from './secret-ownership.ts';
import { conditionTransitions } from './transitions.ts';
import type { ReconcileResult } from '../controller/controller.ts';

export const FINALIZER = 'platform.huntmaster.academy/pvc-retention';

/** Read access to the informer caches, by kind. */
export interface ClusterCache {
  get(kind: string, namespace: string, name: string): KubeObject | undefined;
  /** Every cached object of `kind` in `namespace` whose controller is `ownerUid`. */
  owned(kind: string, namespace: string, ownerUid: string): KubeObject[];
  /** Kinds the caches cover; others are read from the API server. */
  has(kind: string): boolean;
}

export interface ReconcilerDeps {
  client: KubeClient;
  cache: ClusterCache;
  logger: Logger;
  record: EventRecorder;
  capabilities(): Promise<{ serviceMonitor: boolean; prometheusRule: boolean }>;
  /** Resolves when the external S3 endpoint answers; rejects with a reason otherwise. */
  probeObjectStorage(endpoint: string): Promise<void>;
  dashboards: Record<string, string>;
  onReadiness(namespace: string, name: string, ready: boolean | undefined): void;
  /**
   * Unix time of the last successful backup (until there is one, of when backups were switched on),
   * or undefined when backups are off or the platform is gone.
   */
  onBackup?(namespace: string, name: string, since: number | undefined): void;
  /** Counts writes, so tests and benchmarks can prove a no-op reconcile writes nothing. */
  onWrite?(verb: string, kind: string, name: string): void;
  now?: () => Date;
}

/** A recoverable problem: status says so, and the key is retried with backoff. */
export class RetryableError extends Error {}

type SecretObject = KubeObject & { data?: Record<string, string> };

const byKey = (o: KubeObject) => `${o.kind}/${o.metadata.name}`;

/** The API server's own words for a refused write. */
const refusal = (err: KubeApiError) => (err.body as { message?: string } | undefined)?.message ?? err.message;

async function inBatches<T>(items: T[], size: number, fn: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}

export function createReconciler(d: ReconcilerDeps) {
  const write = (verb: string, o: KubeObject) => d.onWrite?.(verb, o.kind ?? '?', o.metadata.name);
  const now = () => d.now?.() ?? new Date();

  async function live(kind: string, namespace: string, name: string, apiVersion: string): Promise<KubeObject | undefined> {
    if (d.cache.has(kind)) return d.cache.get(kind, namespace, name);
    try {
      return await d.client.get(resourceFor(apiVersion, kind), namespace, name);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /**
   * Generated Secrets are created once and never rewritten; an AlreadyExists race is fine. One left
   * behind by a deleted platform of the same name (deletionPolicy Retain kept it with the volumes,
   * whose data directories hold its passwords) is adopted, not replaced.
   */
  async function ensureGeneratedSecrets(cr: HuntMasterPlatform): Promise<void> {
    const namespace = cr.metadata.namespace!;
    for (const name of generatedSecretNames(cr)) {
      const existing = d.cache.get('Secret', namespace, name);
      if (!existing || !adoptable(existing, cr)) continue;
      await d.client.mergePatch(RESOURCES.Secret, namespace, name, {
        metadata: { ownerReferences: [ownerReference(cr)] },
      });
      write('patch', { ...existing, kind: 'Secret' });
      await d.record(cr as unknown as KubeObject, 'Normal', 'SecretAdopted', `Adopted the retained Secret ${name}`);
    }
    const missing = generatedSecretNames(cr).filter((name) => !d.cache.get('Secret', namespace, name));
    if (missing.length === 0) return;
    for (const secret of generatedSecrets(cr)) {
      const obj = secret as unknown as KubeObject;
      if (!missing.includes(obj.metadata.name)) continue;
      try {
        // The cache may lag a create of a moment ago: GET before generating anything new.
        await d.client.get(RESOURCES.Secret, namespace, obj.metadata.name);
      } catch (err) {
        if (!isNotFound(err)) throw err;
        try {
          await d.client.create(obj);
          write('create', obj);
          await d.record(cr as unknown as KubeObject, 'Normal', 'SecretGenerated', `Generated Secret ${obj.metadata.name}`);
        } catch (e) {
          if (!isConflict(e)) throw e;
        }
      }
    }
  }

  /**
   * A Secret's data: from the cache for the generated ones (the only Secrets it holds), otherwise
   * by name from the API server, so a user's Secret is read only when a platform needs it.
   */
  async function readSecret(namespace: string, name: string): Promise<SecretObject | undefined> {
    const cached = d.cache.get('Secret', namespace, name) as SecretObject | undefined;
    if (cached) return cached;
    try {
      return await d.client.get<SecretObject>(RESOURCES.Secret, namespace, name);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Reads every referenced Secret key: their hash rolls the pods; missing ones are reported. */
  async function referencedSecrets(cr: HuntMasterPlatform) {
    const namespace = cr.metadata.namespace!;
    const data: Record<string, Record<string, string> | undefined> = {};
    const missing: { name: string; key?: string }[] = [];
    const generated = new Set(generatedSecretNames(cr));
    const refs = referencedSecretKeys(cr);
    const secrets = new Map<string, SecretObject | undefined>();
    for (const name of new Set(refs.map((ref) => ref.name))) secrets.set(name, await readSecret(namespace, name));
    for (const ref of refs) {
      const secret = secrets.get(ref.name);
      if (!secret) {
        // A generated Secret created this very pass may not be cached yet; it is not "missing".
        if (!generated.has(ref.name) && !ref.optional) missing.push({ name: ref.name });
        continue;
      }
      if (secret.data?.[ref.key] === undefined) {
        if (!ref.optional) missing.push({ name: ref.name, key: ref.key });
        continue;
      }
      (data[ref.name] ??= {})[ref.key] = secret.data[ref.key]!;
    }
    return { hash: configHash(data), missing };
  }

  /**
   * Asks each PVC of a data service for a larger size when `storage.size` grew (see volumes.ts).
   * Complete when every PVC requests the size; `refused` says why one would not.
   */
  async function growVolumes(
    cr: HuntMasterPlatform,
    desired: KubeObject,
    live: KubeObject,
  ): Promise<{ complete: boolean; refused?: string }> {
    const namespace = cr.metadata.namespace!;
    let complete = true;
    for (const claim of planVolumeGrowth(desired as never, live as never, () => desiredVolumes(cr)).claims) {
      let pvc: KubeObject & { spec?: { resources?: { requests?: { storage?: string } } } };
      try {
        pvc = await d.client.get(RESOURCES.PersistentVolumeClaim, namespace, claim.name);
      } catch (err) {
        if (!isNotFound(err)) throw err;
        // Not created yet (e.g. suspended): it will come from the template at the old size.
        complete = false;
        continue;
      }
      const from = pvc.spec?.resources?.requests?.storage;
      if (!needsGrowth(from, claim.size)) continue;
      try {
        await d.client.mergePatch(RESOURCES.PersistentVolumeClaim, namespace, claim.name, {
          spec: { resources: { requests: { storage: claim.size } } },
        });
      } catch (err) {
        const refused = `PVC ${claim.name} cannot grow from ${from} to ${claim.size}: ${(err as Error).message}`;
        await d.record(cr as unknown as KubeObject, 'Warning', 'VolumeExpansionFailed', refused);
        return { complete: false, refused };
      }
      write('patch', { ...pvc, kind: 'PersistentVolumeClaim' });
      await d.record(cr as unknown as KubeObject, 'Normal', 'VolumeExpanding', `PVC ${claim.name} grows from ${from} to ${claim.size}`);
    }
    return { complete };
  }

  async function finalize(cr: HuntMasterPlatform): Promise<void> {
    const namespace = cr.metadata.namespace!;
    if (!cr.metadata.finalizers?.includes(FINALIZER)) return;
    if (cr.spec?.deletionPolicy?.persistentVolumeClaims === 'Delete') {
      const pvcs = await d.client.list(RESOURCES.PersistentVolumeClaim, namespace, {
        labelSelector: `app.kubernetes.io/instance=${cr.metadata.name},app.kubernetes.io/managed-by=huntmaster-operator`,
      });
      for (const pvc of pvcs.items) {
        await d.client.delete(RESOURCES.PersistentVolumeClaim, namespace, pvc.metadata.name).catch((err) => {
          if (!isNotFound(err)) throw err;
        });
        write('delete', { ...pvc, kind: 'PersistentVolumeClaim' });
      }
      await d.record(
        cr as unknown as KubeObject,
        'Normal',
        'PersistentVolumeClaimsDeleted',
        `Deleted ${pvcs.items.length} PVCs (deletionPolicy Delete)`,
      );
    } else {
      await releaseGeneratedSecrets(cr);
    }
    await d.client.mergePatch(RESOURCES.HuntMasterPlatform, namespace, cr.metadata.name, {
      metadata: { finalizers: cr.metadata.finalizers.filter((f: string) => f !== FINALIZER), resourceVersion: cr.metadata.resourceVersion },
    });
    write('patch', cr as unknown as KubeObject);
  }

  /**
   * The retained volumes keep the passwords their data directories were initialised with, so the
   * credentials must outlive the platform with them: the ownerReference goes before the finalizer
   * does, so the garbage collector leaves the Secrets, and a platform of the same name adopts them.
   */
  async function releaseGeneratedSecrets(cr: HuntMasterPlatform): Promise<void> {
    const namespace = cr.metadata.namespace!;
    const released: string[] = [];
    for (const name of generatedSecretNames(cr)) {
      const secret = d.cache.get('Secret', namespace, name) ?? (await live('Secret', namespace, name, 'v1'));
      const remaining = secret && releasedOwnerReferences(secret, cr);
      if (!remaining) continue;
      await d.client
        .mergePatch(RESOURCES.Secret, namespace, name, { metadata: { ownerReferences: remaining.length ? remaining : null } })
        .catch((err) => {
          if (!isNotFound(err)) throw err;
        });
      write('patch', { ...secret, kind: 'Secret' });
      released.push(name);
    }
    if (released.length) {
      await d.record(
        cr as unknown as KubeObject,
        'Normal',
        'SecretsRetained',
        `Kept ${released.join(', ')} with the retained PVCs (deletionPolicy Retain); a platform of the same name adopts them`,
      );
    }
  }

  return async function reconcile(key: string): Promise<ReconcileResult | void> {
    const [namespace, name] = key.split('/') as [string, string];
    const cr = d.cache.get('HuntMasterPlatform', namespace, name) as unknown as HuntMasterPlatform | undefined;
    if (!cr) {
      d.onReadiness(namespace, name, undefined);
      d.onBackup?.(namespace, name, undefined);
      return;
    }
    if (cr.metadata.deletionTimestamp) return finalize(cr);
    const crObject = cr as unknown as KubeObject;

    if (!cr.metadata.finalizers?.includes(FINALIZER)) {
      await d.client.mergePatch(RESOURCES.HuntMasterPlatform, namespace, name, {
        metadata: { finalizers: [...(cr.metadata.finalizers ?? []), FINALIZER], resourceVersion: cr.metadata.resourceVersion },
      });
      write('patch', crObject);
      return; // the update event brings us back with the new resourceVersion
    }

    const errors: string[] = [];
    await ensureGeneratedSecrets(cr);
    const secrets = await referencedSecrets(cr);

    if (cr.spec?.objectStorage?.mode === 'external' && cr.spec.objectStorage.external?.endpoint) {
      await d
        .probeObjectStorage(cr.spec.objectStorage.external.endpoint)
        .catch((err: Error) => errors.push(`object storage: ${err.message}`));
    }

    let desired;
    try {
      desired = desiredChildren(cr, { configHash: secrets.hash, capabilities: await d.capabilities(), dashboards: d.dashboards });
    } catch (err) {
      if (!(err instanceof SpecError)) throw err;
      await writeStatus(cr, { errors: [`invalid spec: ${err.message}`] });
      return; // retrying cannot help until the spec changes
    }

    const names = platformNames(cr);
    const spec = applyDefaults(cr.spec);
    const migrationName = names.migrationJob(spec.version, spec.images.contentBridge);
    const migration = desired.objects.find((o) => o.kind === 'Job' && o.metadata.name === migrationName);
    const liveMigration = migration ? await live('Job', namespace, migration.metadata.name, 'batch/v1') : undefined;
    const migrated = !migration || observeJob(liveMigration as never)?.succeeded === true;
    const apiDeployments = new Set([names.contentBridge, names.mlServer]);
    // Migrations start only once the managed PostgreSQL is ready, so they never race its first start.
    const postgresReady =
      spec.postgres.mode !== 'managed' ||
      (observeStatefulSet(d.cache.get('StatefulSet', namespace, names.postgres) as never)?.readyReplicas ?? 0) >= 1;
    const retryAt = new Map<string, Date>();

    if (secrets.missing.length === 0) {
      // Children are independent writes: apply a few at a time so a new platform comes up quickly.
      await inBatches(desired.objects as KubeObject[], 6, async (obj) => {
        // The APIs roll to a new version only after that version's migrations succeeded.
        if (obj.kind === 'Deployment' && apiDeployments.has(obj.metadata.name) && !migrated) return;
        const current = await live(obj.kind!, namespace, obj.metadata.name, obj.apiVersion!);
        if (obj.metadata.annotations?.[ANNOTATIONS.createOnly] !== undefined) {
          const waitFor = obj === migration && !postgresReady ? 'PostgresReady' : undefined;
          const at = await ensureJob(cr, obj, current, waitFor);
          if (at) retryAt.set(obj.metadata.name, at);
          return;
        }
        if (obj.kind === 'StatefulSet' && current) {
          const growth = await growVolumes(cr, obj, current);
          if (growth.refused) errors.push(growth.refused);
          // Until every PVC has the size, the StatefulSet keeps the old one on record: asked again next pass.
          if (!growth.complete) keepRecordedSize(obj, current);
        }
        const diff = current ? firstDifference(obj, current) : '(absent)';
        if (!diff) return;
        d.logger.debug({ key, object: byKey(obj), diff }, 'applying');
        const autoscaler = desired.objects.find((o) => o.kind === 'HorizontalPodAutoscaler' && o.metadata.name === obj.metadata.name);
        const handover = replicasHandover(obj, current, autoscaler as KubeObject | undefined);
        try {
          if (handover && current) await d.client.apply(handover, { fieldManager: HANDOVER_FIELD_MANAGER });
          await d.client.apply(obj);
          // A new Deployment starts at the autoscaler's minimum, not at the API server's default of 1.
          if (handover && !current) await d.client.apply(handover, { fieldManager: HANDOVER_FIELD_MANAGER });
        } catch (err) {
          // The API server refuses what the CRD cannot check (a pass-through affinity, say): the
          // user must hear why, in the status, while the other children still converge.
          if (!(err instanceof KubeApiError) || (err.status !== 422 && err.status !== 400)) throw err;
          const message = `${obj.kind} ${obj.metadata.name} refused by the API server: ${refusal(err)}`;
          errors.push(message);
          await d.record(crObject, 'Warning', 'ApplyRefused', message);
          return;
        }
        write('apply', obj);
      });
      await prune(cr, desired.objects as KubeObject[], new Set(desired.generatedSecretNames));
    }

    const backupCronJob = d.cache.get('CronJob', namespace, names.postgresBackup);
    const observed: ObservedState = {
      contentBridge: observeDeployment(d.cache.get('Deployment', namespace, names.contentBridge) as never),
      mlServer: observeDeployment(d.cache.get('Deployment', namespace, names.mlServer) as never),
      postgres: observeStatefulSet(d.cache.get('StatefulSet', namespace, names.postgres) as never),
      redis: observeStatefulSet(d.cache.get('StatefulSet', namespace, names.redis) as never),
      minio: observeStatefulSet(d.cache.get('StatefulSet', namespace, names.minio) as never),
      migrationJob: withRetry(observeJob(liveMigration as never), retryAt),
      bucketJob: withRetry(
        observeJob(
          d.cache.get('Job', namespace, desired.objects.find((o) => o.kind === 'Job' && o !== migration)?.metadata.name ?? '') as never,
        ),
        retryAt,
      ),
      backups: observeCronJob(backupCronJob as never),
      missingSecrets: secrets.missing,
      errors,
      skipped: desired.skipped,
    };
    const status = await writeStatus(cr, observed);
    const backupSince = status.backup ? (status.backup.lastSuccessfulTime ?? backupCronJob?.metadata.creationTimestamp) : undefined;
    d.onBackup?.(namespace, name, backupSince ? Date.parse(backupSince) / 1000 : undefined);
    if (secrets.missing.length) {
      throw new RetryableError(`missing secrets: ${secrets.missing.map((m) => (m.key ? `${m.name}/${m.key}` : m.name)).join(', ')}`);
    }
    if (errors.length) throw new RetryableError(errors.join('; '));
    // A Failed Job is recreated when its backoff ends: come back then, not only at the usual 30 s.
    const nextRetryMs = Math.min(...[...retryAt.values()].map((at) => Math.max(1000, at.getTime() - now().getTime())));
    if (status.phase === 'Ready' || status.phase === 'Suspended') return retryAt.size ? { requeueAfterMs: nextRetryMs } : undefined;
    return { requeueAfterMs: Math.min(30_000, nextRetryMs) };
  };

  /**
   * Creates, keeps, replaces or recreates a create-only Job (see jobs.ts). Returns when a Failed Job
   * will be recreated, while it waits out its backoff. `waitFor` names a condition that must hold
   * before a Job is (re)created.
   */
  async function ensureJob(cr: HuntMasterPlatform, job: KubeObject, current: KubeObject | undefined, waitFor?: string) {
    const crObject = cr as unknown as KubeObject;
    const namespace = cr.metadata.namespace!;
    const observedJob = observeJob(current as never);
    if (observedJob?.failed) {
      // Recorded on every pass while Failed; the recorder folds repeats, so it is logged once.
      await d.record(
        crObject,
        'Warning',
        'JobFailed',
        `Job ${job.metadata.name} failed (attempt ${observedJob.attempt})${observedJob.message ? `: ${observedJob.message}` : ''}`,
      );
    }
    const plan = planJob(job, current, now());
    if (plan.action === 'keep') return undefined;
    if (plan.action === 'wait') return plan.retryAt;
    if (waitFor) {
      d.logger.debug({ job: job.metadata.name, waitFor }, 'job waits');
      return undefined;
    }
    let attempt = 1;
    if (plan.action === 'replace' || plan.action === 'retry') {
      attempt = plan.attempt;
      await d.client.delete(RESOURCES.Job, namespace, job.metadata.name, 'Background').catch((err) => {
        if (!isNotFound(err)) throw err;
      });
      write('delete', job);
    }
    const created =
      attempt === 1
        ? job
        : { ...job, metadata: { ...job.metadata, annotations: { ...job.metadata.annotations, [ANNOTATIONS.attempt]: String(attempt) } } };
    try {
      await d.client.create(created);
      write('create', created);
    } catch (err) {
      // Still being deleted (or created a moment ago): its delete or add event brings us back.
      if (!isConflict(err)) throw err;
      return undefined;
    }
    if (plan.action !== 'create') {
      await d.record(crObject, 'Normal', 'JobRecreated', `Recreated Job ${job.metadata.name} (attempt ${attempt}): ${plan.why}`);
    }
    return undefined;
  }

  function withRetry<T extends { name: string } | undefined>(job: T, retryAt: Map<string, Date>): T {
    const at = job && retryAt.get(job.name);
    return at ? { ...job, retryAt: at.toISOString().replace(/\.\d{3}Z$/, 'Z') } : job;
  }

  async function prune(cr: HuntMasterPlatform, desired: KubeObject[], keepSecrets: Set<string>): Promise<void> {
    const namespace = cr.metadata.namespace!;
    const wanted = new Set(desired.map(byKey));
    // Every cached child kind (the uncached monitoring kinds are left as they are).
    for (const { kind } of CHILD_KINDS) {
      if (!d.cache.has(kind)) continue;
      for (const obj of d.cache.owned(kind, namespace, cr.metadata.uid!)) {
        if (wanted.has(`${kind}/${obj.metadata.name}`) || (kind === 'Secret' && keepSecrets.has(obj.metadata.name))) continue;
        await d.client.delete(resourceFor(obj.apiVersion ?? 'v1', kind), namespace, obj.metadata.name, 'Background').catch((err) => {
          if (!isNotFound(err)) throw err;
        });
        write('delete', { ...obj, kind });
        d.logger.info({ kind, name: obj.metadata.name }, 'pruned');
      }
    }
  }

  async function writeStatus(cr: HuntMasterPlatform, observed: ObservedState) {
    const status = computeStatus(cr, observed, { now: now() });
    const previous = (cr as unknown as { status?: Record<string, unknown> }).status ?? {};
    if (firstDifference(status, previous) === undefined && firstDifference(previous, status) === undefined) {
      d.onReadiness(cr.metadata.namespace!, cr.metadata.name, status.phase === 'Ready');
      return status;
    }
    try {
      const patch = { status: mergePatchFrom(previous, status as unknown as Record<string, unknown>) };
      await d.client.mergePatch(RESOURCES.HuntMasterPlatform, cr.metadata.namespace, cr.metadata.name, patch, 'status');
      write('status', cr as unknown as KubeObject);
    } catch (err) {
      if (err instanceof KubeApiError && (err.status === 404 || err.status === 409)) throw new RetryableError(err.message);
      throw err;
    }
    d.onReadiness(cr.metadata.namespace!, cr.metadata.name, status.phase === 'Ready');
    // The operator's log tells the same story as the Events: each condition change, once.
    const platform = `${cr.metadata.namespace}/${cr.metadata.name}`;
    for (const t of conditionTransitions(cr.status?.conditions, status.conditions)) {
      d.logger[t.level]({ platform, condition: t.type, from: t.from, status: t.status, reason: t.reason }, t.message);
    }
    const oldPhase = previous.phase as string | undefined;
    if (oldPhase !== status.phase) {
      const ready = status.conditions?.find((c) => c.type === 'Ready');
      const warning = status.phase === 'Degraded';
      await d.record(
        cr as unknown as KubeObject,
        warning ? 'Warning' : 'Normal',
        `Phase${status.phase}`,
        ready?.message ?? `Phase is ${status.phase}`,
      );
    }
    return status;
  }
}
