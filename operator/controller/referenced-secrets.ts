/**
 * Watches the Secrets that platforms reference by name (`…secretRef`, `auth.*SecretRef`): one
 * field-selected watch per referenced Secret, so a rotation rolls the pods at once, while the
 * cluster's other Secrets (Helm releases, service-account tokens, other apps') are never listed,
 * watched or cached. The watch caches metadata only; the reconciler GETs the data when it needs it.
 */
import type { Logger } from 'pino';
import type { KubeClient, KubeObject } from '../kube/client.ts';
import { RESOURCES } from '../kube/resources.ts';
import { Informer } from './informer.ts';

/** The data of a Secret is what the cache must not hold: its hash is computed from a fresh GET. */
export function withoutSecretData(secret: KubeObject): KubeObject {
  const { data: _data, stringData: _stringData, ...rest } = secret as KubeObject & { data?: unknown; stringData?: unknown };
  return rest as KubeObject;
}

export interface ReferencedSecretWatchOptions {
  client: KubeClient;
  logger: Logger;
  resyncMs?: number;
  /** Called on any change to a watched Secret (not on resyncs: the CR's own resync covers those). */
  onChange(namespace: string, name: string): void;
}

export class ReferencedSecretWatches {
  private readonly watches = new Map<string, Informer>();
  private readonly o: ReferencedSecretWatchOptions;

  constructor(o: ReferencedSecretWatchOptions) {
    this.o = o;
  }

  /** Starts a watch for every referenced Secret not watched yet, and stops those no longer referenced. */
  sync(references: Array<{ namespace: string; name: string }>): void {
    const wanted = new Map(references.map((r) => [`${r.namespace}/${r.name}`, r]));
    for (const [key, informer] of this.watches) {
      if (wanted.has(key)) continue;
      this.watches.delete(key);
      void informer.stop();
    }
    for (const [key, { namespace, name }] of wanted) {
      if (this.watches.has(key)) continue;
      const informer = new Informer(this.o.client, {
        resource: RESOURCES.Secret,
        namespace,
        fieldSelector: `metadata.name=${name}`,
        transform: withoutSecretData,
        logger: this.o.logger,
        resyncMs: this.o.resyncMs,
      });
      const changed = () => this.o.onChange(namespace, name);
      informer.on({ add: changed, update: (old, current) => old !== current && changed(), delete: changed });
      this.watches.set(key, informer);
      informer.start();
    }
  }

  /** `namespace/name` of every watched Secret. */
  keys(): string[] {
    return [...this.watches.keys()];
  }

  /** Objects held by these watches (metadata only): at most one per referenced Secret. */
  get size(): number {
    let n = 0;
    for (const informer of this.watches.values()) n += informer.size;
    return n;
  }

  async stop(): Promise<void> {
    const all = [...this.watches.values()];
    this.watches.clear();
    await Promise.all(all.map((i) => i.stop()));
  }
}
