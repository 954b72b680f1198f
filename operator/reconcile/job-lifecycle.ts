/** Creates, keeps, replaces or recreates a create-only Job, as planJob (jobs.ts) decides. */
import { isConflict, isNotFound } from '../kube/errors.ts';
import { RESOURCES } from '../kube/resources.ts';
import { ANNOTATIONS, observeJob, type Child, type HuntMasterPlatform, type KubeObject } from '../specs/index.ts';
import type { Phase } from './deps.ts';
import { planJob } from './jobs.ts';

/**
 * Returns when a Failed Job will be recreated, while it waits out its backoff. `waitFor` names a
 * condition that must hold before a Job is (re)created.
 */
export async function ensureJob(
  p: Phase,
  cr: HuntMasterPlatform,
  job: Child,
  current: KubeObject | undefined,
  waitFor?: string,
): Promise<Date | undefined> {
  const namespace = cr.metadata.namespace;
  const observedJob = observeJob(current);
  if (observedJob?.failed) {
    // Recorded on every pass while Failed; the recorder folds repeats, so it is logged once.
    const why = observedJob.message ? `: ${observedJob.message}` : '';
    await p.record(cr, 'Warning', 'JobFailed', `Job ${job.metadata.name} failed (attempt ${observedJob.attempt})${why}`);
  }
  const plan = planJob(job, current, p.clock());
  if (plan.action === 'keep') return undefined;
  if (plan.action === 'wait') return plan.retryAt;
  if (waitFor) {
    p.logger.debug({ job: job.metadata.name, waitFor }, 'job waits');
    return undefined;
  }
  let attempt = 1;
  if (plan.action === 'replace' || plan.action === 'retry') {
    attempt = plan.attempt;
    await p.client.delete(RESOURCES.Job, namespace, job.metadata.name, 'Background').catch((err) => {
      if (!isNotFound(err)) throw err;
    });
    p.wrote('delete', job);
  }
  const annotations = { ...job.metadata.annotations, [ANNOTATIONS.attempt]: String(attempt) };
  const created = attempt === 1 ? job : { ...job, metadata: { ...job.metadata, annotations } };
  try {
    await p.client.create(created);
    p.wrote('create', created);
  } catch (err) {
    // Still being deleted (or created a moment ago): its delete or add event brings us back.
    if (!isConflict(err)) throw err;
    return undefined;
  }
  if (plan.action !== 'create') {
    await p.record(cr, 'Normal', 'JobRecreated', `Recreated Job ${job.metadata.name} (attempt ${attempt}): ${plan.why}`);
  }
  return undefined;
}
