/**
 * Wires the operator together: informers for the CR and every owned kind (owned objects map back
 * to their owner), the work queue and workers, leader election, and the HTTP endpoints
 * (/metrics, /livez, /readyz). Tests start it in-process; `main.ts` starts it from the environment.
 */
import { createServer, type Server } from 'node:http';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { Controller } from './controller/controller.ts';
import { Informer } from './controller/informer.ts';
import { ReferencedSecretWatches } from './controller/referenced-secrets.ts';
import { LeaderElector } from './controller/leader.ts';
import { createOperatorMetrics } from './controller/metrics.ts';
import { KubeClient, type KubeObject } from './kube/client.ts';
import type { KubeCredentials } from './kube/config.ts';
import { RESOURCES } from './kube/resources.ts';
import { eventRecorder } from './reconcile/events.ts';
import type { CachedKind, CachedKinds, ClusterCache, ReconcilerDeps } from './reconcile/deps.ts';
import { createReconciler } from './reconcile/reconciler.ts';
import { CHILD_KINDS, generatedSecretNames, LABELS, MANAGED_BY, referencedSecretKeys, type HuntMasterPlatform } from './specs/index.ts';

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

/** Every child carries this label, generated Secrets included: the only objects the caches hold. */
export const MANAGED_SELECTOR = `${LABELS.managedBy}=${MANAGED_BY}`;

/**
 * The children watched by label: every CHILD_KINDS kind but the monitoring.coreos.com kinds, whose
 * CRDs may be missing (they are read and applied uncached). Secrets too: only the generated ones are
 * cached; a Secret a user references is watched by name and read with a GET (referenced-secrets.ts).
 */
const CACHED_CHILD_KINDS = CHILD_KINDS.map(({ kind }) => kind).filter(
  (kind): kind is Exclude<(typeof CHILD_KINDS)[number]['kind'], 'ServiceMonitor' | 'PrometheusRule'> =>
    kind !== 'ServiceMonitor' && kind !== 'PrometheusRule',
);

/** kind → one informer per watched namespace, typed by kind. */
type Informers = { [K in CachedKind]?: Informer<CachedKinds[K]>[] };

/**
 * The Secrets a platform references that the operator does not generate (those are cached by label).
 * A spec the builders refuse references nothing: its status says why.
 */
function userSecretNames(cr: HuntMasterPlatform): string[] {
  try {
    const generated = new Set(generatedSecretNames(cr));
    return [...new Set(referencedSecretKeys(cr).map((ref) => ref.name))].filter((name) => !generated.has(name));
  } catch {
    return [];
  }
}

function loadDashboards(dir: string | undefined): Record<string, string> {
  if (!dir || !existsSync(dir)) return {};
  return Object.fromEntries(
    readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => [f, readFileSync(join(dir, f), 'utf8')]),
  );
}

