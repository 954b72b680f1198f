/**
 * The platform observed as a production Prometheus would observe it: Prometheus (built from its Go
 * module, tests/harness/node/images/prometheus) runs in the cluster with Kubernetes service
 * discovery, scraping exactly what the monitoring objects select (the chart's ServiceMonitor for the
 * operator, the one the operator creates for each platform's APIs, translated as prometheus-operator
 * translates them) and evaluating the chart's and the operator's PrometheusRules. Against a live
 * platform with traffic: every panel query of both dashboards returns a series, every rule
 * evaluates, and HuntMasterDependencyDown fires while Redis is down and resolves when it is back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../harness/process.ts';
import { monitoringCrds, renderChart, substituteGrafanaVariables } from '../unit/packaging/support.ts';
import { binaries } from '../harness/paths.ts';
import { interpolate, panelQueries, queryVariables, readDashboards } from './support/dashboards.ts';
import { recordFigure } from './support/figures.ts';
import { apply, kubectl, kubectlJson } from './support/node.ts';
import {
  adminCredentials,
  adminToken,
  createPlatform,
  ensureOperatorInstalled,
  fetchFromPod,
  OPERATOR_NAMESPACE,
  runClientScript,
  startClient,
} from './support/platform.ts';
import { prometheusConfig, ruleFile, type MonitorObject } from './support/prometheus-config.ts';
import { instantQueries, instantQuery, prometheusGet, removeDiscoveryRbac, startPrometheus } from './support/prometheus.ts';

const ns = 'observe';
const platform = 'hm';
/** Short intervals (set as a user sets them, in the values and the CR), so data and alerts come quickly. */
const SCRAPE_INTERVAL = '5s';
const EVALUATION_INTERVAL = '5s';
/** The chart's HuntMasterDependencyDown waits 5m; the test sets its own through prometheusRule.alertFor. */
const DEPENDENCY_DOWN_FOR = '30s';
const discovered = [ns, OPERATOR_NAMESPACE];
const CRD_NAMES = monitoringCrds().map((c) => c.metadata.name);

let ruleCount = 0;

/** waitUntil, probing every intervalMs: each probe is a kubectl exec, and the machine is shared. */
function waitFor(what: string, probe: () => Promise<boolean>, o: { timeoutMs: number; intervalMs: number }): Promise<void> {
  return waitUntil(
    what,
    async () => {
      if (await probe()) return true;
      await new Promise((r) => setTimeout(r, o.intervalMs));
      return false;
    },
    { timeoutMs: o.timeoutMs },
  );
}

async function monitoringObjects(kind: 'servicemonitors' | 'prometheusrules'): Promise<MonitorObject[]> {
  return (await kubectlJson(['-n', ns, 'get', kind])).items as MonitorObject[];
}

async function setReplicas(namespace: string, kind: 'deployment' | 'statefulset', name: string, replicas: number): Promise<void> {
  await kubectl(['-n', namespace, 'scale', `${kind}/${name}`, `--replicas=${replicas}`]);
}

/** The state of an alert about this platform's Redis (inactive when it is not in /api/v1/alerts). */
async function redisAlertState(name: string): Promise<string> {
  const [body] = await prometheusGet(ns, ['/api/v1/alerts']);
  const alerts = (body.data.alerts as any[]).filter(
    (a) => a.labels.alertname === name && a.labels.namespace === ns && a.labels.dependency === 'redis',
  );
  return alerts.find((a) => a.state === 'firing')?.state ?? alerts[0]?.state ?? 'inactive';
}

