/**
 * Shared by the packaging tests of every tier: rendering the chart with the harness-built helm, the
 * metric names the code exports, PromQL metric extraction, and applying rendered objects to an API
 * server by discovery (the operator's KubeClient only knows the kinds the operator touches).
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parser as promqlParser } from '@prometheus-io/lezer-promql';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { parseAllDocuments } from 'yaml';
import type { KubeClient, KubeObject } from '../../../operator/kube/client.ts';
import { ensureBinaries } from '../../harness/build.ts';
import { binaries, REPO_ROOT } from '../../harness/paths.ts';

export { REPO_ROOT };
export const CHART = join(REPO_ROOT, 'charts/huntmaster');
export const CRD_SOURCE = join(REPO_ROOT, 'crds/platform.huntmaster.academy_huntmasterplatforms.yaml');
/** Builds helm into the cache when missing (a cold build takes minutes; `npm test` prepares it first). */
export const HELM_TIMEOUT_MS = 20 * 60_000;

export async function helm(): Promise<string> {
  await ensureBinaries(['helm']);
  return binaries.helm();
}

/** helm-docs, which reads the `# --` comments of values.yaml (scripts/chart-docs.ts). */
export async function helmDocs(): Promise<string> {
  await ensureBinaries(['helm-docs']);
  return binaries.helmDocs();
}

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): RunResult {
  const res = spawnSync(cmd, args, {
    cwd: opts.cwd ?? REPO_ROOT,
    env: { ...process.env, ...opts.env },
    encoding: 'utf8',
    input: opts.input,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (res.error) throw res.error;
  return { status: res.status ?? -1, stdout: res.stdout, stderr: res.stderr };
}

/** Runs a command and returns stdout; a non-zero exit throws with its output. */
export function runOk(cmd: string, args: string[], opts: Parameters<typeof run>[2] = {}): string {
  const res = run(cmd, args, opts);
  if (res.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${res.status}:\n${res.stderr}\n${res.stdout}`.trim());
  return res.stdout;
}

export interface RenderOptions {
  release?: string;
  namespace?: string;
  valuesFiles?: string[];
  set?: string[];
  extraArgs?: string[];
}

export function helmTemplateArgs(o: RenderOptions = {}): string[] {
  return [
    'template',
    o.release ?? 'huntmaster',
    CHART,
    '--namespace',
    o.namespace ?? 'huntmaster-system',
    ...(o.valuesFiles ?? []).flatMap((f) => ['-f', f]),
    ...(o.set ?? []).flatMap((s) => ['--set', s]),
    ...(o.extraArgs ?? []),
  ];
}

export function parseYamlStream(text: string): KubeObject[] {
  return parseAllDocuments(text)
    .map((d) => {
      if (d.errors.length) throw new Error(`YAML error: ${d.errors[0]!.message}`);
      return d.toJS() as KubeObject | null;
    })
    .filter((o): o is KubeObject => o !== null && typeof o === 'object');
}

/** `helm template` → the rendered objects. */
export function renderChart(helmBin: string, o: RenderOptions = {}): KubeObject[] {
  return parseYamlStream(runOk(helmBin, helmTemplateArgs(o)));
}

export const ciValuesFiles = () =>
  readdirSync(join(CHART, 'ci'))
    .filter((f) => f.endsWith('-values.yaml'))
    .sort()
    .map((f) => join(CHART, 'ci', f));

export const find = (objects: KubeObject[], kind: string, name?: string) =>
  objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));

export function one(objects: KubeObject[], kind: string, name?: string): any {
  const hits = find(objects, kind, name);
  if (hits.length !== 1) throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${hits.length}`);
  return hits[0];
}

// ---------------------------------------------------------------------------------------------
// Metric names the code exports

type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary';

function seriesNames(name: string, type: MetricType): string[] {
  if (type === 'histogram') return [`${name}_bucket`, `${name}_sum`, `${name}_count`];
  if (type === 'summary') return [name, `${name}_sum`, `${name}_count`];
  return [name];
}

function tsFiles(dir: string): string[] {
  return (readdirSync(join(REPO_ROOT, dir), { recursive: true }) as string[])
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(REPO_ROOT, dir, f));
}

const METRIC_NAME = /name:\s*['"`]([a-zA-Z_:][a-zA-Z0-9_:]*)['"`]/;

/**
 * `name: '...'` of every prom-client Counter/Gauge/Histogram/Summary constructed in services/ and
 * operator/, and of the kit's fastCounter/fastHistogram (with a histogram's companion `counter`).
 */
export function declaredMetrics(): Map<string, MetricType> {
  const found = new Map<string, MetricType>();
  for (const file of [...tsFiles('services'), ...tsFiles('operator')]) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/new\s+(?:client\.)?(Counter|Gauge|Histogram|Summary)\b|\b(fastCounter|fastHistogram)\(\{/g)) {
      const declaration = text.slice(m.index, m.index + 400);
      const name = METRIC_NAME.exec(declaration);
      if (!name) continue;
      if (m[1]) found.set(name[1]!, m[1].toLowerCase() as MetricType);
      else found.set(name[1]!, m[2] === 'fastCounter' ? 'counter' : 'histogram');
      const companion = /counter:\s*\{\s*name:\s*['"`]([a-zA-Z_:][a-zA-Z0-9_:]*)['"`]/.exec(declaration);
      if (m[2] === 'fastHistogram' && companion) found.set(companion[1]!, 'counter');
    }
  }
  return found;
}

/** prom-client's default metrics (collectDefaultMetrics), which both APIs and the operator register. */
export async function defaultMetrics(): Promise<Map<string, MetricType>> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const json = await registry.getMetricsAsJSON();
  return new Map(json.map((m) => [m.name, String(m.type) as MetricType]));
}

/**
 * Series Prometheus itself adds to every scrape target. `up` is the one the dashboards and alerts
 * use; it is not exported by our code but by the act of scraping it.
 */
export const PROMETHEUS_SYNTHETIC = ['up'];

/** Every series name a query may use: declared metrics (with histogram suffixes), defaults, `up`. */
export async function exportedSeries(): Promise<Set<string>> {
  const names = new Set<string>(PROMETHEUS_SYNTHETIC);
  for (const [name, type] of [...declaredMetrics(), ...(await defaultMetrics())]) for (const s of seriesNames(name, type)) names.add(s);
  return names;
}

/** Grafana's interval variables, replaced by a duration so the query parses as PromQL. */
export function substituteGrafanaVariables(expr: string): string {
  return expr.replaceAll('$__rate_interval', '5m').replaceAll('$__interval', '1m').replaceAll('$__range', '1h');
}

/**
 * Parses PromQL with Prometheus' own Lezer grammar (@prometheus-io/lezer-promql); throws on a
 * syntax error, returns the metric names of every vector selector (`foo{...}` and `{__name__="foo"}`).
 */
export function promqlMetricNames(expr: string): string[] {
  const tree = promqlParser.parse(expr);
  const names: string[] = [];
  let error: number | undefined;
  tree.iterate({
    enter(node) {
      if (node.type.isError && error === undefined) error = node.from;
      if (node.name === 'Identifier' && node.node.parent?.name === 'VectorSelector') names.push(expr.slice(node.from, node.to));
      if (node.name === 'UnquotedLabelMatcher') {
        const text = expr.slice(node.from, node.to);
        const m = /^__name__\s*=\s*"([^"]+)"$/.exec(text);
        if (m) names.push(m[1]!);
      }
    },
  });
  if (error !== undefined) throw new Error(`PromQL syntax error at ${error}: ${expr.slice(0, error)}⟨here⟩${expr.slice(error)}`);
  return names;
}

