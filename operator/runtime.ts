/**
 * Wires the operator together: the watches that queue reconciles (watches.ts), the work queue and
 * workers, leader election, and the HTTP endpoints (/metrics, /livez, /readyz). Tests start it in-process; `main.ts` starts it from the environment.
 */
import { createServer, type Server } from 'node:http';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { Controller } from './controller/controller.ts';
import type { Informer } from './controller/informer.ts';
import { LeaderElector } from './controller/leader.ts';
import { createOperatorMetrics } from './controller/metrics.ts';
import { KubeClient } from './kube/client.ts';
import type { KubeCredentials } from './kube/config.ts';
import { eventRecorder } from './reconcile/events.ts';
import type { ReconcilerDeps } from './reconcile/deps.ts';
import { createReconciler } from './reconcile/reconciler.ts';
import { clusterCache, createWatches, type Informers } from './watches.ts';

export { MANAGED_SELECTOR } from './watches.ts';

export const CONTROLLER_NAME = 'huntmasterplatform';

export interface OperatorOptions {
  /** client-node's KubeConfig will do (tests pass one); main.ts reads its own (kube/config.ts). */
  kubeConfig: KubeCredentials;
  logger: Logger;
  /** Namespaces to watch; empty watches all. */
  watchNamespaces: string[];
  concurrency: number;
  leaderElection: {
    enabled: boolean;
    namespace: string;
    name: string;
    identity?: string;
    leaseDurationSeconds?: number;
    renewDeadlineMs?: number;
    retryPeriodMs?: number;
  };
  /** Port for /metrics, /livez and /readyz; 0 picks a free one, undefined serves nothing. */
  httpPort?: number;
  dashboardsDir?: string;
  resyncMs?: number;
  /** Objects per list page of every informer (default 500). */
  listPageSize?: number;
  onWrite?(verb: string, kind: string, name: string): void;
}

function loadDashboards(dir: string | undefined): Record<string, string> {
  if (!dir || !existsSync(dir)) return {};
  return Object.fromEntries(
    readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => [f, readFileSync(join(dir, f), 'utf8')]),
  );
}

/** Whether the cluster serves the monitoring.coreos.com kinds, asked at most once a minute unless forgotten. */
function monitoringCapabilities(client: KubeClient): Pick<ReconcilerDeps, 'capabilities' | 'forgetCapabilities'> {
  let capabilities = { at: 0, value: { serviceMonitor: false, prometheusRule: false } };
  return {
    async capabilities() {
      if (Date.now() - capabilities.at < 60_000) return capabilities.value;
      try {
        const group = await client.request<{ resources: { name: string }[] }>('GET', '/apis/monitoring.coreos.com/v1');
        const names = new Set(group.resources.map((r) => r.name));
        capabilities = {
          at: Date.now(),
          value: { serviceMonitor: names.has('servicemonitors'), prometheusRule: names.has('prometheusrules') },
        };
      } catch {
        capabilities = { at: Date.now(), value: { serviceMonitor: false, prometheusRule: false } };
      }
      return capabilities.value;
    },
    forgetCapabilities() {
      capabilities = { ...capabilities, at: 0 };
    },
  };
}

/** Throws when the object storage endpoint does not answer within 3 s (any HTTP answer will do). */
async function probeObjectStorage(endpoint: string): Promise<void> {
  try {
    const res = await fetch(endpoint, { signal: AbortSignal.timeout(3000) });
    await res.body?.cancel();
  } catch (err) {
    throw new Error(`${endpoint} is unreachable (${(err as Error).cause ?? (err as Error).message})`, { cause: err });
  }
}

