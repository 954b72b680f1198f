/**
 * The translation of our ServiceMonitors into Prometheus scrape configs (tests/node/support/
 * prometheus-config.ts), which the node tier's Prometheus runs: the relabelings applied to the
 * discovery labels of our Services keep exactly the Services and ports the monitors select, with
 * prometheus-operator's target labels; promtool accepts the whole configuration with the chart's rules.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { desiredChildren } from '../../../operator/specs/desired.ts';
import { ensureBinaries } from '../../harness/build.ts';
import { binaries } from '../../harness/paths.ts';
import { makeTempDir } from '../../harness/tempdir.ts';
import {
  prometheusConfig,
  ruleFile,
  sanitizeLabelName,
  serviceMonitorScrapeConfigs,
  type MonitorObject,
} from '../../node/support/prometheus-config.ts';
import { fullCr, fullCtx } from '../operator-specs/fixtures.ts';
import { CHART, helm, HELM_TIMEOUT_MS, one, renderChart, run } from './support.ts';

type Labels = Record<string, string>;

/** Prometheus' relabeling (keep, drop, replace; anchored regexes) of one target; undefined when dropped. */
function relabel(labels: Labels, configs: any[]): Labels | undefined {
  const out = { ...labels };
  for (const c of configs) {
    const value = (c.source_labels ?? []).map((l: string) => out[l] ?? '').join(c.separator ?? ';');
    const match = new RegExp(`^(?:${c.regex ?? '(.*)'})$`).exec(value);
    const action = c.action ?? 'replace';
    if (action === 'keep' && !match) return undefined;
    if (action === 'drop' && match) return undefined;
    if (action === 'replace' && match) {
      const replaced = (c.replacement ?? '$1').replace(/\$\{?(\d+)\}?/g, (_: string, i: string) => match[Number(i)] ?? '');
      if (replaced === '') delete out[c.target_label];
      else out[c.target_label] = replaced;
    }
  }
  return Object.fromEntries(Object.entries(out).filter(([k]) => !k.startsWith('__') || k === '__address__'));
}

/** The discovery labels of a ready pod address behind a Service's named port (kubernetes_sd role endpoints). */
function endpointTarget(o: { namespace: string; service: string; serviceLabels: Labels; port: string; pod: string }): Labels {
  const labels: Labels = {
    __address__: '10.0.0.7:8080',
    job: 'the-scrape-config',
    __meta_kubernetes_namespace: o.namespace,
    __meta_kubernetes_service_name: o.service,
    __meta_kubernetes_endpoint_port_name: o.port,
    __meta_kubernetes_endpoint_address_target_kind: 'Pod',
    __meta_kubernetes_endpoint_address_target_name: o.pod,
    __meta_kubernetes_pod_name: o.pod,
    __meta_kubernetes_pod_container_name: 'main',
    __meta_kubernetes_pod_phase: 'Running',
  };
  for (const [k, v] of Object.entries(o.serviceLabels)) {
    labels[`__meta_kubernetes_service_label_${sanitizeLabelName(k)}`] = v;
    labels[`__meta_kubernetes_service_labelpresent_${sanitizeLabelName(k)}`] = 'true';
  }
  return labels;
}

let chartMonitor: MonitorObject;
let chartService: { metadata: { name: string; labels: Labels } };
let chartRule: MonitorObject;
const desired = desiredChildren(fullCr, fullCtx).objects as any[];
const apiMonitor = desired.find((o) => o.kind === 'ServiceMonitor') as MonitorObject;
const apiServices = desired.filter((o) => o.kind === 'Service') as Array<{ metadata: { name: string; labels: Labels } }>;

beforeAll(async () => {
  const objects = renderChart(await helm(), {
    release: 'huntmaster',
    namespace: 'huntmaster-system',
    valuesFiles: [join(CHART, 'ci/monitoring-values.yaml')],
  });
  chartMonitor = one(objects, 'ServiceMonitor');
  chartRule = one(objects, 'PrometheusRule');
  chartService = one(objects, 'Service', 'huntmaster-operator-metrics');
}, HELM_TIMEOUT_MS);

describe('scrape configs from our ServiceMonitors', () => {
  it("keeps the chart's operator metrics Service on http-metrics, with prometheus-operator's labels and honor_labels", () => {
    const [config] = serviceMonitorScrapeConfigs(chartMonitor) as any[];
    expect(config).toMatchObject({
      job_name: 'serviceMonitor/huntmaster-system/huntmaster-operator/0',
      honor_labels: true,
      kubernetes_sd_configs: [{ role: 'endpoints', namespaces: { names: ['huntmaster-system'] } }],
      metrics_path: '/metrics',
      scrape_interval: '15s',
    });
    const target = endpointTarget({
      namespace: 'huntmaster-system',
      service: chartService.metadata.name,
      serviceLabels: chartService.metadata.labels,
      port: 'http-metrics',
      pod: 'huntmaster-operator-abc',
    });
    expect(relabel(target, config.relabel_configs)).toEqual({
      __address__: '10.0.0.7:8080',
      job: 'huntmaster-operator-metrics',
      namespace: 'huntmaster-system',
      service: 'huntmaster-operator-metrics',
      pod: 'huntmaster-operator-abc',
      container: 'main',
      endpoint: 'http-metrics',
    });
    expect(relabel({ ...target, __meta_kubernetes_endpoint_port_name: 'http' }, config.relabel_configs)).toBeUndefined();
  });

  it("keeps both API Services of the operator's ServiceMonitor and nothing else of the platform", () => {
    const [config] = serviceMonitorScrapeConfigs(apiMonitor) as any[];
    expect(config.kubernetes_sd_configs).toEqual([{ role: 'endpoints', namespaces: { names: [fullCr.metadata.namespace] } }]);
    const kept = apiServices
      .map((s) => ({
        service: s.metadata.name,
        labels: relabel(
          endpointTarget({
            namespace: fullCr.metadata.namespace!,
            service: s.metadata.name,
            serviceLabels: s.metadata.labels,
            port: 'http',
            pod: `${s.metadata.name}-0`,
          }),
          config.relabel_configs,
        ),
      }))
      .filter((t) => t.labels);
    const name = fullCr.metadata.name;
    expect(kept.map((t) => t.service).sort()).toEqual([`${name}-content-bridge`, `${name}-ml-server`]);
    expect(kept[0]!.labels).toMatchObject({ job: kept[0]!.service, namespace: fullCr.metadata.namespace, endpoint: 'http' });
  });

  it('refuses what it does not translate rather than scrape something else', () => {
    expect(() => serviceMonitorScrapeConfigs({ ...apiMonitor, kind: 'PodMonitor' })).toThrow(/only ServiceMonitors/);
  });

  it(
    'makes a configuration, with the chart rules, that promtool accepts',
    async () => {
      await ensureBinaries(['prometheus']);
      const dir = makeTempDir('prometheus-config');
      writeFileSync(join(dir, 'chart.rules.yaml'), stringify(ruleFile(chartRule)));
      const config = prometheusConfig({
        monitors: [chartMonitor, apiMonitor],
        ruleFiles: ['chart.rules.yaml'],
        scrapeInterval: '5s',
        evaluationInterval: '5s',
      });
      writeFileSync(join(dir, 'prometheus.yml'), stringify(config));
      const res = run(binaries.promtool(), ['check', 'config', join(dir, 'prometheus.yml')]);
      expect(res.status, res.stdout + res.stderr).toBe(0);
      expect(res.stdout).toMatch(/SUCCESS: \d+ rules found/);
    },
    HELM_TIMEOUT_MS,
  );
});