/** Metric names used by a query that the code does not export. */
export function unknownMetrics(expr: string, exported: Set<string>): string[] {
  return promqlMetricNames(substituteGrafanaVariables(expr)).filter((n) => !exported.has(n));
}

// ---------------------------------------------------------------------------------------------
// Applying rendered objects to a real API server

/** Maps apiVersion + kind to a REST path by discovery, like kubectl's RESTMapper. */
export class RestMapper {
  private readonly groups = new Map<string, Promise<{ resources: { name: string; kind: string; namespaced: boolean }[] }>>();
  private readonly client: KubeClient;
  constructor(client: KubeClient) {
    this.client = client;
  }

  async path(obj: KubeObject, namespace?: string): Promise<string> {
    const apiVersion = obj.apiVersion!;
    const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    if (!this.groups.has(base)) this.groups.set(base, this.client.request('GET', base));
    let list;
    try {
      list = await this.groups.get(base)!;
    } catch (err) {
      this.groups.delete(base); // e.g. a CRD installed a moment ago: ask again next time
      throw err;
    }
    const resource = list.resources.find((r) => r.kind === obj.kind && !r.name.includes('/'));
    if (!resource) throw new Error(`no resource for ${apiVersion} ${obj.kind}`);
    const ns = obj.metadata.namespace ?? namespace;
    return `${base}${resource.namespaced ? `/namespaces/${ns}` : ''}/${resource.name}/${obj.metadata.name}`;
  }
}

