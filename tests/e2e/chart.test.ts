/**
 * The chart on a whole (fake-node) cluster, driven by the real helm CLI:
 * - `helm install` makes the operator Deployment Available on kwok nodes (its image never runs here);
 * - the operator then runs as a local process with the chart's own settings (the Deployment's env)
 *   and a token of the chart's ServiceAccount, so only the chart's RBAC authorizes it;
 * - `helm upgrade` enabling the chart's HuntMasterPlatform brings it to Ready=True, `helm test`
 *   passes, an upgrade with changed operator settings rolls the operator and an unchanged one does not;
 * - `helm uninstall` keeps the CRD (crds.keep) and removes the rest.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { KubeClient, type KubeObject } from '../../operator/kube/client.ts';
import { isNotFound } from '../../operator/kube/errors.ts';
import { RESOURCES } from '../../operator/kube/resources.ts';
import { freePort, waitUntil } from '../harness/index.ts';
import { makeTempDir } from '../harness/tempdir.ts';
import { adminKubeConfig, installCrd } from '../operator/support/operator.ts';
import { CHART, helm, HELM_TIMEOUT_MS, REPO_ROOT, run, serviceAccountToken, tokenKubeconfig } from '../unit/packaging/support.ts';

const ns = 'chart-e2e';
const release = 'hm';
const deploymentName = 'hm-huntmaster-operator';
const serviceAccount = 'hm-huntmaster-operator';
const platformName = 'academy';
const CRD_NAME = 'huntmasterplatforms.platform.huntmaster.academy';

let helmBin: string;
let client: KubeClient;
let dir: string;
let operator: { child: ChildProcess; port: number; output: () => string } | undefined;

function helmCmd(args: string[]) {
  const res = run(helmBin, [...args, '--kube-context', 'hma-test'], {
    env: {
      KUBECONFIG: join(dir, 'admin.kubeconfig'),
      HELM_CACHE_HOME: join(dir, 'cache'),
      HELM_CONFIG_HOME: join(dir, 'config'),
      HELM_DATA_HOME: join(dir, 'data'),
    },
  });
  if (res.status !== 0) throw new Error(`helm ${args.join(' ')} failed (${res.status}):\n${res.stderr}\n${res.stdout}`);
  return res.stdout;
}

const upgrade = (set: string[], extra: string[] = []) =>
  helmCmd(['upgrade', release, CHART, '--namespace', ns, '--reuse-values', ...set.flatMap((s) => ['--set', s]), ...extra]);

type Deployment = KubeObject & {
  spec: { template: { spec: { containers: Array<{ env: Array<{ name: string; value?: string; valueFrom?: any }> }> } } };
  status?: {
    conditions?: Array<{ type: string; status: string }>;
    updatedReplicas?: number;
    availableReplicas?: number;
    observedGeneration?: number;
  };
};
const getDeployment = () => client.get<Deployment>(RESOURCES.Deployment, ns, deploymentName);
const available = (d: Deployment) => d.status?.conditions?.some((c) => c.type === 'Available' && c.status === 'True') === true;

async function replicaSetHashes(): Promise<string[]> {
  const list = await client.request<{ items: KubeObject[] }>('GET', `/apis/apps/v1/namespaces/${ns}/replicasets`, {
    query: { labelSelector: 'app.kubernetes.io/instance=hm,app.kubernetes.io/component=operator' },
  });
  return list.items.map((rs) => rs.metadata.labels!['pod-template-hash']!).sort();
}

/** Static PVs reserved (claimRef) for the platform's three data PVCs: no provisioner runs here. */
async function reserveVolumes() {
  for (const sts of ['postgres', 'redis', 'minio']) {
    await client.create({
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name: `chart-e2e-${sts}` },
      spec: {
        capacity: { storage: '100Gi' },
        accessModes: ['ReadWriteOnce'],
        hostPath: { path: `/tmp/chart-e2e-${sts}` },
        persistentVolumeReclaimPolicy: 'Retain',
        claimRef: { namespace: ns, name: `data-${platformName}-${sts}-0` },
      },
    } as KubeObject);
  }
}

/**
 * The CRD is cluster-wide and the other e2e files install it too: make sure it exists, then mark it
 * as this release's, as Helm requires before it takes over an existing object.
 */
