/**
 * Monitoring: a ServiceMonitor for the two APIs, a PrometheusRule with the platform's alerts and
 * Grafana dashboard ConfigMaps (for the Grafana sidecar, label grafana_dashboard: "1").
 * The prometheus-operator kinds are only built when enabled AND their CRDs exist; otherwise a
 * SkippedNote says why, for the reconciler to put into a condition message.
 */
import type { V1ConfigMap } from '@kubernetes/client-node';
import { HTTP_PATHS, LABELS, MANAGED_BY, METRICS } from './constants.ts';
import type { BuildInput } from './context.ts';
import { platformDashboard } from './dashboards.ts';
import { childMeta } from './labels.ts';
import { labelValue } from './names.ts';
import type { Child, SkippedNote } from './types.ts';

export const MONITORING_API_VERSION = 'monitoring.coreos.com/v1';

export function serviceMonitorActive(input: BuildInput): boolean {
  return input.spec.monitoring.serviceMonitor.enabled && input.ctx.capabilities?.serviceMonitor === true;
}

function crdMissing(kind: string, plural: string): SkippedNote {
  return {
    kind,
    reason: 'CRDMissing',
    message: `${kind} skipped because monitoring.coreos.com CRDs are missing (${plural}.monitoring.coreos.com not installed)`,
  };
}

export function serviceMonitor(input: BuildInput): Child {
  const { cr, spec, names } = input;
  const sm = spec.monitoring.serviceMonitor;
  return {
    apiVersion: MONITORING_API_VERSION,
    kind: 'ServiceMonitor',
    metadata: childMeta(cr, names.serviceMonitor, 'monitoring', { version: spec.version, labels: sm.labels }),
    spec: {
      // The API Services; the `job` label of the scraped series is the Service name.
      selector: {
        matchLabels: { [LABELS.instance]: labelValue(cr.metadata.name), [LABELS.component]: 'api', [LABELS.managedBy]: MANAGED_BY },
      },
      namespaceSelector: { matchNames: [cr.metadata.namespace] },
      endpoints: [{ port: 'http', path: HTTP_PATHS.metrics, interval: sm.interval }],
    },
  } as Child;
}