/** The reconciler's view of the informers' caches. */
function clusterCache(informers: Informers): ClusterCache {
  return {
    has: (kind): kind is CachedKind => kind in informers,
    get(kind, namespace, name) {
      for (const informer of informers[kind] ?? []) {
        const hit = informer.get(namespace, name);
        if (hit) return hit;
      }
      return undefined;
    },
    owned(kind, namespace, ownerUid) {
      return (informers[kind] ?? []).flatMap((i) => i.controlledBy(ownerUid)).filter((obj) => obj.metadata.namespace === namespace);
    },
  };
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
  const namespaces: Array<string | undefined> = o.watchNamespaces.length ? o.watchNamespaces : [undefined];
  const informers: Informers = {};
  const make = <K extends CachedKind>(kind: K, labelSelector?: string): Informer<CachedKinds[K]>[] => {
    const resource = RESOURCES[kind];
    const list = namespaces.map(
      (namespace) =>
        new Informer<CachedKinds[K]>(client, {
          resource,
          namespace,
          labelSelector,
          logger: o.logger,
          resyncMs: o.resyncMs,
          pageSize: o.listPageSize,
        }),
    );
    (informers as Record<K, Informer<CachedKinds[K]>[]>)[kind] = list;
    return list;
  };

  const cache = clusterCache(informers);
  const reconcile = createReconciler({
    client,
    cache,
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
  const enqueue = (obj: KubeObject) => controller.queue.add(`${obj.metadata.namespace}/${obj.metadata.name}`);
  const enqueueOwner = (obj: KubeObject) => {
    const owner = obj.metadata.ownerReferences?.find((r) => r.controller && r.kind === 'HuntMasterPlatform');
    if (owner) controller.queue.add(`${obj.metadata.namespace}/${owner.name}`);
  };

  // The CR: only spec (generation) and metadata changes matter; our own status writes do not loop.
  const platformInformers = make('HuntMasterPlatform');
  for (const informer of platformInformers) {
    informer.on({
      add: enqueue,
      delete: enqueue,
      update(oldObj, newObj) {
        const m0 = oldObj.metadata;
        const m1 = newObj.metadata;
        const resync = oldObj === newObj;
        const changed =
          m0.generation !== m1.generation ||
          m0.deletionTimestamp !== m1.deletionTimestamp ||
          JSON.stringify([m0.finalizers, m0.labels, m0.annotations]) !== JSON.stringify([m1.finalizers, m1.labels, m1.annotations]);
        if (resync || changed) enqueue(newObj);
      },
    });
  }
  const platforms = () => platformInformers.flatMap((i) => i.list());
  // userSecretNames applies the defaults to the whole spec: computed once per spec (uid, generation).
  const secretNamesBySpec = new Map<string, { generation: number | undefined; names: string[] }>();
  const userSecrets = (cr: HuntMasterPlatform): string[] => {
    const known = secretNamesBySpec.get(cr.metadata.uid);
    if (known && known.generation === cr.metadata.generation) return known.names;
    const names = userSecretNames(cr);
    secretNamesBySpec.set(cr.metadata.uid, { generation: cr.metadata.generation, names });
    return names;
  };
  for (const kind of CACHED_CHILD_KINDS) {
    for (const informer of make(kind, MANAGED_SELECTOR)) {
      informer.on({ add: enqueueOwner, update: (_o, n) => enqueueOwner(n), delete: enqueueOwner });
    }
  }
  // A user's Secret maps to every CR of its namespace that references it.
  const referencedSecrets = new ReferencedSecretWatches({
    client,
    logger: o.logger,
    resyncMs: o.resyncMs,
    onChange(namespace, name) {
      for (const cr of platforms()) {
        if (cr.metadata.namespace !== namespace) continue;
        if (userSecrets(cr).includes(name)) enqueue(cr);
      }
    },
  });
  const syncReferencedSecrets = () =>
    referencedSecrets.sync(platforms().flatMap((cr) => userSecrets(cr).map((name) => ({ namespace: cr.metadata.namespace, name }))));
  for (const informer of platformInformers) {
    // Only a spec change (generation) can change the references; status writes and resyncs cannot.
    const specChanged = (old: HuntMasterPlatform, n: HuntMasterPlatform) => old.metadata.generation !== n.metadata.generation;
    informer.on({
      add: syncReferencedSecrets,
      update: (old, n) => specChanged(old, n) && syncReferencedSecrets(),
      delete(cr) {
        secretNamesBySpec.delete(cr.metadata.uid);
        syncReferencedSecrets();
      },
    });
  }

  const all = (): Informer[] => Object.values(informers).flat();
  const cacheSizes = (): Record<string, number> => {
    const sizes: Record<string, number> = {};
    for (const [kind, list] of Object.entries(informers)) sizes[kind] = list.reduce((n, i) => n + i.size, 0);
    sizes['Secret (referenced)'] = referencedSecrets.size;
    return sizes;
  };
  metrics.reportCacheSizes(cacheSizes);
  for (const informer of all()) informer.start();

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
          for (const cr of platforms()) enqueue(cr);
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
    cacheSizes,
    /** `namespace/name` of the users' Secrets watched by name. */
    referencedSecretWatches: () => referencedSecrets.keys(),
    async stop() {
      if (elector) await elector.stop();
      else await controller.stop();
      await Promise.all([...all().map((i) => i.stop()), referencedSecrets.stop()]);
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    },
  };
}

export type RunningOperator = Awaited<ReturnType<typeof startOperator>>;