async function adoptCrd() {
  await installCrd(client);
  await client.request('PATCH', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${CRD_NAME}`, {
    contentType: 'application/merge-patch+json',
    body: {
      metadata: {
        labels: { 'app.kubernetes.io/managed-by': 'Helm' },
        annotations: { 'meta.helm.sh/release-name': release, 'meta.helm.sh/release-namespace': ns },
      },
    },
  });
}

/** Starts `node operator/main.ts` with the Deployment's env and a token of the chart's ServiceAccount. */
async function startLocalOperator() {
  const deployment = await getDeployment();
  const env: Record<string, string> = {};
  for (const e of deployment.spec.template.spec.containers[0]!.env) {
    if (e.value !== undefined) env[e.name] = e.value;
    else if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.namespace') env[e.name] = ns;
    else throw new Error(`unexpected env ${e.name} in the chart's Deployment`);
  }
  const cluster = adminKubeConfig().getCurrentCluster()!;
  const kubeconfig = join(dir, 'operator.kubeconfig');
  writeFileSync(
    kubeconfig,
    tokenKubeconfig({ server: cluster.server, caData: cluster.caData }, await serviceAccountToken(client, ns, serviceAccount)),
  );
  const port = await freePort();
  const child = spawn(`${REPO_ROOT}/node_modules/.bin/node`, ['operator/main.ts'], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH, ...env, KUBECONFIG: kubeconfig, HTTP_PORT: String(port), HOSTNAME: 'chart-e2e-local' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c) => (out = (out + c).slice(-20_000)));
  child.stderr!.on('data', (c) => (out = (out + c).slice(-20_000)));
  operator = { child, port, output: () => out };
  await waitUntil(
    'local operator ready',
    async () => {
      if (child.exitCode !== null) throw new Error(`operator exited ${child.exitCode}:\n${out}`);
      return (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status === 200;
    },
    { timeoutMs: 30_000 },
  );
  return env;
}

const metrics = async () => (await fetch(`http://127.0.0.1:${operator!.port}/metrics`)).text();

beforeAll(async () => {
  helmBin = await helm();
  dir = makeTempDir('chart-e2e');
  writeFileSync(join(dir, 'admin.kubeconfig'), inject('kubeconfig'), { mode: 0o600 });
  client = new KubeClient(adminKubeConfig());
  await reserveVolumes();
  await adoptCrd();
}, HELM_TIMEOUT_MS);

afterAll(async () => {
  if (operator && operator.child.exitCode === null) {
    operator.child.kill('SIGTERM');
    await new Promise((resolve) => operator!.child.once('exit', resolve));
  }
});

