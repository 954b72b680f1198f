/**
 * The chart against a real kube-apiserver (apiserver tier):
 * - everything it renders, for the defaults and every ci/ variant, passes a server-side dry-run apply
 *   with strict field validation (the monitoring.coreos.com kinds against minimal CRDs);
 * - the samples in manifests/samples validate against the CRD, CEL rules included;
 * - its RBAC is enough: the operator runs in-process with a token of the chart's ServiceAccount (the
 *   TokenRequest API, as a pod would get it) and reconciles a platform with every optional object,
 *   leader election and the PVC deletion policy, without a single 403; and not more: it is refused
 *   what it does not need.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeClient, type KubeObject } from '../../operator/kube/client.ts';
import { isConflict, isNotFound, KubeApiError } from '../../operator/kube/errors.ts';
import { RESOURCES } from '../../operator/kube/resources.ts';
import { startOperator, type RunningOperator } from '../../operator/runtime.ts';
import { waitUntil } from '../harness/index.ts';
import {
  CHART,
  ciValuesFiles,
  helm,
  HELM_TIMEOUT_MS,
  monitoringCrds,
  parseYamlStream,
  renderChart,
  REPO_ROOT,
  RestMapper,
  serverSideApply,
  serviceAccountToken,
  tokenKubeconfig,
} from '../unit/packaging/support.ts';
import { adminKubeConfig, installCrd, platform } from './support/operator.ts';

let helmBin: string;
let admin: KubeClient;
let mapper: RestMapper;

async function ensureNamespace(name: string) {
  await admin.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }).catch((err) => {
    if (!isConflict(err)) throw err;
  });
}

async function establish(crd: KubeObject) {
  await admin.create(crd).catch((err) => {
    if (!isConflict(err)) throw err;
  });
  await waitUntil(
    `${crd.metadata.name} established`,
    async () => {
      const live = await admin.get<any>(RESOURCES.CustomResourceDefinition, undefined, crd.metadata.name);
      return Boolean(live.status?.conditions?.some((c: any) => c.type === 'Established' && c.status === 'True'));
    },
    { timeoutMs: 30_000 },
  );
}

/** A client that is the chart's ServiceAccount, by a bound token from the TokenRequest API. */
async function serviceAccountClient(namespace: string, name: string): Promise<KubeConfig> {
  const cluster = adminKubeConfig().getCurrentCluster()!;
  const kc = new KubeConfig();
  kc.loadFromString(tokenKubeconfig({ server: cluster.server, caData: cluster.caData }, await serviceAccountToken(admin, namespace, name)));
  return kc;
}

const forbidden = (p: Promise<unknown>) =>
  p.then(
    () => false,
    (err) => err instanceof KubeApiError && err.status === 403,
  );

beforeAll(async () => {
  helmBin = await helm();
  admin = new KubeClient(adminKubeConfig());
  mapper = new RestMapper(admin);
  await installCrd(admin);
  for (const crd of monitoringCrds()) await establish(crd);
}, HELM_TIMEOUT_MS);

