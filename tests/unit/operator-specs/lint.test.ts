/**
 * kube-linter's default checks and polaris's default configuration (tests/unit/packaging/lint-checks.ts)
 * over the operator's desired state for the minimal, full and external CRs: no finding but the
 * exceptions annotated on the object (operator/specs/lint-exemptions.ts), and the polaris warnings
 * listed below, which are the CR's to decide, not the operator's.
 */
import { describe, expect, it } from 'vitest';
import { desiredChildren } from '../../../operator/specs/desired.ts';
import type { Child } from '../../../operator/specs/types.ts';
import { exemptionsWithoutReason, isExempt, lint } from '../packaging/lint-checks.ts';
import { externalCr, fullCr, fullCtx, minimalCr, minimalCtx } from './fixtures.ts';

/** Polaris warnings (reliability and efficiency) left to the CR, with why. */
const LEFT_TO_THE_CR: Record<string, string> = {
  priorityClassNotSet: 'spec.scheduling.priorityClassName: priority classes are the cluster’s to define',
  pullPolicyNotAlways: 'spec.imagePullPolicy (default IfNotPresent): images are pinned by version',
  cpuLimitsMissing: 'spec.<component>.resources.limits.cpu: no CPU limit by default, as throttling stalls request bursts',
  metadataAndInstanceMismatched: 'app.kubernetes.io/instance is the platform’s name; each child is <platform>-<component>',
  topologySpreadConstraint: 'the data services and admin tools run one replica: nothing to spread (the APIs have one)',
  missingPodDisruptionBudget: 'one replica: a PDB would block every drain or protect nothing (the APIs have one)',
  deploymentMissingReplicas: 'spec.<api>.replicas (default 2); the admin tools run one replica, reached by port-forward',
};

describe.each([
  ['minimal', minimalCr, minimalCtx],
  ['full', fullCr, fullCtx],
  ['external', externalCr, minimalCtx],
] as const)('desired state of the %s CR', (_name, cr, ctx) => {
  const objects = desiredChildren(cr, ctx).objects as Child[];

  it('has no kube-linter finding, and no polaris finding outside the warnings left to the CR, but the annotated exceptions', () => {
    const byId = new Map(objects.map((o) => [`${o.kind}/${o.metadata.name}`, o]));
    const open = lint(objects as never)
      .filter((f) => !isExempt(byId.get(f.object) as never, f))
      .filter((f) => !(f.tool === 'polaris' && f.check in LEFT_TO_THE_CR));
    expect(open.map((f) => `${f.tool} ${f.check} ${f.object}: ${f.message}`)).toEqual([]);
  });

  it('gives every exception its reason', () => {
    expect(objects.flatMap((o) => exemptionsWithoutReason(o as never))).toEqual([]);
  });
});

it('puts every Job pod under a NetworkPolicy that admits nothing', () => {
  const objects = desiredChildren(fullCr, fullCtx).objects as Child[];
  const jobs = lint(objects as never).filter((f) => f.check === 'missingNetworkPolicy');
  expect(jobs).toEqual([]);
  const policies = objects.filter(
    (o: any) =>
      o.kind === 'NetworkPolicy' &&
      o.spec.ingress === undefined &&
      /-(migrations|minio-bucket-init|postgres-backup)$/.test(o.metadata.name),
  ) as any[];
  expect(policies.map((p) => p.spec.podSelector.matchLabels['app.kubernetes.io/component']).sort()).toEqual([
    'backup',
    'migrations',
    'object-storage-init',
  ]);
  // policyTypes Ingress without a rule admits nothing (the API server drops an empty list, so none is sent).
  expect(policies.every((p) => p.spec.policyTypes.join() === 'Ingress')).toBe(true);
});