describe('the platform observed by Prometheus in the cluster', () => {
  beforeAll(async () => {
    await ensureOperatorInstalled();
    // The monitoring.coreos.com kinds, as kube-prometheus-stack would install them: the operator then
    // creates the platform's ServiceMonitor and PrometheusRule (it asks the API server once a minute).
    await apply(monitoringCrds());
    await kubectl(['wait', '--for=condition=Established', '--timeout=60s', ...CRD_NAMES.map((n) => `crd/${n}`)]);
    // Backups on, as in production: the operator then reports their age (the dashboards show it).
    await createPlatform(ns, platform, {
      postgres: { backup: { enabled: true } },
      monitoring: { serviceMonitor: { enabled: true, interval: SCRAPE_INTERVAL }, prometheusRule: { enabled: true } },
    });
    await waitFor(
      `the operator's ServiceMonitor and PrometheusRule in ${ns}`,
      async () => (await monitoringObjects('servicemonitors')).length > 0 && (await monitoringObjects('prometheusrules')).length > 0,
      { timeoutMs: 150_000, intervalMs: 2_000 },
    );

    // The chart's own monitoring objects, rendered with monitoring on for the installed release.
    const chart = renderChart(binaries.helm(), {
      release: 'huntmaster',
      namespace: OPERATOR_NAMESPACE,
      set: [
        'metrics.serviceMonitor.enabled=true',
        `metrics.serviceMonitor.interval=${SCRAPE_INTERVAL}`,
        `metrics.serviceMonitor.scrapeTimeout=${SCRAPE_INTERVAL}`,
        'prometheusRule.enabled=true',
        // A user's own pending time, so the alert fires within a minute rather than the default five.
        `prometheusRule.alertFor.HuntMasterDependencyDown=${DEPENDENCY_DOWN_FOR}`,
      ],
    }) as unknown as MonitorObject[];
    const monitors = [...chart.filter((o) => o.kind === 'ServiceMonitor'), ...(await monitoringObjects('servicemonitors'))];
    const rules = [...chart.filter((o) => o.kind === 'PrometheusRule'), ...(await monitoringObjects('prometheusrules'))];
    expect(monitors).toHaveLength(2);
    expect(rules).toHaveLength(2);
    const ruleFiles = Object.fromEntries(rules.map((r) => [`${r.metadata.name}.rules.yaml`, ruleFile(r)]));
    ruleCount = Object.values(ruleFiles).reduce((n, f) => n + f.groups.reduce((m: number, g: any) => m + g.rules.length, 0), 0);

    await startClient(ns);
    await startPrometheus(ns, {
      config: prometheusConfig({
        monitors,
        ruleFiles: Object.keys(ruleFiles).map((f) => `/etc/prometheus/${f}`),
        scrapeInterval: SCRAPE_INTERVAL,
        evaluationInterval: EVALUATION_INTERVAL,
      }),
      ruleFiles,
      discoveredNamespaces: discovered,
    });
  });

  afterAll(async () => {
    // Whatever the alert test did, the operator runs again for the files after this one.
    await setReplicas(OPERATOR_NAMESPACE, 'deployment', 'huntmaster-operator', 1).catch(() => undefined);
    await removeDiscoveryRbac(ns, discovered);
    await kubectl(['delete', 'namespace', ns, '--wait=false', '--ignore-not-found']);
    await kubectl(['delete', 'crd', ...CRD_NAMES, '--ignore-not-found', '--wait=false']);
  });

  it('scrapes the operator and both APIs, found through the Kubernetes API as the ServiceMonitors select them', async () => {
    const wanted = [`${platform}-content-bridge`, `${platform}-ml-server`, 'huntmaster-operator-metrics'];
    let up: any[] = [];
    await waitFor(
      'every target scraped and up',
      async () => {
        up = await instantQuery(ns, 'up == 1');
        return wanted.every((job) => up.some((s) => s.metric.job === job));
      },
      { timeoutMs: 60_000, intervalMs: 2_000 },
    ).catch((err: Error) => {
      throw new Error(`${err.message}; up: ${JSON.stringify(up.map((s) => s.metric))}`, { cause: err });
    });
    const byJob = (job: string) => up.filter((s) => s.metric.job === job).map((s) => s.metric);
    expect(byJob(`${platform}-content-bridge`)[0]).toMatchObject({
      namespace: ns,
      service: `${platform}-content-bridge`,
      endpoint: 'http',
    });
    expect(byJob('huntmaster-operator-metrics')[0]).toMatchObject({ namespace: OPERATOR_NAMESPACE, endpoint: 'http-metrics' });
    // Exactly these: the selectors keep nothing else (not Prometheus, not PostgreSQL, not the client).
    expect(new Set(up.map((s) => s.metric.job))).toEqual(new Set(wanted));
  });

  it('answers every query of every panel of both dashboards with at least one series, after real traffic', async () => {
    const { email, password } = await adminCredentials(ns, platform);
    const flow = await runClientScript(ns, 'user-flow.mjs', {
      CONTENT_BRIDGE_URL: `http://${platform}-content-bridge.${ns}.svc:8090`,
      ML_SERVER_URL: `http://${platform}-ml-server.${ns}.svc:8010`,
      ADMIN_EMAIL: email,
      ADMIN_PASSWORD: password,
    }).result;
    expect(flow.ok, JSON.stringify(flow)).toBe(true);
    // What a dashboard shows beyond the flow: repeated predictions (cache hits) and a refused one.
    const token = await adminToken(ns, platform);
    const predict = (model: string) =>
      fetchFromPod(ns, `http://${platform}-ml-server.${ns}.svc:8010/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({
          model,
          alias: 'production',
          inputs: [
            { active_days: 3, events_per_active_day: 2, minutes_per_active_day: 5, avg_score: 60, days_inactive: 4, touched_ratio: 0.5 },
          ],
        }),
      });
    for (let i = 0; i < 3; i++) expect((await predict(flow.training.model)).status).toBe(200);
    expect((await predict('no-such-model')).status).toBe(404);
    // Two scrapes after the traffic, so every rate() has two samples that saw it.
    await new Promise((r) => setTimeout(r, 12_000));

    const empty: string[] = [];
    let checked = 0;
    for (const [file, dashboard] of Object.entries(readDashboards())) {
      // Each variable as Grafana resolves it: its options from label_values, the platform's (or
      // the operator's) namespace chosen, All where the variable offers All.
      const values: Record<string, string> = {};
      for (const v of queryVariables(dashboard)) {
        const selector = interpolate(v.selector, values);
        const [options] = await prometheusGet(ns, [`/api/v1/label/${v.label}/values?match[]=${encodeURIComponent(selector)}`]);
        const choices = options.data as string[];
        if (v.allValue !== undefined) values[v.name] = v.allValue;
        else {
          const wanted = file === 'operator.json' ? OPERATOR_NAMESPACE : ns;
          expect(choices, `${file}: variable ${v.name} offers ${wanted}`).toContain(wanted);
          values[v.name] = wanted;
        }
        expect(choices.length, `${file}: variable ${v.name} (${selector}) has options`).toBeGreaterThan(0);
      }
      const queries = panelQueries(file, dashboard);
      const results = await instantQueries(
        ns,
        queries.map((q) => substituteGrafanaVariables(interpolate(q.expr, values))),
      );
      queries.forEach((q, i) => {
        checked++;
        if (results[i]!.series.length === 0)
          empty.push(`${q.dashboard} "${q.panel}" ${q.refId}: ${results[i]!.error ?? 'no series'} for ${interpolate(q.expr, values)}`);
      });
    }
    expect(checked).toBeGreaterThan(40);
    expect(empty, `panel queries without data:\n${empty.join('\n')}`).toEqual([]);
  });

  it('evaluates every alert rule of both PrometheusRules without error', async () => {
    let rules: any[] = [];
    await waitFor(
      'every rule evaluated once',
      async () => {
        const [body] = await prometheusGet(ns, ['/api/v1/rules']);
        rules = (body.data.groups as any[]).flatMap((g) => g.rules.map((r: any) => ({ group: g.name, ...r })));
        return rules.length === ruleCount && rules.every((r) => r.lastEvaluation && !r.lastEvaluation.startsWith('0001'));
      },
      { timeoutMs: 60_000, intervalMs: 2_000 },
    );
    expect(rules.map((r) => r.name)).toContain('HuntMasterDependencyDown');
    const failing = rules.filter((r) => r.health !== 'ok').map((r) => `${r.group}/${r.name}: ${r.health} ${r.lastError ?? ''}`);
    expect(failing).toEqual([]);
  });

  it('fires HuntMasterDependencyDown while Redis is down and resolves it when Redis is back', { timeout: 15 * 60_000 }, async () => {
    expect(await redisAlertState('HuntMasterDependencyDown')).toBe('inactive');
    // The operator repairs a scaled-down StatefulSet at once: it is stopped first (as for maintenance),
    // and its return is what brings Redis back.
    await setReplicas(OPERATOR_NAMESPACE, 'deployment', 'huntmaster-operator', 0);
    const operatorPods = () =>
      kubectl([
        '-n',
        OPERATOR_NAMESPACE,
        'get',
        'pods',
        '-l',
        'app.kubernetes.io/name=huntmaster,app.kubernetes.io/component=operator',
        '-o',
        'name',
      ]);
    await waitFor('the operator pod gone', async () => (await operatorPods()).trim() === '', { timeoutMs: 90_000, intervalMs: 1_000 });
    const stopped = Date.now();
    await setReplicas(ns, 'statefulset', `${platform}-redis`, 0);

    await waitFor('HuntMasterDependencyDown pending', async () => (await redisAlertState('HuntMasterDependencyDown')) !== 'inactive', {
      timeoutMs: 120_000,
      intervalMs: 2_000,
    });
    recordFigure('Redis stopped → HuntMasterDependencyDown pending', Date.now() - stopped);
    // It fires DEPENDENCY_DOWN_FOR after it went pending, for both APIs (each uses Redis, each reports it down).
    const apis = [`${platform}-content-bridge`, `${platform}-ml-server`];
    const firingJobs = async () =>
      (await instantQuery(ns, `ALERTS{alertname="HuntMasterDependencyDown",alertstate="firing",namespace="${ns}",dependency="redis"}`))
        .map((s) => s.metric.job as string)
        .sort();
    let firing: string[] = [];
    await waitFor('HuntMasterDependencyDown firing for both APIs', async () => (firing = await firingJobs()).length === apis.length, {
      timeoutMs: 3 * 60_000,
      intervalMs: 5_000,
    });
    recordFigure(`Redis stopped → HuntMasterDependencyDown firing (for: ${DEPENDENCY_DOWN_FOR})`, Date.now() - stopped);
    expect(firing).toEqual(apis);

    const restarted = Date.now();
    await setReplicas(OPERATOR_NAMESPACE, 'deployment', 'huntmaster-operator', 1);
    await waitFor('HuntMasterDependencyDown resolved', async () => (await redisAlertState('HuntMasterDependencyDown')) === 'inactive', {
      timeoutMs: 180_000,
      intervalMs: 2_000,
    });
    recordFigure('operator back (restores Redis) → HuntMasterDependencyDown resolved', Date.now() - restarted);
    const sts = await kubectlJson(['-n', ns, 'get', 'statefulset', `${platform}-redis`]);
    expect(sts.spec.replicas).toBe(1);
  });

  it('stays Ready when the monitoring CRDs go: the next change skips the monitoring objects at once, without waiting out a backoff', async () => {
    await kubectl(['delete', 'crd', ...CRD_NAMES, '--wait=true']);
    // A spec change makes the operator apply the ServiceMonitor again, a minute at most after it last
    // saw the kind served: the API server answers 404, and the operator must look again.
    await kubectl([
      '-n',
      ns,
      'patch',
      'hmp',
      platform,
      '--type=merge',
      '-p',
      JSON.stringify({ spec: { monitoring: { serviceMonitor: { interval: '10s' } } } }),
    ]);
    let ready: any;
    await waitFor(
      'Ready, with the ServiceMonitor and the PrometheusRule skipped',
      async () => {
        const hmp = await kubectlJson(['-n', ns, 'get', 'hmp', platform]);
        ready = hmp.status?.conditions?.find((c: any) => c.type === 'Ready');
        return (
          hmp.status?.observedGeneration === hmp.metadata.generation &&
          ready?.status === 'True' &&
          /PrometheusRule skipped/.test(ready.message)
        );
      },
      { timeoutMs: 45_000, intervalMs: 1_000 },
    ).catch((err: Error) => {
      throw new Error(`${err.message}: ${JSON.stringify(ready)}`, { cause: err });
    });
    expect(ready.message).toMatch(/ServiceMonitor skipped because monitoring\.coreos\.com CRDs are missing/);
  });
});
