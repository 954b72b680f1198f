/**
 * The dashboards a platform gets (monitoring.grafanaDashboards) beside the chart's copy: one Grafana
 * sees the chart's dashboards and every platform's, so no two may share a uid or a title.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GRAFANA_UID_MAX, platformDashboard, platformDashboardUid } from '../../../operator/specs/dashboards.ts';
import { desiredChildren } from '../../../operator/specs/desired.ts';
import type { Child } from '../../../operator/specs/types.ts';
import { platform } from './fixtures.ts';

const DIR = new URL('../../../charts/huntmaster/dashboards/', import.meta.url);
const shipped = Object.fromEntries(
  readdirSync(DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => [f, readFileSync(new URL(f, DIR), 'utf8')]),
);

/** What the operator builds for a platform, as Grafana's sidecar would load it. */
function dashboardsOf(name: string, namespace: string): any[] {
  const cr = platform({ monitoring: { grafanaDashboards: { enabled: true } } }, name, namespace);
  return desiredChildren(cr, { configHash: 'x', dashboards: shipped })
    .objects.filter((o: Child) => o.kind === 'ConfigMap' && o.metadata.labels?.grafana_dashboard === '1')
    .map((cm: any) => JSON.parse(Object.values(cm.data)[0] as string));
}

describe("a platform's dashboards", () => {
  it('never share a uid or a title with the chart’s copy or another platform’s, whatever the names', () => {
    const chart = Object.values(shipped).map((j) => JSON.parse(j));
    const all = [
      ...chart,
      ...dashboardsOf('demo', 'academy'),
      ...dashboardsOf('demo', 'academy-staging'),
      ...dashboardsOf('a'.repeat(60), 'b'.repeat(63)),
    ];
    expect(all).toHaveLength(chart.length * 4);
    const uids = all.map((d) => d.uid);
    expect(new Set(uids).size).toBe(uids.length);
    const titles = all.map((d) => d.title);
    expect(new Set(titles).size).toBe(titles.length);
    for (const uid of uids) expect(uid.length, uid).toBeLessThanOrEqual(GRAFANA_UID_MAX);
  });

  it('keep the shipped uid as a prefix and name their platform in the title', () => {
    const [operator, health] = dashboardsOf('demo', 'academy').sort((a, b) => a.uid.localeCompare(b.uid));
    expect(operator.uid).toMatch(/^hma-operator-[0-9a-f]{8}$/);
    expect(health.uid).toMatch(/^hma-platform-health-[0-9a-f]{8}$/);
    expect(health.title).toBe('Hunt Master / Platform health (academy/demo)');
  });

  it('open on their platform’s namespace, and are otherwise the shipped dashboard', () => {
    const json = shipped['platform-health.json']!;
    const copy = JSON.parse(platformDashboard(json, 'platform-health.json', platform({}, 'demo', 'academy')));
    const original = JSON.parse(json);
    const namespace = copy.templating.list.find((v: any) => v.name === 'namespace');
    expect(namespace.current).toEqual({ selected: true, text: 'academy', value: 'academy' });
    const { uid: _u, title: _t, templating: _v, ...rest } = copy;
    const { uid: _u2, title: _t2, templating: _v2, ...restOriginal } = original;
    expect(rest).toEqual(restOriginal);
    expect(copy.editable).toBe(false);
  });

  it('derive the uid from the namespace and name only: stable across reconciles', () => {
    const cr = platform({}, 'demo', 'academy');
    expect(platformDashboardUid('hma-operator', cr)).toBe(
      platformDashboardUid('hma-operator', platform({ version: '9.9.9' }, 'demo', 'academy')),
    );
  });
});
