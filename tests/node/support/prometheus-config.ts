/**
 * What prometheus-operator would hand Prometheus for our monitoring objects, without
 * prometheus-operator: a ServiceMonitor becomes a scrape config with Kubernetes service discovery
 * (role endpoints, its default) and the relabelings it generates (pkg/prometheus/promcfg.go: keep the
 * selected Services and the named port, label namespace/service/pod/container, job from the Service
 * name or jobLabel, endpoint from the port), and a PrometheusRule becomes a rule file. Pure, so the
 * unit tests check it against the rendered chart and promtool, and the node test cannot drift from it.
 */

interface Selector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }>;
}

interface RelabelConfig {
  sourceLabels?: string[];
  separator?: string;
  targetLabel?: string;
  regex?: string;
  modulus?: number;
  replacement?: string;
  action?: string;
}

interface Endpoint {
  port?: string;
  targetPort?: string | number;
  path?: string;
  scheme?: string;
  interval?: string;
  scrapeTimeout?: string;
  honorLabels?: boolean;
  relabelings?: RelabelConfig[];
  metricRelabelings?: RelabelConfig[];
}

export interface MonitorObject {
  kind?: string;
  metadata: { name: string; namespace?: string };
  spec: {
    selector: Selector;
    namespaceSelector?: { any?: boolean; matchNames?: string[] };
    endpoints?: Endpoint[];
    jobLabel?: string;
    groups?: unknown[];
  };
}

type Relabel = Record<string, unknown>;

/** Kubernetes label names as Prometheus' discovery spells them in meta labels. */
export const sanitizeLabelName = (name: string) => name.replace(/[^a-zA-Z0-9_]/g, '_');

function selectorRelabelings(selector: Selector): Relabel[] {
  const label = (k: string) => `__meta_kubernetes_service_label_${sanitizeLabelName(k)}`;
  const present = (k: string) => `__meta_kubernetes_service_labelpresent_${sanitizeLabelName(k)}`;
  const out: Relabel[] = [];
  for (const k of Object.keys(selector.matchLabels ?? {}).sort())
    out.push({ action: 'keep', source_labels: [label(k), present(k)], regex: `(${selector.matchLabels![k]});true` });
  for (const e of selector.matchExpressions ?? []) {
    const values = `(${(e.values ?? []).join('|')});true`;
    if (e.operator === 'In') out.push({ action: 'keep', source_labels: [label(e.key), present(e.key)], regex: values });
    else if (e.operator === 'NotIn') out.push({ action: 'drop', source_labels: [label(e.key), present(e.key)], regex: values });
    else if (e.operator === 'Exists') out.push({ action: 'keep', source_labels: [present(e.key)], regex: 'true' });
    else if (e.operator === 'DoesNotExist') out.push({ action: 'drop', source_labels: [present(e.key)], regex: 'true' });
    else throw new Error(`unsupported selector operator ${String(e.operator)}`);
  }
  return out;
}

function portRelabeling(ep: Endpoint): Relabel {
  if (ep.port) return { action: 'keep', source_labels: ['__meta_kubernetes_endpoint_port_name'], regex: ep.port };
  if (typeof ep.targetPort === 'number')
    return { action: 'keep', source_labels: ['__meta_kubernetes_pod_container_port_number'], regex: String(ep.targetPort) };
  if (ep.targetPort) return { action: 'keep', source_labels: ['__meta_kubernetes_pod_container_port_name'], regex: ep.targetPort };
  throw new Error('a ServiceMonitor endpoint names neither port nor targetPort');
}

/** The monitoring.coreos.com/v1 relabel config (camelCase) as Prometheus' (snake_case). */
function relabelConfig(r: RelabelConfig): Relabel {
  const out: Relabel = {};
  if (r.sourceLabels) out.source_labels = r.sourceLabels;
  if (r.separator !== undefined) out.separator = r.separator;
  if (r.targetLabel) out.target_label = r.targetLabel;
  if (r.regex !== undefined) out.regex = r.regex;
  if (r.modulus !== undefined) out.modulus = r.modulus;
  if (r.replacement !== undefined) out.replacement = r.replacement;
  if (r.action) out.action = r.action.toLowerCase();
  return out;
}

