/**
 * A platform's own copy of a Grafana dashboard. The chart provisions each dashboard once per
 * installation under its fixed uid (hma-operator, hma-platform-health); every platform with
 * monitoring.grafanaDashboards gets copies under a uid and title of its own, so Grafana never sees
 * two dashboards with one uid (it keeps one and logs the clash) or one title twice in a folder,
 * and each copy opens on its platform's namespace.
 */
import { shortHash } from './hash.ts';
import type { HuntMasterPlatform } from './types.ts';

/** Grafana's limit on a dashboard uid. */
export const GRAFANA_UID_MAX = 40;

export function platformDashboardUid(baseUid: string, cr: HuntMasterPlatform): string {
  const suffix = `-${shortHash(`${cr.metadata.namespace}/${cr.metadata.name}`)}`;
  return `${baseUid.slice(0, GRAFANA_UID_MAX - suffix.length)}${suffix}`;
}

interface Dashboard {
  uid?: string;
  title?: string;
  templating?: { list?: Array<{ name?: string; current?: unknown }> };
  [key: string]: unknown;
}

/** The dashboard JSON with a uid and title of the platform's own, its namespace variable preset. */
export function platformDashboard(json: string, file: string, cr: HuntMasterPlatform): string {
  let dashboard: Dashboard;
  try {
    dashboard = JSON.parse(json) as Dashboard;
  } catch {
    return json; // not ours to fix: Grafana reports it
  }
  const namespace = cr.metadata.namespace!;
  const base = dashboard.uid ?? `hma-${file.replace(/\.json$/, '')}`;
  const variables = dashboard.templating?.list?.map((v) =>
    v.name === 'namespace' ? { ...v, current: { selected: true, text: namespace, value: namespace } } : v,
  );
  return JSON.stringify(
    {
      ...dashboard,
      uid: platformDashboardUid(base, cr),
      title: `${dashboard.title ?? file} (${namespace}/${cr.metadata.name})`,
      ...(variables ? { templating: { ...dashboard.templating, list: variables } } : {}),
    },
    null,
    2,
  );
}