describe('server-side dry-run apply of everything the chart renders', () => {
  const variants = [undefined, ...ciValuesFiles(), join(REPO_ROOT, 'manifests/dev/values.yaml')];
  it.each(variants.map((f) => [f?.split('/').pop() ?? 'defaults', f]))('%s', async (_name, file) => {
    const namespace = 'chart-dry-run';
    const objects = renderChart(helmBin, { release: 'dry', namespace, valuesFiles: file ? [file] : [] });
    const namespaces = new Set([namespace, ...objects.map((o) => o.metadata.namespace).filter((n): n is string => Boolean(n))]);
    for (const ns of namespaces) await ensureNamespace(ns);
    const kinds = new Set<string>();
    for (const obj of objects) {
      const applied = await serverSideApply(admin, mapper, obj, { dryRun: true, namespace }).catch((err: Error) => {
        throw new Error(`${obj.kind}/${obj.metadata.name}: ${err.message}`, { cause: err });
      });
      expect(applied.metadata.name).toBe(obj.metadata.name);
      kinds.add(obj.kind!);
    }
    expect(kinds).toContain('Deployment');
    if (file?.endsWith('monitoring-values.yaml'))
      for (const k of ['ServiceMonitor', 'PrometheusRule', 'ConfigMap']) expect(kinds).toContain(k);
    if (file?.endsWith('platform-values.yaml')) expect(kinds).toContain('HuntMasterPlatform');
    // Nothing was stored: a dry run leaves the cluster as it was.
    await expect(admin.get(RESOURCES.Deployment, namespace, 'dry-huntmaster-operator')).rejects.toSatisfy(isNotFound);
  });

  it('is refused for a field the API does not know (so the checks above can fail)', async () => {
    await ensureNamespace('chart-dry-run');
    const deployment = renderChart(helmBin, { release: 'dry', namespace: 'chart-dry-run' }).find((o) => o.kind === 'Deployment')!;
    (deployment as any).spec.template.spec.containers[0].livenessProbe.periodSecond = 5;
    await expect(serverSideApply(admin, mapper, deployment, { dryRun: true })).rejects.toThrow(
      /field not declared in schema|unknown field/,
    );
    const rule = renderChart(helmBin, { release: 'dry', namespace: 'chart-dry-run', set: ['prometheusRule.enabled=true'] }).find(
      (o) => o.kind === 'PrometheusRule',
    )!;
    (rule as any).spec.groups[0].rules[0].severity = 'critical';
    await expect(serverSideApply(admin, mapper, rule, { dryRun: true })).rejects.toThrow(/field not declared in schema|unknown field/);
  });
});

describe('manifests/dev (the Tiltfile applies these)', () => {
  it.each(['namespace.yaml', 'platform.yaml', 'nodeports.yaml', 'local-registry-hosting.yaml'])('%s applies cleanly', async (file) => {
    await ensureNamespace('huntmaster'); // the dev namespace, for the dry runs of its objects
    const objects = parseYamlStream(readFileSync(join(REPO_ROOT, 'manifests/dev', file), 'utf8'));
    expect(objects.length).toBeGreaterThan(0);
    for (const obj of objects) await serverSideApply(admin, mapper, obj, { dryRun: true, namespace: 'huntmaster' });
  });
});

describe('manifests/samples', () => {
  const ns = 'chart-samples';
  const sample = (file: string) => parse(readFileSync(join(REPO_ROOT, 'manifests/samples', file), 'utf8')) as KubeObject;

  it.each(['minimal.yaml', 'full.yaml', 'external.yaml'])('%s is a valid HuntMasterPlatform', async (file) => {
    await ensureNamespace(ns);
    const obj = sample(file);
    const created = await admin.request<any>('POST', `/apis/platform.huntmaster.academy/v1alpha1/namespaces/${ns}/huntmasterplatforms`, {
      body: obj,
      query: { dryRun: 'All', fieldValidation: 'Strict' },
    });
    expect(created.spec.version).toBe('0.1.0'); // defaulted or set
    if (file === 'full.yaml') expect(created.spec).toEqual(obj.spec as object); // nothing pruned, nothing defaulted away
  });

  it('are checked by the CRD: an inconsistent spec is refused', async () => {
    await ensureNamespace(ns);
    const bad = sample('full.yaml') as any;
    bad.spec.postgres.mode = 'external'; // external with managed storage and no secretRef
    await expect(
      admin.request('POST', `/apis/platform.huntmaster.academy/v1alpha1/namespaces/${ns}/huntmasterplatforms`, {
        body: bad,
        query: { dryRun: 'All', fieldValidation: 'Strict' },
      }),
    ).rejects.toThrow(/Invalid/);
  });
});