/** Server-side apply of one object; `dryRun` runs admission and validation but stores nothing. */
export async function serverSideApply(
  client: KubeClient,
  mapper: RestMapper,
  obj: KubeObject,
  opts: { dryRun?: boolean; namespace?: string; fieldManager?: string } = {},
): Promise<KubeObject> {
  return client.request('PATCH', await mapper.path(obj, opts.namespace), {
    body: obj,
    contentType: 'application/apply-patch+yaml',
    query: {
      fieldManager: opts.fieldManager ?? 'huntmaster-chart-test',
      force: true,
      fieldValidation: 'Strict',
      dryRun: opts.dryRun ? 'All' : undefined,
    },
  });
}

/**
 * Minimal monitoring.coreos.com CRDs (ServiceMonitor, PodMonitor, PrometheusRule) with the fields the
 * chart and the operator set, typed as in prometheus-operator's CRDs. Strict field validation then
 * rejects a misspelt field; prometheus-operator's full schemas accept a superset.
 */
export function monitoringCrds(): KubeObject[] {
  const str = { type: 'string' };
  const strMap = { type: 'object', additionalProperties: str };
  const selector = {
    type: 'object',
    properties: {
      matchLabels: strMap,
      matchExpressions: { type: 'array', items: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
    },
  };
  const endpoint = {
    type: 'object',
    properties: {
      port: str,
      targetPort: { 'x-kubernetes-int-or-string': true },
      path: str,
      scheme: str,
      interval: str,
      scrapeTimeout: str,
      honorLabels: { type: 'boolean' },
      relabelings: { type: 'array', items: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
      metricRelabelings: { type: 'array', items: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
    },
  };
  const namespaceSelector = { type: 'object', properties: { any: { type: 'boolean' }, matchNames: { type: 'array', items: str } } };
  const rule = {
    type: 'object',
    properties: {
      alert: str,
      record: str,
      expr: { 'x-kubernetes-int-or-string': true },
      for: str,
      keep_firing_for: str,
      labels: strMap,
      annotations: strMap,
    },
    required: ['expr'],
  };
  const crd = (plural: string, kind: string, spec: object) => {
    return {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: `${plural}.monitoring.coreos.com` },
      spec: {
        group: 'monitoring.coreos.com',
        names: { plural, kind, listKind: `${kind}List`, singular: kind.toLowerCase() },
        scope: 'Namespaced',
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            schema: { openAPIV3Schema: { type: 'object', properties: { spec }, required: ['spec'] } },
          },
        ],
      },
    } as KubeObject;
  };
  return [
    crd('servicemonitors', 'ServiceMonitor', {
      type: 'object',
      properties: { selector, namespaceSelector, endpoints: { type: 'array', items: endpoint }, jobLabel: str },
      required: ['selector'],
    }),
    crd('podmonitors', 'PodMonitor', {
      type: 'object',
      properties: {
        selector,
        namespaceSelector,
        podMetricsEndpoints: { type: 'array', items: endpoint },
        jobLabel: str,
      },
      required: ['selector'],
    }),
    crd('prometheusrules', 'PrometheusRule', {
      type: 'object',
      properties: {
        groups: {
          type: 'array',
          items: { type: 'object', properties: { name: str, interval: str, rules: { type: 'array', items: rule } }, required: ['name'] },
        },
      },
    }),
  ];
}

/** A kubeconfig (JSON) for the same server as `admin`, authenticated by `token`. */
export function tokenKubeconfig(admin: { server: string; caData?: string }, token: string, user = 'service-account'): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'hma', cluster: { server: admin.server, 'certificate-authority-data': admin.caData } }],
    users: [{ name: user, user: { token } }],
    contexts: [{ name: 'hma', context: { cluster: 'hma', user } }],
    'current-context': 'hma',
  });
}

/** A bound token of a ServiceAccount, from the TokenRequest API, as its pods would get. */
export async function serviceAccountToken(client: KubeClient, namespace: string, name: string): Promise<string> {
  const res = await client.request<{ status: { token: string } }>('POST', `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`, {
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } },
  });
  return res.status.token;
}
