/**
 * What makes a platform reconcile: informers for the CR (its spec and metadata changes, not its own
 * status writes) and for every owned kind (a child maps back to its owner), and name-scoped watches of
 * the users' Secrets a CR references. The informers' caches are also the reconciler's view of the
 * cluster (`clusterCache`).
 */
import type { Logger } from 'pino';
import { Informer } from './controller/informer.ts';
import { ReferencedSecretWatches } from './controller/referenced-secrets.ts';
import type { KubeClient, KubeObject } from './kube/client.ts';
import { RESOURCES } from './kube/resources.ts';
import type { CachedKind, CachedKinds, ClusterCache } from './reconcile/deps.ts';
import { CHILD_KINDS, generatedSecretNames, LABELS, MANAGED_BY, referencedSecretKeys, type HuntMasterPlatform } from './specs/index.ts';

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
export type Informers = { [K in CachedKind]?: Informer<CachedKinds[K]>[] };

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

/** The reconciler's view of the informers' caches (read lazily: the informers may be added later). */
export function clusterCache(informers: Informers): ClusterCache {
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

export interface WatchOptions {
  client: KubeClient;
  logger: Logger;
  /** Namespaces to watch; `[undefined]` watches all. */
  namespaces: Array<string | undefined>;
  resyncMs?: number;
  listPageSize?: number;
  /** Queues `namespace/name` of a platform for a reconcile. */
  enqueue(key: string): void;
}

/** Creates the informers into `informers` and the referenced-Secret watches; `start()` starts them all. */
export function createWatches(informers: Informers, o: WatchOptions) {
  const make = <K extends CachedKind>(kind: K, labelSelector?: string): Informer<CachedKinds[K]>[] => {
    const list = o.namespaces.map(
      (namespace) =>
        new Informer<CachedKinds[K]>(o.client, {
          resource: RESOURCES[kind],
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
  const enqueue = (obj: KubeObject) => o.enqueue(`${obj.metadata.namespace}/${obj.metadata.name}`);
  const enqueueOwner = (obj: KubeObject) => {
    const owner = obj.metadata.ownerReferences?.find((r) => r.controller && r.kind === 'HuntMasterPlatform');
    if (owner) o.enqueue(`${obj.metadata.namespace}/${owner.name}`);
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
  for (const kind of CACHED_CHILD_KINDS) {
    for (const informer of make(kind, MANAGED_SELECTOR)) {
      informer.on({ add: enqueueOwner, update: (_o, n) => enqueueOwner(n), delete: enqueueOwner });
    }
  }

  // userSecretNames applies the defaults to the whole spec: computed once per spec (uid, generation).
  const secretNamesBySpec = new Map<string, { generation: number | undefined; names: string[] }>();
  const userSecrets = (cr: HuntMasterPlatform): string[] => {
    const known = secretNamesBySpec.get(cr.metadata.uid);
    if (known && known.generation === cr.metadata.generation) return known.names;
    const names = userSecretNames(cr);
    secretNamesBySpec.set(cr.metadata.uid, { generation: cr.metadata.generation, names });
    return names;
  };
  // A user's Secret maps to every CR of its namespace that references it.
  const referencedSecrets = new ReferencedSecretWatches({
    client: o.client,
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
  return {
    all,
    /** Queues every platform (a new leader looks at all of them). */
    enqueueAll(): void {
      for (const cr of platforms()) enqueue(cr);
    },
    /** Objects per kind in the caches; `Secret (referenced)` counts the metadata-only watches of users' Secrets. */
    cacheSizes(): Record<string, number> {
      const sizes: Record<string, number> = {};
      for (const [kind, list] of Object.entries(informers)) sizes[kind] = list.reduce((n, i) => n + i.size, 0);
      sizes['Secret (referenced)'] = referencedSecrets.size;
      return sizes;
    },
    /** `namespace/name` of the users' Secrets watched by name. */
    referencedSecretWatches: () => referencedSecrets.keys(),
    start(): void {
      for (const informer of all()) informer.start();
    },
    async stop(): Promise<void> {
      await Promise.all([...all().map((i) => i.stop()), referencedSecrets.stop()]);
    },
  };
}
