/** The operator's metrics, under controller-runtime's names so existing dashboards and alerts work. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { QueueMetrics } from './workqueue.ts';

export function createOperatorMetrics(controller: string) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const r = [registry];
  const reconcileTotal = new Counter({
    name: 'controller_runtime_reconcile_total',
    help: 'Total number of reconciliations per controller',
    labelNames: ['controller', 'result'],
    registers: r,
  });
  const reconcileErrors = new Counter({
    name: 'controller_runtime_reconcile_errors_total',
    help: 'Total number of reconciliation errors per controller',
    labelNames: ['controller'],
    registers: r,
  });
  const reconcileTime = new Histogram({
    name: 'controller_runtime_reconcile_time_seconds',
    help: 'Length of time per reconciliation per controller',
    labelNames: ['controller'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: r,
  });
  const activeWorkers = new Gauge({
    name: 'controller_runtime_active_workers',
    help: 'Number of currently used workers per controller',
    labelNames: ['controller'],
    registers: r,
  });
  const maxWorkers = new Gauge({
    name: 'controller_runtime_max_concurrent_reconciles',
    help: 'Maximum number of concurrent reconciles per controller',
    labelNames: ['controller'],
    registers: r,
  });
  const depth = new Gauge({ name: 'workqueue_depth', help: 'Current depth of workqueue', labelNames: ['name'], registers: r });
  const adds = new Counter({
    name: 'workqueue_adds_total',
    help: 'Total number of adds handled by workqueue',
    labelNames: ['name'],
    registers: r,
  });
  const latencyBuckets = [0.001, 0.01, 0.1, 1, 10, 100, 1000];
  const queueDuration = new Histogram({
    name: 'workqueue_queue_duration_seconds',
    help: 'How long in seconds an item stays in workqueue before being requested',
    labelNames: ['name'],
    buckets: latencyBuckets,
    registers: r,
  });
  const workDuration = new Histogram({
    name: 'workqueue_work_duration_seconds',
    help: 'How long in seconds processing an item from workqueue takes',
    labelNames: ['name'],
    buckets: latencyBuckets,
    registers: r,
  });
  const retries = new Counter({
    name: 'workqueue_retries_total',
    help: 'Total number of retries handled by workqueue',
    labelNames: ['name'],
    registers: r,
  });
  const restRequests = new Counter({
    name: 'rest_client_requests_total',
    help: 'Number of HTTP requests, partitioned by status code and method',
    labelNames: ['code', 'method'],
    registers: r,
  });
  const platformReady = new Gauge({
    name: 'hma_platform_ready',
    help: 'Whether a HuntMasterPlatform is Ready (1) or not (0)',
    labelNames: ['namespace', 'name'],
    registers: r,
  });
  const platformLastBackup = new Gauge({
    name: 'hma_platform_last_backup_timestamp_seconds',
    help: 'When the last PostgreSQL backup of a HuntMasterPlatform succeeded (until one has, when backups were switched on), as a Unix time',
    labelNames: ['namespace', 'name'],
    registers: r,
  });
  const leader = new Gauge({
    name: 'leader_election_master_status',
    help: 'Whether this replica is the leader',
    labelNames: ['name'],
    registers: r,
  });

  // As controller-runtime and client-go do, the counters a dashboard or an alert rates exist from the
  // start at 0: an operator that never failed shows an error rate of 0, not "no data".
  for (const result of ['success', 'error', 'requeue', 'requeue_after']) reconcileTotal.inc({ controller, result }, 0);
  reconcileErrors.inc({ controller }, 0);
  adds.inc({ name: controller }, 0);
  depth.set({ name: controller }, 0); // a key handed straight to an idle worker never sets it
  retries.inc({ name: controller }, 0);

  // Read at scrape time from the caches: shows the operator's memory follows its platforms, not the cluster.
  let cacheSizes: () => Record<string, number> = () => ({});
  new Gauge({
    name: 'hma_operator_cached_objects',
    help: "Objects in the operator's informer caches, per kind",
    labelNames: ['kind'],
    registers: r,
    collect() {
      this.reset();
      for (const [kind, n] of Object.entries(cacheSizes())) this.set({ kind }, n);
    },
  });

  const queue: QueueMetrics = {
    depth: (n) => depth.set({ name: controller }, n),
    added: () => adds.inc({ name: controller }),
    queued: (s) => queueDuration.observe({ name: controller }, s),
    worked: (s) => workDuration.observe({ name: controller }, s),
    retried: () => retries.inc({ name: controller }),
  };
  return {
    registry,
    queue,
    reconcileTotal,
    reconcileErrors,
    reconcileTime,
    activeWorkers,
    maxWorkers,
    restRequests,
    platformReady,
    platformLastBackup,
    leader,
    observeRequest: (method: string, code: string) => restRequests.inc({ method, code }),
    reportCacheSizes(source: () => Record<string, number>) {
      cacheSizes = source;
    },
  };
}

export type OperatorMetrics = ReturnType<typeof createOperatorMetrics>;
