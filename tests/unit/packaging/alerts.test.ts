/**
 * The chart's PrometheusRule checked by Prometheus itself: promtool (built from Prometheus' Go module
 * by the harness, tools/promtool) runs `check rules` on the rendered rule groups and `test rules`
 * with fixtures/alerts.promtool.yaml, which fires and clears every alert on synthetic series.
 * The dashboards' queries go through the same parser, as recording rules.
 */
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBinaries } from '../../harness/build.ts';
import { binaries } from '../../harness/paths.ts';
import { makeTempDir } from '../../harness/tempdir.ts';
import { CHART, helm, HELM_TIMEOUT_MS, one, renderChart, run, substituteGrafanaVariables } from './support.ts';

const FIXTURE = join(import.meta.dirname, 'fixtures/alerts.promtool.yaml');
let promtool: string;
let groups: Array<{ name: string; rules: Array<Record<string, unknown>> }>;

beforeAll(async () => {
  await ensureBinaries(['prometheus']);
  promtool = binaries.promtool();
  const rule = one(
    renderChart(await helm(), {
      release: 'huntmaster',
      namespace: 'huntmaster-system',
      valuesFiles: [join(CHART, 'ci/monitoring-values.yaml')],
    }),
    'PrometheusRule',
  );
  groups = rule.spec.groups;
}, HELM_TIMEOUT_MS);

function rulesDir(content: object): string {
  const dir = makeTempDir('promtool');
  writeFileSync(join(dir, 'rules.yaml'), stringify(content));
  return dir;
}

describe('promtool', () => {
  it('is Prometheus 3', () => {
    expect(run(promtool, ['--version']).stdout).toMatch(/^promtool, version 3\.\d+\.\d+/);
  });

  it('accepts the rendered rule groups (check rules)', () => {
    const dir = rulesDir({ groups });
    const res = run(promtool, ['check', 'rules', join(dir, 'rules.yaml')]);
    expect(res.status, res.stdout + res.stderr).toBe(0);
    expect(res.stdout).toContain(`SUCCESS: ${groups.flatMap((g) => g.rules).length} rules found`);
  });

  it('fires every alert as the unit tests expect, and only then (test rules)', () => {
    const dir = rulesDir({ groups });
    copyFileSync(FIXTURE, join(dir, 'alerts.promtool.yaml'));
    const res = run(promtool, ['test', 'rules', join(dir, 'alerts.promtool.yaml')]);
    expect(res.status, res.stdout + res.stderr).toBe(0);
    const tested = new Set([...readFileSync(FIXTURE, 'utf8').matchAll(/alertname: (\w+)/g)].map((m) => m[1]));
    for (const r of groups.flatMap((g) => g.rules)) expect(tested, `${r.alert} has a promtool test`).toContain(r.alert);
  });

  it('fails a rule test whose expectation is wrong', () => {
    const dir = rulesDir({ groups });
    writeFileSync(join(dir, 'alerts.promtool.yaml'), readFileSync(FIXTURE, 'utf8').replace('4.975s', '4.9s'));
    expect(run(promtool, ['test', 'rules', join(dir, 'alerts.promtool.yaml')]).status).not.toBe(0);
  });

  it("lets prometheusRule.alertFor replace one alert's pending time and keeps the others'", async () => {
    const rule = one(
      renderChart(await helm(), {
        release: 'huntmaster',
        namespace: 'huntmaster-system',
        valuesFiles: [join(CHART, 'ci/monitoring-values.yaml')],
        set: ['prometheusRule.alertFor.HuntMasterDependencyDown=30s'],
      }),
      'PrometheusRule',
    );
    const pending = (g: typeof groups) => Object.fromEntries(g.flatMap((x) => x.rules).map((r) => [r.alert, r.for]));
    const defaults = pending(groups);
    expect(defaults.HuntMasterDependencyDown).toBe('5m');
    expect(pending(rule.spec.groups)).toEqual({ ...defaults, HuntMasterDependencyDown: '30s' });
  });

  it('rejects a rule that does not parse', () => {
    const dir = rulesDir({ groups: [{ name: 'broken', rules: [{ alert: 'Broken', expr: 'sum(rate(up[5m]) by (job' }] }] });
    expect(run(promtool, ['check', 'rules', join(dir, 'rules.yaml')]).status).not.toBe(0);
  });

  it('parses every dashboard query', () => {
    const dashboards = readdirSync(join(CHART, 'dashboards')).filter((f) => f.endsWith('.json'));
    const rules = dashboards.flatMap((file) => {
      const d = JSON.parse(readFileSync(join(CHART, 'dashboards', file), 'utf8'));
      const panels = d.panels.flatMap((p: any) => [p, ...(p.panels ?? [])]);
      return panels.flatMap((p: any) =>
        (p.targets ?? []).map((t: any) => ({
          record: 'dashboard:query',
          expr: substituteGrafanaVariables(t.expr),
          labels: { panel: p.title },
        })),
      );
    });
    expect(rules.length).toBeGreaterThan(30);
    const dir = rulesDir({ groups: [{ name: 'dashboards', rules }] });
    const res = run(promtool, ['check', 'rules', '--lint=none', join(dir, 'rules.yaml')]);
    expect(res.status, res.stdout + res.stderr).toBe(0);
  });
});
