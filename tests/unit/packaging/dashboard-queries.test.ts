/**
 * How the node tier reads the dashboards (tests/node/support/dashboards.ts): every panel query, and
 * the template variables resolved as Grafana resolves them.
 */
import { describe, expect, it } from 'vitest';
import { interpolate, panelQueries, queryVariables, readDashboards } from '../../node/support/dashboards.ts';

const dashboards = readDashboards();

describe('dashboard queries for the node tier', () => {
  it('finds both dashboards and every target of every panel', () => {
    expect(Object.keys(dashboards).sort()).toEqual(['operator.json', 'platform-health.json']);
    const all = Object.entries(dashboards).flatMap(([file, d]) => panelQueries(file, d));
    const targets = Object.values(dashboards).flatMap((d: any) =>
      d.panels.flatMap((p: any) => [p, ...(p.panels ?? [])]).flatMap((p: any) => p.targets ?? []),
    );
    expect(all).toHaveLength(targets.length);
    expect(all.every((q) => q.expr.length > 0 && q.panel)).toBe(true);
  });

  it('reads the label_values variables in order, with All where offered', () => {
    expect(queryVariables(dashboards['platform-health.json']!)).toEqual([
      { name: 'namespace', selector: 'http_requests_total', label: 'namespace' },
      { name: 'job', selector: 'http_requests_total{namespace="$namespace"}', label: 'job', allValue: '.+' },
      { name: 'route', selector: 'http_requests_total{namespace="$namespace",job=~"$job"}', label: 'route', allValue: '.+' },
    ]);
  });

  it("replaces the dashboard's variables and leaves Grafana's interval variables", () => {
    const expr = 'rate(x{namespace="$namespace",job=~"${job}"}[$__rate_interval])';
    expect(interpolate(expr, { namespace: 'academy', job: '.+' })).toBe('rate(x{namespace="academy",job=~".+"}[$__rate_interval])');
    expect(interpolate(expr, {})).toBe(expr);
  });
});