describe("the operator with the chart's RBAC", () => {
  const logger = pino({ level: process.env.TEST_LOG ?? 'silent' });
  const running: RunningOperator[] = [];
  afterAll(async () => {
    for (const op of running) await op.stop();
  });

  /** Applies the chart's ServiceAccount and RBAC objects for real. */
  async function installRbac(release: string, namespace: string, set: string[]) {
    await ensureNamespace(namespace);
    const objects = renderChart(helmBin, { release, namespace, set: ['crds.enabled=false', 'tests.enabled=false', ...set] });
    const rbac = objects.filter((o) => ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'].includes(o.kind!));
    for (const o of rbac) {
      if (o.metadata.namespace) await ensureNamespace(o.metadata.namespace);
      await serverSideApply(admin, mapper, o, { namespace });
    }
    return rbac;
  }

  const forbiddenRequests = async (op: RunningOperator) =>
    (await op.metrics.registry.getSingleMetric('rest_client_requests_total')!.get()).values.filter((v) => String(v.labels.code) === '403');

  it('cluster-wide (ClusterRole): reconciles every optional object, elects a leader, finalizes, with no 403', async () => {
    const ns = 'chart-rbac';
    const rbac = await installRbac('rbac', ns, ['leaderElection.enabled=true', 'leaderElection.leaseName=rbac-lease']);
    expect(rbac.map((o) => o.kind).sort()).toEqual(['ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding', 'ServiceAccount']);
    const kc = await serviceAccountClient(ns, 'rbac-huntmaster-operator');
    const op = await startOperator({
      kubeConfig: kc,
      logger,
      watchNamespaces: [ns], // the other tests' operators own the other namespaces
      concurrency: 2,
      leaderElection: { enabled: true, namespace: ns, name: 'rbac-lease' },
      httpPort: 0,
      dashboardsDir: join(CHART, 'dashboards'),
    });
    running.push(op);
    await admin.create(
      platform(ns, 'full', {
        monitoring: { serviceMonitor: { enabled: true }, prometheusRule: { enabled: true }, grafanaDashboards: { enabled: true } },
        management: { adminer: { enabled: true }, redisCommander: { enabled: true } },
        deletionPolicy: { persistentVolumeClaims: 'Delete' },
      }),
    );
    const exists = (r: (typeof RESOURCES)[keyof typeof RESOURCES], name: string) =>
      admin.get(r, ns, name).then(
        () => true,
        () => false,
      );
    await waitUntil(
      'every optional object reconciled',
      async () =>
        (await exists(RESOURCES.ServiceMonitor, 'full-apis')) &&
        (await exists(RESOURCES.PrometheusRule, 'full-alerts')) &&
        (await exists(RESOURCES.Deployment, 'full-adminer')) &&
        (await admin.list(RESOURCES.Job, ns, { labelSelector: 'app.kubernetes.io/instance=full' })).items.length > 0 &&
        (await admin.list(RESOURCES.ConfigMap, ns, { labelSelector: 'grafana_dashboard=1' })).items.length === 2,
      { timeoutMs: 45_000 },
    ).catch(async (err) => {
      throw new Error(`${err.message}; 403s: ${JSON.stringify(await forbiddenRequests(op))}`);
    });
    const cr = await admin.get<any>(RESOURCES.HuntMasterPlatform, ns, 'full');
    expect(cr.metadata.finalizers).toContain('platform.huntmaster.academy/pvc-retention');
    await waitUntil(
      'status written',
      async () => Boolean((await admin.get<any>(RESOURCES.HuntMasterPlatform, ns, 'full')).status?.conditions),
      {
        timeoutMs: 20_000,
      },
    );
    const lease = await admin.get<any>(RESOURCES.Lease, ns, 'rbac-lease');
    expect(lease.spec.holderIdentity).toBeTruthy();
    expect((await admin.list(RESOURCES.Event, ns)).items.length).toBeGreaterThan(0);
    for (const kind of ['Secret', 'Service', 'StatefulSet', 'NetworkPolicy', 'PodDisruptionBudget'] as const) {
      expect(
        (await admin.list(RESOURCES[kind], ns, { labelSelector: 'app.kubernetes.io/instance=full' })).items.length,
        kind,
      ).toBeGreaterThan(0);
    }

    // deletionPolicy Delete: the finalizer lists and deletes the data PVCs (none are bound here: make one).
    await admin.create({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: {
        name: 'data-full-postgres-0',
        namespace: ns,
        labels: { 'app.kubernetes.io/instance': 'full', 'app.kubernetes.io/managed-by': 'huntmaster-operator' },
      },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
    } as KubeObject);
    await admin.delete(RESOURCES.HuntMasterPlatform, ns, 'full');
    await waitUntil(
      'the platform finalized',
      async () => admin.get(RESOURCES.HuntMasterPlatform, ns, 'full').then(() => false, isNotFound),
      {
        timeoutMs: 30_000,
      },
    );
    const pvc = await admin
      .get(RESOURCES.PersistentVolumeClaim, ns, 'data-full-postgres-0')
      .catch((err) => (isNotFound(err) ? undefined : Promise.reject(err)));
    expect(pvc === undefined || Boolean(pvc.metadata.deletionTimestamp), 'PVC deleted').toBe(true);
    expect(await forbiddenRequests(op)).toEqual([]);
  });

  it('cluster-wide: may list and watch every namespace, and nothing it does not need', async () => {
    const ns = 'chart-rbac';
    const sa = new KubeClient(await serviceAccountClient(ns, 'rbac-huntmaster-operator'));
    for (const r of [RESOURCES.HuntMasterPlatform, RESOURCES.Secret, RESOURCES.Deployment, RESOURCES.Job, RESOURCES.NetworkPolicy]) {
      expect((await sa.list(r)).items, r.kind).toBeDefined(); // all namespaces
    }
    expect(await forbidden(sa.list(RESOURCES.Pod)), 'pods').toBe(true);
    expect(await forbidden(sa.list(RESOURCES.PersistentVolume)), 'persistentvolumes').toBe(true);
    expect(await forbidden(sa.get(RESOURCES.HuntMasterPlatform, ns, 'any')), 'get on the CR (the informer suffices)').toBe(true);
    // PVCs: it grows and deletes them, but creating them is the StatefulSet controller's job.
    expect(
      await forbidden(
        sa.create({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'x', namespace: ns }, spec: {} } as never),
      ),
      'create PVCs',
    ).toBe(true);
    expect(await forbidden(sa.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'chart-rbac-escape' } })), 'namespaces').toBe(
      true,
    );
    expect(await forbidden(sa.get(RESOURCES.Lease, 'kube-system', 'kube-controller-manager')), 'leases elsewhere').toBe(true);
  });

  it('namespaced (watchNamespaces): Roles in the watched namespace are enough, other namespaces are closed', async () => {
    const release = 'chart-ns-op';
    const watched = 'chart-ns-watched';
    await installRbac('nsrbac', release, [`watchNamespaces={${watched}}`]);
    const kc = await serviceAccountClient(release, 'nsrbac-huntmaster-operator');
    const op = await startOperator({
      kubeConfig: kc,
      logger,
      watchNamespaces: [watched],
      concurrency: 2,
      leaderElection: { enabled: false, namespace: release, name: 'unused' },
      httpPort: 0,
      dashboardsDir: join(CHART, 'dashboards'),
    });
    running.push(op);
    await waitUntil('informers synced', async () => op.synced(), { timeoutMs: 20_000 });
    await admin.create(
      platform(watched, 'scoped', { monitoring: { serviceMonitor: { enabled: true }, grafanaDashboards: { enabled: true } } }),
    );
    await waitUntil(
      'reconciled',
      async () =>
        Boolean((await admin.get<any>(RESOURCES.HuntMasterPlatform, watched, 'scoped')).status?.conditions) &&
        (await admin.get(RESOURCES.ServiceMonitor, watched, 'scoped-apis').then(
          () => true,
          () => false,
        )),
      { timeoutMs: 45_000 },
    );
    // deletionPolicy Retain (the default): the finalizer releases the generated Secrets, a patch of their ownerReferences.
    await admin.delete(RESOURCES.HuntMasterPlatform, watched, 'scoped');
    await waitUntil(
      'the platform finalized',
      async () => admin.get(RESOURCES.HuntMasterPlatform, watched, 'scoped').then(() => false, isNotFound),
      {
        timeoutMs: 30_000,
      },
    );
    expect((await admin.get(RESOURCES.Secret, watched, 'scoped-postgres-credentials')).metadata.ownerReferences ?? []).toEqual([]);
    expect(await forbiddenRequests(op)).toEqual([]);
    const sa = new KubeClient(kc);
    expect(await forbidden(sa.list(RESOURCES.Secret)), 'secrets cluster-wide').toBe(true);
    expect(await forbidden(sa.list(RESOURCES.Secret, 'chart-rbac')), 'secrets of another namespace').toBe(true);
    expect((await sa.list(RESOURCES.Secret, watched)).items.length).toBeGreaterThan(0);
  });
});
