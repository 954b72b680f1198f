/**
 * kube-linter's default checks and polaris's default configuration over every chart render (the
 * defaults and each ci/*.yaml values file), as lint-checks.ts evaluates them: no finding, except
 * where an object carries the tool's exemption annotation with its reason.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../operator/kube/client.ts';
import { exemptionsWithoutReason, isExempt, lint } from './lint-checks.ts';
import { ciValuesFiles, helm, HELM_TIMEOUT_MS, renderChart } from './support.ts';

let helmBin: string;
beforeAll(async () => {
  helmBin = await helm();
}, HELM_TIMEOUT_MS);

const variants: Array<[string, string | undefined]> = [
  ['defaults', undefined],
  ...ciValuesFiles().map((f): [string, string] => [f.split('/').pop()!, f]),
  ['replicaCount=2 (production)', undefined],
];
const renderOf = (name: string, file: string | undefined) =>
  renderChart(helmBin, { valuesFiles: file ? [file] : [], set: name.startsWith('replicaCount=2') ? ['replicaCount=2'] : [] });

describe.each(variants)('chart render: %s', (name, file) => {
  it('has no kube-linter or polaris finding but the annotated exceptions', () => {
    const objects = renderOf(name, file);
    const byId = new Map(objects.map((o) => [`${o.kind}/${o.metadata.name}`, o]));
    const open = lint(objects).filter((f) => !isExempt(byId.get(f.object)!, f));
    expect(open.map((f) => `${f.tool} ${f.check} ${f.object}: ${f.message}`)).toEqual([]);
  });

  it('gives every exception its reason', () => {
    expect(renderOf(name, file).flatMap(exemptionsWithoutReason)).toEqual([]);
  });
});

describe('the checks themselves', () => {
  it('find what they are for in an insecure Deployment, and honour only exemptions that are annotated', () => {
    const insecure: KubeObject = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name: 'bad',
        namespace: 'x',
        labels: { app: 'bad' },
        annotations: { 'ignore-check.kube-linter.io/latest-tag': 'reason given' },
      },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: 'bad' } },
        template: {
          metadata: { labels: { app: 'bad' } },
          spec: {
            hostNetwork: true,
            containers: [
              {
                name: 'c',
                image: 'nginx',
                env: [{ name: 'API_SECRET', value: 'hunter2' }],
                securityContext: { privileged: true, capabilities: { add: ['SYS_ADMIN'] } },
                ports: [{ name: 'ssh', containerPort: 22 }],
                livenessProbe: { httpGet: { port: 'http' } },
              },
            ],
          },
        },
      },
    };
    const findings = lint([insecure]);
    const checks = new Set(findings.map((f) => `${f.tool}/${f.check}`));
    for (const expected of [
      'kube-linter/host-network',
      'kube-linter/run-as-non-root',
      'kube-linter/no-read-only-root-fs',
      'kube-linter/privilege-escalation-container',
      'kube-linter/privileged-container',
      'kube-linter/drop-net-raw-capability',
      'kube-linter/latest-tag',
      'kube-linter/unset-cpu-requirements',
      'kube-linter/unset-memory-requirements',
      'kube-linter/no-anti-affinity',
      'kube-linter/ssh-port',
      'kube-linter/liveness-port',
      'kube-linter/env-var-secret',
      'polaris/hostNetworkSet',
      'polaris/runAsPrivileged',
      'polaris/dangerousCapabilities',
      'polaris/missingPodDisruptionBudget',
      'polaris/missingNetworkPolicy',
      'polaris/readinessProbeMissing',
      'polaris/sensitiveContainerEnvVar',
      'polaris/tagNotSpecified',
    ]) {
      expect(checks, expected).toContain(expected);
    }
    const open = findings.filter((f) => !isExempt(insecure, f)).map((f) => `${f.tool}/${f.check}`);
    expect(open).not.toContain('kube-linter/latest-tag');
    expect(open).toContain('polaris/tagNotSpecified');
  });

  it('find a PDB that blocks every drain, and one without unhealthyPodEvictionPolicy', () => {
    const pdb: KubeObject = {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: 'p', namespace: 'x' },
      spec: { maxUnavailable: 0, selector: { matchLabels: { app: 'a' } } },
    };
    expect(lint([pdb]).map((f) => f.check)).toEqual(['pdb-unhealthy-pod-eviction-policy', 'pdb-max-unavailable', 'pdbDisruptionsIsZero']);
  });
});
