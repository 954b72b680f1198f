/**
 * The queries of the chart's Grafana dashboards, and Grafana's template variables as Grafana resolves
 * them: a query variable's options are `label_values(selector, label)` over the data source, a
 * multi-value variable set to All becomes its allValue. Pure: the node test asks Prometheus.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../harness/paths.ts';

export const DASHBOARDS_DIR = join(REPO_ROOT, 'charts/huntmaster/dashboards');

export interface PanelQuery {
  dashboard: string;
  panel: string;
  refId: string;
  expr: string;
}

export interface QueryVariable {
  name: string;
  /** The metric selector and the label of `label_values(selector, label)`. */
  selector: string;
  label: string;
  /** The value All stands for, when the variable offers All. */
  allValue?: string;
}

interface Dashboard {
  panels?: Array<{ title?: string; targets?: Array<{ refId?: string; expr?: string }>; panels?: Dashboard['panels'] }>;
  templating?: {
    list?: Array<{ name: string; type: string; query?: string | { query?: string }; includeAll?: boolean; allValue?: string }>;
  };
}

export function readDashboards(): Record<string, Dashboard> {
  const files = readdirSync(DASHBOARDS_DIR).filter((f) => f.endsWith('.json'));
  return Object.fromEntries(files.map((f) => [f, JSON.parse(readFileSync(join(DASHBOARDS_DIR, f), 'utf8')) as Dashboard]));
}

/** Every Prometheus query of every panel (rows' nested panels too). */
export function panelQueries(file: string, dashboard: Dashboard): PanelQuery[] {
  const panels = (dashboard.panels ?? []).flatMap((p) => [p, ...(p.panels ?? [])]);
  return panels.flatMap((p) =>
    (p.targets ?? [])
      .filter((t) => t.expr)
      .map((t) => ({ dashboard: file, panel: p.title ?? '(untitled)', refId: t.refId ?? '?', expr: t.expr! })),
  );
}

/** The dashboard's query variables, in the order Grafana resolves them (each may use the ones before). */
export function queryVariables(dashboard: Dashboard): QueryVariable[] {
  return (dashboard.templating?.list ?? [])
    .filter((v) => v.type === 'query')
    .map((v) => {
      const text = typeof v.query === 'string' ? v.query : (v.query?.query ?? '');
      const m = /^label_values\((.+),\s*([a-zA-Z_][a-zA-Z0-9_]*)\)$/.exec(text.trim());
      if (!m) throw new Error(`variable ${v.name}: not a label_values query: ${text}`);
      return { name: v.name, selector: m[1]!, label: m[2]!, ...(v.includeAll ? { allValue: v.allValue ?? '.*' } : {}) };
    });
}

/** Replaces $name and ${name} of the given variables. */
export function interpolate(text: string, values: Record<string, string>): string {
  return text.replace(/\$\{(\w+)\}|\$(\w+)/g, (whole, braced: string | undefined, bare: string | undefined) => {
    const name = braced ?? bare!;
    return name in values ? values[name]! : whole;
  });
}