/** Serves /metrics, /livez (/healthz) and /readyz (503 while an informer is not synced or stale). */
async function serveHttp(
  httpPort: number,
  metrics: ReturnType<typeof createOperatorMetrics>,
  informers: () => Informer[],
  leading: () => boolean,
): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    if (req.url === '/metrics') {
      void metrics.registry.metrics().then((text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text));
    } else if (req.url === '/livez' || req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    } else if (req.url === '/readyz') {
      const stale = informers().filter((i) => !i.healthy());
      res.writeHead(stale.length ? 503 : 200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ status: stale.length ? 'informers not synced or stale' : 'ok', leading: leading(), staleInformers: stale.length }),
      );
    } else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(httpPort, '0.0.0.0', resolve));
  return { server, port: (server.address() as { port: number }).port };
}

export async function startOperator(o: OperatorOptions) {
  const metrics = createOperatorMetrics(CONTROLLER_NAME);
  const client = new KubeClient(o.kubeConfig, metrics.observeRequest);
  // Filled by createWatches below; the reconciler reads the caches only once the informers run.
  const informers: Informers = {};
  const reconcile = createReconciler({
    client,
    cache: clusterCache(informers),
    logger: o.logger,
    record: eventRecorder(client, o.logger),
    dashboards: loadDashboards(o.dashboardsDir),
    onWrite: o.onWrite,
    onReadiness(namespace, name, ready) {
      if (ready === undefined) metrics.platformReady.remove({ namespace, name });
      else metrics.platformReady.set({ namespace, name }, ready ? 1 : 0);
    },
    onBackup(namespace, name, since) {
      if (since === undefined) metrics.platformLastBackup.remove({ namespace, name });
      else metrics.platformLastBackup.set({ namespace, name }, since);
    },
    ...monitoringCapabilities(client),
    probeObjectStorage,
  });

  const controller = new Controller({ name: CONTROLLER_NAME, reconcile, concurrency: o.concurrency, metrics, logger: o.logger });
  const watches = createWatches(informers, {
    client,
    logger: o.logger,
    namespaces: o.watchNamespaces.length ? o.watchNamespaces : [undefined],
    resyncMs: o.resyncMs,
    listPageSize: o.listPageSize,
    enqueue: (key) => controller.queue.add(key),
  });
  const { all } = watches;
  metrics.reportCacheSizes(watches.cacheSizes);
  watches.start();

  let leading = !o.leaderElection.enabled;
  const elector = o.leaderElection.enabled
    ? new LeaderElector(client, {
        namespace: o.leaderElection.namespace,
        name: o.leaderElection.name,
        identity: o.leaderElection.identity ?? `${hostname()}-${process.pid}`,
        leaseDurationSeconds: o.leaderElection.leaseDurationSeconds,
        renewDeadlineMs: o.leaderElection.renewDeadlineMs,
        retryPeriodMs: o.leaderElection.retryPeriodMs,
        logger: o.logger,
        onStartedLeading() {
          leading = true;
          metrics.leader.set({ name: o.leaderElection.name }, 1);
          controller.start();
          watches.enqueueAll();
        },
        async onStoppedLeading() {
          leading = false;
          metrics.leader.set({ name: o.leaderElection.name }, 0);
          await controller.stop();
        },
      })
    : undefined;
  // The leader gauge exists from the start: 0 until elected, or 1 for the lone replica without election.
  metrics.leader.set({ name: o.leaderElection.name }, elector ? 0 : 1);
  if (elector) elector.start();
  else controller.start();

  const http = o.httpPort === undefined ? undefined : await serveHttp(o.httpPort, metrics, all, () => leading);
  const server = http?.server;
  const port = http?.port;

  return {
    client,
    controller,
    metrics,
    port,
    isLeader: () => leading,
    synced: () => all().every((i) => i.synced),
    /** Objects per kind in the caches; `Secret (referenced)` counts the metadata-only watches of users' Secrets. */
    cacheSizes: watches.cacheSizes,
    /** `namespace/name` of the users' Secrets watched by name. */
    referencedSecretWatches: watches.referencedSecretWatches,
    async stop() {
      if (elector) await elector.stop();
      else await controller.stop();
      await watches.stop();
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    },
  };
}

export type RunningOperator = Awaited<ReturnType<typeof startOperator>>;