describe('helm install, upgrade, test and uninstall', () => {
  it('installs: the operator Deployment becomes Available on kwok nodes', async () => {
    const out = helmCmd([
      'install',
      release,
      CHART,
      '--namespace',
      ns,
      '--create-namespace',
      '--set',
      `watchNamespaces={${ns}}`,
      '--set',
      'leaderElection.enabled=true',
      '--wait',
      '--timeout',
      '150s',
    ]);
    expect(out).toContain('STATUS: deployed');
    expect(out).toContain('kubectl get hmp --all-namespaces');
    const deployment = await getDeployment();
    expect(available(deployment)).toBe(true);
    const crd = await client.get(RESOURCES.CustomResourceDefinition, undefined, CRD_NAME);
    expect(crd.metadata.annotations!['meta.helm.sh/release-name']).toBe(release);
    expect(crd.metadata.annotations!['helm.sh/resource-policy']).toBe('keep');
  });

  it("brings the chart's platform to Ready=True, reconciled by the operator as the chart's ServiceAccount", async () => {
    const env = await startLocalOperator();
    expect(env).toMatchObject({ WATCH_NAMESPACES: ns, POD_NAMESPACE: ns, LEADER_ELECT: 'true' });
    const out = upgrade([
      'platform.enabled=true',
      `platform.name=${platformName}`,
      'platform.spec.contentBridge.replicas=1',
      'platform.spec.mlServer.replicas=1',
      'platform.spec.monitoring.grafanaDashboards.enabled=true',
    ]);
    expect(out).toContain(`port-forward service/${platformName}-content-bridge 8090`);
    expect(out).toContain(`port-forward service/${platformName}-ml-server 8010`);
    expect(out).toContain(`kubectl -n ${ns} get secret ${platformName}-admin -o jsonpath='{.data.password}'`);
    await waitUntil(
      `${platformName} Ready=True`,
      async () => {
        const cr = await client.get<any>(RESOURCES.HuntMasterPlatform, ns, platformName);
        return cr.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True') === true;
      },
      { timeoutMs: 150_000 },
    ).catch(async (err) => {
      const cr = await client.get<any>(RESOURCES.HuntMasterPlatform, ns, platformName);
      throw new Error(`${err.message}\nstatus: ${JSON.stringify(cr.status)}\n--- operator ---\n${operator!.output().slice(-4000)}`);
    });
    // The operator found the dashboards at its default DASHBOARDS_DIR (charts/huntmaster/dashboards).
    const dashboards = await client.list(RESOURCES.ConfigMap, ns, {
      labelSelector: `grafana_dashboard=1,app.kubernetes.io/instance=${platformName}`,
    });
    expect(dashboards.items.map((c) => Object.keys(c.data as object)[0]).sort()).toEqual(['operator.json', 'platform-health.json']);
    const text = await metrics();
    expect(text).toContain(`hma_platform_ready{namespace="${ns}",name="${platformName}"} 1`);
    expect(text).toMatch(/leader_election_master_status\{name="huntmaster-operator"\} 1/);
    expect(text, 'the chart RBAC refused nothing').not.toMatch(/rest_client_requests_total\{[^}]*code="403"/);
  }, 240_000);

  it('passes helm test, a Pod that calls /readyz of both APIs through their Services', async () => {
    for (const [name, port] of [
      [`${platformName}-content-bridge`, 8090],
      [`${platformName}-ml-server`, 8010],
    ] as const) {
      const svc = await client.get<any>(RESOURCES.Service, ns, name);
      expect(svc.spec.ports.map((p: any) => p.port)).toContain(port);
    }
    const out = helmCmd(['test', release, '--namespace', ns, '--timeout', '120s']);
    expect(out).toMatch(/TEST SUITE:\s+hm-huntmaster-test-readyz/);
    expect(out).toMatch(/Phase:\s+Succeeded/);
    const hook = await client.get(RESOURCES.Pod, ns, 'hm-huntmaster-test-readyz');
    expect(hook.metadata.annotations?.['helm.sh/hook']).toBe('test'); // kept for helm test --logs
  });

  it('rolls the operator when its settings change, and not when nothing changes', async () => {
    const before = await getDeployment();
    const hashes = await replicaSetHashes();
    upgrade([]);
    const same = await getDeployment();
    expect(same.metadata.generation).toBe(before.metadata.generation);
    expect(await replicaSetHashes()).toEqual(hashes);

    upgrade(['operator.logLevel=debug'], ['--wait', '--timeout', '120s']);
    const after = await getDeployment();
    expect(after.metadata.generation).toBeGreaterThan(before.metadata.generation!);
    expect(after.spec.template.spec.containers[0]!.env.find((e) => e.name === 'LOG_LEVEL')?.value).toBe('debug');
    const newHashes = await replicaSetHashes();
    expect(newHashes.length).toBe(hashes.length + 1);
    await waitUntil(
      'new pods Available',
      async () => {
        const d = await getDeployment();
        return available(d) && d.status?.updatedReplicas === 1 && d.status?.observedGeneration === d.metadata.generation;
      },
      { timeoutMs: 60_000 },
    );
  });

  it('deletes the platform when disabled, and uninstall keeps the CRD', async () => {
    upgrade(['platform.enabled=false']);
    await waitUntil(
      'platform finalized and gone',
      async () => client.get(RESOURCES.HuntMasterPlatform, ns, platformName).then(() => false, isNotFound),
      { timeoutMs: 60_000 },
    );
    operator!.child.kill('SIGTERM');
    await new Promise((resolve) => operator!.child.once('exit', resolve));

    const out = helmCmd(['uninstall', release, '--namespace', ns, '--wait', '--timeout', '120s']);
    expect(out).toMatch(/kept due to the resource policy/);
    expect(out).toContain(CRD_NAME);
    const crd = await client.get(RESOURCES.CustomResourceDefinition, undefined, CRD_NAME);
    expect(crd.metadata.deletionTimestamp).toBeUndefined();
    await expect(getDeployment()).rejects.toSatisfy(isNotFound);
    await expect(client.get(RESOURCES.ServiceAccount, ns, serviceAccount)).rejects.toSatisfy(isNotFound);
    const roles = await client.request<{ items: unknown[] }>('GET', `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/roles`);
    expect(roles.items).toEqual([]);
  });
});
