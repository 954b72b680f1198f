/**
 * The status phase: computes the status (specs/status.ts) and writes it through the /status
 * subresource only when it changed; logs each condition transition and records each phase change.
 */
import { computeStatus, type HuntMasterPlatform, type ObservedState, type PlatformStatus } from '../specs/index.ts';
import { RESOURCES } from '../kube/resources.ts';
import { firstDifference, mergePatchFrom } from './compare.ts';
import type { Phase } from './deps.ts';
import { conditionTransitions } from './transitions.ts';

export async function writeStatus(p: Phase, cr: HuntMasterPlatform, observed: ObservedState): Promise<PlatformStatus> {
  const { namespace, name } = cr.metadata;
  const status = computeStatus(cr, observed, { now: p.clock() });
  const previous: Record<string, unknown> = { ...cr.status };
  if (firstDifference(status, previous) === undefined && firstDifference(previous, status) === undefined) {
    p.onReadiness(namespace, name, status.phase === 'Ready');
    return status;
  }
  const patch = { status: mergePatchFrom(previous, { ...status }) };
  await p.client.mergePatch(RESOURCES.HuntMasterPlatform, namespace, name, patch, 'status');
  p.wrote('status', cr);
  p.onReadiness(namespace, name, status.phase === 'Ready');
  // The operator's log tells the same story as the Events: each condition change, once.
  const platform = `${namespace}/${name}`;
  for (const t of conditionTransitions(cr.status?.conditions, status.conditions)) {
    p.logger[t.level]({ platform, condition: t.type, from: t.from, status: t.status, reason: t.reason }, t.message);
  }
  if (previous.phase !== status.phase) {
    const ready = status.conditions?.find((c) => c.type === 'Ready');
    await p.record(
      cr,
      status.phase === 'Degraded' ? 'Warning' : 'Normal',
      `Phase${status.phase}`,
      ready?.message ?? `Phase is ${status.phase}`,
    );
  }
  return status;
}
