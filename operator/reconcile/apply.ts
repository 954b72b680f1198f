/**
 * The apply phase: every desired child is written when it differs from the live one, all at once
 * (they are independent writes), each through the per-object rules below, in this order:
 * the migration gate, create-only Jobs, volume growth, then the autoscaler handover around the apply.
 */
import { KubeApiError, isNotFound } from '../kube/errors.ts';
import { RESOURCES } from '../kube/resources.ts';
import { ANNOTATIONS, desiredVolumes, type Child, type HuntMasterPlatform, type KubeObject } from '../specs/index.ts';
import { HANDOVER_FIELD_MANAGER, replicasHandover } from './autoscaling.ts';
import { firstDifference } from './compare.ts';
import type { Phase } from './deps.ts';
import { ensureJob } from './job-lifecycle.ts';
import { keepRecordedSize, needsGrowth, planVolumeGrowth } from './volumes.ts';

export interface ApplyPlan {
  cr: HuntMasterPlatform;
  desired: Child[];
  /** The desired migration Job, if any: the APIs wait for it. */
  migration: Child | undefined;
  /** The migration Job of the current version has succeeded (or there is none). */
  migrated: boolean;
  /** The managed PostgreSQL is ready (or external): the migration Job may be created. */
  postgresReady: boolean;
  /** The API Deployments' names, gated on the migration. */
  apiDeployments: ReadonlySet<string>;
}

export interface ApplyOutcome {
  /** Refusals and failures the status reports (the other children still converge). */
  errors: string[];
  /** Job name → when a Failed Job will be recreated. */
  retryAt: Map<string, Date>;
}

/** The API server's own words for a refused write. */
const refusal = (err: KubeApiError) => (err.body as { message?: string } | undefined)?.message ?? err.message;

/** Migration gate: the APIs roll to a new version only after that version's migrations succeeded. */
function waitsForMigration(plan: ApplyPlan, obj: Child): boolean {
  return obj.kind === 'Deployment' && plan.apiDeployments.has(obj.metadata.name) && !plan.migrated;
}

/** Create-only: Jobs are created (or replaced) but never patched; see job-lifecycle.ts. */
async function applyCreateOnly(p: Phase, plan: ApplyPlan, obj: Child, current: KubeObject | undefined, out: ApplyOutcome) {
  // Migrations start only once the managed PostgreSQL is ready, so they never race its first start.
  const waitFor = obj === plan.migration && !plan.postgresReady ? 'PostgresReady' : undefined;
  const at = await ensureJob(p, plan.cr, obj, current, waitFor);
  if (at) out.retryAt.set(obj.metadata.name, at);
}

/**
 * Volume growth: asks each PVC of a data service for a larger size when `storage.size` grew (see
 * volumes.ts). Until every PVC has the size, the StatefulSet keeps the old one on record, so it is
 * asked again on the next pass.
 */
async function growVolumes(p: Phase, cr: HuntMasterPlatform, desired: Child, live: KubeObject, out: ApplyOutcome): Promise<void> {
  const namespace = cr.metadata.namespace;
  let complete = true;
  for (const claim of planVolumeGrowth(desired, live, () => desiredVolumes(cr)).claims) {
    let pvc: KubeObject & { spec?: { resources?: { requests?: { storage?: string } } } };
    try {
      pvc = await p.client.get(RESOURCES.PersistentVolumeClaim, namespace, claim.name);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      // Not created yet (e.g. suspended): it will come from the template at the old size.
      complete = false;
      continue;
    }
    const from = pvc.spec?.resources?.requests?.storage;
    if (!needsGrowth(from, claim.size)) continue;
    try {
      await p.client.mergePatch(RESOURCES.PersistentVolumeClaim, namespace, claim.name, {
        spec: { resources: { requests: { storage: claim.size } } },
      });
    } catch (err) {
      const refused = `PVC ${claim.name} cannot grow from ${from} to ${claim.size}: ${(err as Error).message}`;
      await p.record(cr, 'Warning', 'VolumeExpansionFailed', refused);
      out.errors.push(refused);
      complete = false;
      break;
    }
    p.wrote('patch', { ...pvc, kind: 'PersistentVolumeClaim' });
    await p.record(cr, 'Normal', 'VolumeExpanding', `PVC ${claim.name} grows from ${from} to ${claim.size}`);
  }
  if (!complete) keepRecordedSize(desired, live);
}

/**
 * Autoscaler handover: a Deployment that an autoscaler takes over keeps its replica count through a
 * second field manager (see autoscaling.ts); a new one starts at the autoscaler's minimum.
 */
async function applyWithHandover(p: Phase, plan: ApplyPlan, obj: Child, current: KubeObject | undefined): Promise<void> {
  const autoscaler = plan.desired.find((o) => o.kind === 'HorizontalPodAutoscaler' && o.metadata.name === obj.metadata.name);
  const handover = replicasHandover(obj, current, autoscaler);
  if (handover && current) await p.client.apply(handover, { fieldManager: HANDOVER_FIELD_MANAGER });
  await p.client.apply(obj);
  if (handover && !current) await p.client.apply(handover, { fieldManager: HANDOVER_FIELD_MANAGER });
}

async function applyChild(p: Phase, plan: ApplyPlan, obj: Child, out: ApplyOutcome): Promise<void> {
  if (waitsForMigration(plan, obj)) return;
  const namespace = plan.cr.metadata.namespace;
  const current = await p.live(obj.kind, namespace, obj.metadata.name, obj.apiVersion);
  if (obj.metadata.annotations?.[ANNOTATIONS.createOnly] !== undefined) return applyCreateOnly(p, plan, obj, current, out);
  if (obj.kind === 'StatefulSet' && current) await growVolumes(p, plan.cr, obj, current, out);
  const diff = current ? firstDifference(obj, current) : '(absent)';
  if (!diff) return;
  p.logger.debug({ platform: `${namespace}/${plan.cr.metadata.name}`, object: `${obj.kind}/${obj.metadata.name}`, diff }, 'applying');
  try {
    await applyWithHandover(p, plan, obj, current);
  } catch (err) {
    if (!(err instanceof KubeApiError)) throw err;
    if (err.status === 404) {
      // The kind is no longer served (a monitoring CRD removed since it was discovered): discover
      // again at once, rather than retrying a dead path with a growing backoff until the cache expires.
      p.forgetCapabilities?.();
      out.errors.push(`${obj.kind} ${obj.metadata.name}: the API server does not serve ${obj.apiVersion} ${obj.kind}`);
      return;
    }
    // The API server refuses what the CRD cannot check (a pass-through affinity, say): the user
    // must hear why, in the status, while the other children still converge.
    if (err.status !== 422 && err.status !== 400) throw err;
    const message = `${obj.kind} ${obj.metadata.name} refused by the API server: ${refusal(err)}`;
    out.errors.push(message);
    await p.record(plan.cr, 'Warning', 'ApplyRefused', message);
    return;
  }
  p.wrote('apply', obj);
}

export async function applyChildren(p: Phase, plan: ApplyPlan): Promise<ApplyOutcome> {
  const out: ApplyOutcome = { errors: [], retryAt: new Map() };
  await Promise.all(plan.desired.map((obj) => applyChild(p, plan, obj, out)));
  return out;
}