/** One scrape config per endpoint of a ServiceMonitor, named as prometheus-operator names them. */
export function serviceMonitorScrapeConfigs(sm: MonitorObject): object[] {
  if (sm.kind !== undefined && sm.kind !== 'ServiceMonitor')
    throw new Error(`${sm.kind} ${sm.metadata.name}: only ServiceMonitors are translated`);
  const ns = sm.metadata.namespace;
  if (!ns) throw new Error(`ServiceMonitor ${sm.metadata.name} has no namespace`);
  const namespaces = sm.spec.namespaceSelector?.any ? undefined : { names: sm.spec.namespaceSelector?.matchNames ?? [ns] };
  const targetKind = (kind: string, label: string): Relabel => ({
    source_labels: ['__meta_kubernetes_endpoint_address_target_kind', '__meta_kubernetes_endpoint_address_target_name'],
    separator: ';',
    regex: `${kind};(.*)`,
    replacement: '${1}',
    target_label: label,
  });
  return (sm.spec.endpoints ?? []).map((ep, i) => {
    const job = sm.spec.jobLabel
      ? {
          source_labels: [`__meta_kubernetes_service_label_${sanitizeLabelName(sm.spec.jobLabel)}`],
          target_label: 'job',
          regex: '(.+)',
          replacement: '${1}',
        }
      : { source_labels: ['__meta_kubernetes_service_name'], target_label: 'job', replacement: '${1}' };
    const config: Record<string, unknown> = {
      job_name: `serviceMonitor/${ns}/${sm.metadata.name}/${i}`,
      honor_labels: ep.honorLabels ?? false,
      kubernetes_sd_configs: [{ role: 'endpoints', ...(namespaces ? { namespaces } : {}) }],
      ...(ep.interval ? { scrape_interval: ep.interval } : {}),
      ...(ep.scrapeTimeout ? { scrape_timeout: ep.scrapeTimeout } : {}),
      ...(ep.path ? { metrics_path: ep.path } : {}),
      ...(ep.scheme ? { scheme: ep.scheme } : {}),
      relabel_configs: [
        { source_labels: ['job'], target_label: '__tmp_prometheus_job_name' },
        ...selectorRelabelings(sm.spec.selector),
        portRelabeling(ep),
        targetKind('Node', 'node'),
        targetKind('Pod', 'pod'),
        { source_labels: ['__meta_kubernetes_namespace'], target_label: 'namespace' },
        { source_labels: ['__meta_kubernetes_service_name'], target_label: 'service' },
        { source_labels: ['__meta_kubernetes_pod_name'], target_label: 'pod' },
        { source_labels: ['__meta_kubernetes_pod_container_name'], target_label: 'container' },
        { action: 'drop', source_labels: ['__meta_kubernetes_pod_phase'], regex: '(Failed|Succeeded)' },
        job,
        { target_label: 'endpoint', replacement: ep.port ?? String(ep.targetPort) },
        ...(ep.relabelings ?? []).map(relabelConfig),
      ],
      ...(ep.metricRelabelings?.length ? { metric_relabel_configs: ep.metricRelabelings.map(relabelConfig) } : {}),
    };
    return config;
  });
}

/** A PrometheusRule's groups as a rule file. */
export function ruleFile(rule: MonitorObject): { groups: unknown[] } {
  if (rule.kind !== undefined && rule.kind !== 'PrometheusRule') throw new Error(`${rule.kind} is not a PrometheusRule`);
  return { groups: rule.spec.groups ?? [] };
}

/** prometheus.yml for the monitors, evaluating the rule files at `evaluationInterval`. */
export function prometheusConfig(o: {
  monitors: MonitorObject[];
  ruleFiles: string[];
  scrapeInterval: string;
  evaluationInterval: string;
}): object {
  return {
    global: { scrape_interval: o.scrapeInterval, evaluation_interval: o.evaluationInterval },
    rule_files: o.ruleFiles,
    scrape_configs: o.monitors.flatMap(serviceMonitorScrapeConfigs),
  };
}