/** The alerting rules. Selectors pin the namespace and this CR's object names. */
export function prometheusRule(input: BuildInput): Child {
  const { cr, spec, names } = input;
  const ns = cr.metadata.namespace;
  const jobs = `${names.contentBridge}|${names.mlServer}`;
  const sel = `namespace="${ns}",job=~"${jobs}"`;
  const pvcs = `data-(${names.postgres}|${names.redis}|${names.minio})-0`;
  const alert = (
    name: string,
    expr: string,
    forDuration: string,
    severity: 'critical' | 'warning',
    summary: string,
    description: string,
  ) => ({
    alert: name,
    expr,
    for: forDuration,
    labels: { severity, huntmaster_instance: cr.metadata.name },
    annotations: { summary, description },
  });
  return {
    apiVersion: MONITORING_API_VERSION,
    kind: 'PrometheusRule',
    metadata: childMeta(cr, names.prometheusRule, 'monitoring', { version: spec.version, labels: spec.monitoring.prometheusRule.labels }),
    spec: {
      groups: [
        {
          name: `huntmaster.${ns}.${cr.metadata.name}`,
          rules: [
            alert(
              'HuntMasterApiDown',
              `max by (namespace, job) (up{${sel}}) == 0`,
              '5m',
              'critical',
              'A Hunt Master API has no reachable pod',
              'Prometheus cannot scrape any pod of {{ $labels.job }} in {{ $labels.namespace }}.',
            ),
            alert(
              'HuntMasterApiReplicasUnavailable',
              `kube_deployment_status_replicas_available{namespace="${ns}",deployment=~"${jobs}"} < kube_deployment_spec_replicas{namespace="${ns}",deployment=~"${jobs}"}`,
              '15m',
              'warning',
              'A Hunt Master API runs with fewer available replicas than desired',
              '{{ $labels.deployment }} in {{ $labels.namespace }} has had unavailable replicas for 15 minutes.',
            ),
            alert(
              'HuntMasterApiHighErrorRate',
              `sum by (namespace, job) (rate(${METRICS.requests}{${sel},${METRICS.statusLabel}=~"5.."}[5m])) / sum by (namespace, job) (rate(${METRICS.requests}{${sel}}[5m])) > 0.05`,
              '10m',
              'warning',
              'More than 5% of a Hunt Master API’s requests fail',
              '{{ $labels.job }} answers {{ $value | humanizePercentage }} of requests with a 5xx status.',
            ),
            alert(
              'HuntMasterApiHighLatency',
              `histogram_quantile(0.95, sum by (namespace, job, le) (rate(${METRICS.duration}_bucket{${sel}}[5m]))) > 1`,
              '10m',
              'warning',
              'A Hunt Master API is slow',
              'The 95th percentile latency of {{ $labels.job }} is above 1s.',
            ),
            alert(
              'HuntMasterMigrationFailed',
              `kube_job_status_failed{namespace="${ns}",job_name=~"${cr.metadata.name}-migrate-.*"} > 0`,
              '0m',
              'warning',
              'A Hunt Master database migration failed',
              'Job {{ $labels.job_name }} failed; the platform keeps running the previous version.',
            ),
            alert(
              'HuntMasterVolumeFillingUp',
              `kubelet_volume_stats_available_bytes{namespace="${ns}",persistentvolumeclaim=~"${pvcs}"} / kubelet_volume_stats_capacity_bytes{namespace="${ns}",persistentvolumeclaim=~"${pvcs}"} < 0.1`,
              '15m',
              'warning',
              'A Hunt Master data volume is more than 90% full',
              'PVC {{ $labels.persistentvolumeclaim }} has {{ $value | humanizePercentage }} free; raise its storage size in the HuntMasterPlatform.',
            ),
          ],
        },
      ],
    },
  } as Child;
}

/** One ConfigMap per dashboard in ctx.dashboards (file name → JSON), each with a uid of the platform's own. */
export function grafanaDashboards(input: BuildInput): Child<V1ConfigMap>[] {
  const { cr, spec, names, ctx } = input;
  if (!spec.monitoring.grafanaDashboards.enabled) return [];
  return Object.entries(ctx.dashboards ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([file, json]) => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: childMeta(cr, names.dashboard(file), 'monitoring', {
        version: spec.version,
        labels: { grafana_dashboard: '1' },
        annotations: { grafana_folder: 'Hunt Master Academy' },
      }),
      data: { [file.endsWith('.json') ? file : `${file}.json`]: platformDashboard(json, file, cr) },
    }));
}

export function monitoringObjects(input: BuildInput): { objects: Child[]; skipped: SkippedNote[] } {
  const { spec, ctx } = input;
  const objects: Child[] = [];
  const skipped: SkippedNote[] = [];
  if (spec.monitoring.serviceMonitor.enabled) {
    if (ctx.capabilities?.serviceMonitor) objects.push(serviceMonitor(input));
    else skipped.push(crdMissing('ServiceMonitor', 'servicemonitors'));
  }
  if (spec.monitoring.prometheusRule.enabled) {
    if (ctx.capabilities?.prometheusRule) objects.push(prometheusRule(input));
    else skipped.push(crdMissing('PrometheusRule', 'prometheusrules'));
  }
  const dashboards = grafanaDashboards(input);
  if (spec.monitoring.grafanaDashboards.enabled && dashboards.length === 0) {
    skipped.push({
      kind: 'ConfigMap',
      reason: 'NoDashboards',
      message: 'Grafana dashboards enabled, but the operator was given no dashboards',
    });
  }
  objects.push(...dashboards);
  return { objects, skipped };
}
