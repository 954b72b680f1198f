/**
 * The Grafana dashboards (charts/huntmaster/dashboards, the one copy: the chart's ConfigMaps and the
 * operator's DASHBOARDS_DIR both read it) and the chart's alert expressions:
 * - provisioning rules: fixed uid, a `datasource` variable used by every target, no __inputs/${DS_...},
 *   $__rate_interval in every range;
 * - every query parses with Prometheus' PromQL grammar and names only series the code exports
 *   (prom-client constructors in services/ and operator/, prom-client's default metrics, `up`).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CHART,
  declaredMetrics,
  exportedSeries,
  find,
  helm,
  HELM_TIMEOUT_MS,
  promqlMetricNames,
  renderChart,
  unknownMetrics,
} from './support.ts';

const DIR = join(CHART, 'dashboards');
const files = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .sort();
const DS = { type: 'prometheus', uid: '${datasource}' };

interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: unknown;
  targets?: Array<{ expr: string; datasource?: unknown; refId: string }>;
  panels?: Panel[];
  gridPos: { x: number; y: number; w: number; h: number };
}

const panelsOf = (d: { panels: Panel[] }): Panel[] => d.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
const queries = (d: any): Array<{ where: string; expr: string }> => [
  ...panelsOf(d).flatMap((p) => (p.targets ?? []).map((t) => ({ where: `panel "${p.title}" ${t.refId}`, expr: t.expr }))),
  ...d.templating.list
    .filter((v: any) => v.type === 'query')
    .map((v: any) => {
      const q = typeof v.query === 'string' ? v.query : v.query.query;
      const m = /^label_values\((.+),\s*[a-zA-Z_][a-zA-Z0-9_]*\)$/.exec(q);
      if (!m) throw new Error(`variable ${v.name}: only label_values(selector, label) is used, got ${q}`);
      return { where: `variable ${v.name}`, expr: m[1]! };
    }),
];

let exported: Set<string>;
beforeAll(async () => {
  exported = await exportedSeries();
});

it('ships the Platform health and Operator dashboards', () => {
  expect(files).toEqual(['operator.json', 'platform-health.json']);
});

describe.each(files)('%s', (file) => {
  const text = readFileSync(join(DIR, file), 'utf8');
  const d = JSON.parse(text);

  it('has a fixed uid and title (the chart provisions it once per installation), and nothing that breaks sidecar provisioning', () => {
    expect(d.uid).toMatch(/^hma-[a-z0-9-]{1,36}$/);
    expect(d.title).toMatch(/^Hunt Master \/ /);
    expect(d.__inputs).toBeUndefined();
    expect(d.__requires).toBeUndefined();
    expect(text).not.toMatch(/\$\{DS_/);
    expect(d.id ?? null).toBeNull();
  });

  it('is read-only where it is provisioned: edits belong in the file, not in Grafana', () => {
    expect(d.editable).toBe(false);
  });

  it('matches "All" with .+ in every variable that offers it (never .*, which also matches a missing label)', () => {
    const withAll = d.templating.list.filter((v: any) => v.includeAll);
    expect(withAll.length).toBeGreaterThan(0);
    for (const v of withAll) expect(v.allValue, `variable ${v.name}`).toBe('.+');
  });

  it('selects its Prometheus through a datasource variable', () => {
    const variable = d.templating.list.find((v: any) => v.name === 'datasource');
    expect(variable).toMatchObject({ type: 'datasource', query: 'prometheus' });
    for (const v of d.templating.list.filter((x: any) => x.type === 'query')) expect(v.datasource, v.name).toEqual(DS);
  });

  it('uses ${datasource} in every panel and target', () => {
    const withTargets = panelsOf(d).filter((p) => p.type !== 'row' && p.type !== 'text');
    expect(withTargets.length).toBeGreaterThan(8);
    for (const p of withTargets) {
      expect(p.datasource, p.title).toEqual(DS);
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      for (const t of p.targets!) {
        expect(t.datasource, `${p.title} ${t.refId}`).toEqual(DS);
        expect(t.expr.trim(), `${p.title} ${t.refId}`).not.toBe('');
      }
    }
  });

  it('uses $__rate_interval for every range', () => {
    for (const { where, expr } of queries(d)) {
      for (const range of expr.matchAll(/\[([^\]]*)\]/g)) expect(range[1], where).toBe('$__rate_interval');
      if (/\b(rate|irate|increase)\(/.test(expr)) expect(expr, where).toContain('[$__rate_interval]');
    }
  });

  it('queries only series the code exports, in valid PromQL', () => {
    const problems = queries(d).flatMap(({ where, expr }) => {
      try {
        return unknownMetrics(expr, exported).map((m) => `${where}: ${m}`);
      } catch (err) {
        return [`${where}: ${(err as Error).message}`];
      }
    });
    expect(problems).toEqual([]);
  });

  it('lays out panels with unique ids on the 24-column grid', () => {
    const panels = panelsOf(d);
    expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
    for (const p of panels) expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
  });
});

describe('what the dashboards cover', () => {
  const all = (file: string) => queries(JSON.parse(readFileSync(join(DIR, file), 'utf8'))).map((q) => q.expr);

  it('Platform health: rate, error ratio and p50/p99 per service and route, readiness, dependencies, events, predictions', () => {
    const q = all('platform-health.json');
    const has = (re: RegExp) => q.some((e) => re.test(e));
    expect(has(/sum by \(job, method, route\) \(rate\(http_requests_total/)).toBe(true);
    expect(has(/status_code=~"5\.\."/)).toBe(true);
    expect(has(/histogram_quantile\(0\.5, sum by \(job, route, le\) \(rate\(http_request_duration_seconds_bucket/)).toBe(true);
    expect(has(/histogram_quantile\(0\.99, sum by \(job, route, le\) \(rate\(http_request_duration_seconds_bucket/)).toBe(true);
    expect(has(/hma_platform_ready/)).toBe(true);
    expect(has(/^up\{/)).toBe(true);
    expect(has(/min by \(job, dependency\) \(hma_dependency_up/)).toBe(true);
    expect(has(/route=~"\/api\/analytics\/events\|\/api\/xapi\/statements"/)).toBe(true);
    expect(has(/hma_prediction_duration_seconds_bucket/)).toBe(true);
    expect(has(/cached="true"/)).toBe(true);
  });

  it('Operator: reconciles, errors, duration, work queue depth and latency, platforms ready and not, backup age', () => {
    const q = all('operator.json').join('\n');
    for (const metric of [
      'controller_runtime_reconcile_total',
      'controller_runtime_reconcile_errors_total',
      'controller_runtime_reconcile_time_seconds_bucket',
      'workqueue_depth',
      'workqueue_queue_duration_seconds_bucket',
      'hma_platform_ready{job=~"$job"} == 1',
      'hma_platform_ready{job=~"$job"} == 0',
      'time() - max by (namespace, name) (hma_platform_last_backup_timestamp_seconds{job=~"$job"})',
    ]) {
      expect(q).toContain(metric);
    }
  });
});

describe('the metric-name check', () => {
  it('derives the allowed names from the code, defaults included', async () => {
    const declared = declaredMetrics();
    expect(declared.get('http_requests_total')).toBe('counter');
    expect(declared.get('http_request_duration_seconds')).toBe('histogram');
    expect(declared.get('hma_platform_ready')).toBe('gauge');
    expect(exported.has('http_request_duration_seconds_bucket')).toBe(true);
    expect(exported.has('process_resident_memory_bytes')).toBe(true);
    expect(exported.has('nodejs_eventloop_lag_p99_seconds')).toBe(true);
  });

  it('rejects a metric the code does not export, and a query that does not parse', () => {
    expect(unknownMetrics('sum(rate(hma_not_exported_total[$__rate_interval]))', exported)).toEqual(['hma_not_exported_total']);
    expect(unknownMetrics('{__name__="probe_success"} == 0', exported)).toEqual(['probe_success']);
    expect(() => promqlMetricNames('sum(rate(http_requests_total[5m]) by (job')).toThrow(/syntax error/);
  });
});

describe('the chart', () => {
  let helmBin: string;
  beforeAll(async () => {
    helmBin = await helm();
  }, HELM_TIMEOUT_MS);

  it('ships each dashboard unchanged in a ConfigMap labelled grafana_dashboard: "1"', () => {
    const cms = find(renderChart(helmBin, { set: ['dashboards.enabled=true'] }), 'ConfigMap') as any[];
    expect(cms.map((c) => Object.keys(c.data)[0]).sort()).toEqual(files);
    for (const cm of cms) {
      const [file, json] = Object.entries(cm.data)[0] as [string, string];
      expect(cm.metadata.labels.grafana_dashboard).toBe('1');
      expect(JSON.parse(json)).toEqual(JSON.parse(readFileSync(join(DIR, file), 'utf8')));
    }
  });

  it('alerts only on series the code exports, in valid PromQL', () => {
    const rule = find(renderChart(helmBin, { set: ['prometheusRule.enabled=true'] }), 'PrometheusRule')[0] as any;
    const rules = rule.spec.groups.flatMap((g: any) => g.rules);
    expect(rules.length).toBeGreaterThan(5);
    expect(rules.flatMap((r: any) => unknownMetrics(r.expr, exported).map((m) => `${r.alert}: ${m}`))).toEqual([]);
  });
});
