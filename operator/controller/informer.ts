/**
 * A list-and-watch cache of one resource type, sturdier than client-node's informer:
 * - a watch resumes from the last resourceVersion (bookmarks included);
 * - 410 Gone relists, and the relist's diff is delivered as add/update/delete events;
 * - any other error restarts the watch after a capped backoff, never giving up;
 * - a watch silent for longer than its own server timeout is presumed stale and restarted;
 * - a periodic resync re-delivers every cached object, as controller-runtime does;
 * - every list is paged (limit/continue), so no relist asks the API server for a whole collection at once.
 */
import type { Logger } from 'pino';
import type { KubeClient, KubeObject } from '../kube/client.ts';
import { isGone } from '../kube/errors.ts';
import { resourcePath, type ResourceType } from '../kube/resources.ts';

export interface InformerHandlers<T> {
  add?(obj: T): void;
  update?(oldObj: T, newObj: T): void;
  delete?(obj: T): void;
}

export interface InformerOptions {
  resource: ResourceType;
  /** Watch one namespace; undefined watches all. */
  namespace?: string;
  labelSelector?: string;
  /** e.g. `metadata.name=x`: watch one object by name. */
  fieldSelector?: string;
  /** Objects per list page (default 500, as client-go's pager). */
  pageSize?: number;
  /** Applied to every object before it is cached, e.g. to drop data the cache must not hold. */
  transform?: (obj: KubeObject) => KubeObject;
  resyncMs?: number;
  watchTimeoutSeconds?: number;
  /** Silence longer than this restarts the watch (default: the watch timeout + 30 s). */
  staleAfterMs?: number;
  logger: Logger;
}

class StaleWatchError extends Error {}

/** managedFields are large and the reconciler never reads them from the cache: drop them to save memory. */
function slim<T extends KubeObject>(obj: T): T {
  if (obj?.metadata?.managedFields) delete obj.metadata.managedFields; // ERROR events carry a Status, which has no metadata
  return obj;
}

export const objectKey = (o: KubeObject) => (o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name);

/** The uid of an object's controller (its owner with `controller: true`), if any. */
const controllerUid = (o: KubeObject) => o.metadata.ownerReferences?.find((r) => r.controller)?.uid;

export class Informer<T extends KubeObject = KubeObject> {
  private readonly store = new Map<string, T>();
  /** controller uid → key → object: a reconcile asks for its own children, not for every cached one. */
  private readonly byController = new Map<string, Map<string, T>>();
  private readonly handlers: InformerHandlers<T>[] = [];
  private resourceVersion = '';
  private running = false;
  private abort: AbortController | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private loop: Promise<void> | undefined;
  synced = false;
  lastActivity = 0;
  relists = 0;
  /** List pages fetched, over every relist. */
  pages = 0;
  restarts = 0;
  private readonly client: KubeClient;
  private readonly opts: Required<Omit<InformerOptions, 'namespace' | 'labelSelector' | 'fieldSelector' | 'transform'>> &
    Pick<InformerOptions, 'namespace' | 'labelSelector' | 'fieldSelector' | 'transform'>;

  constructor(client: KubeClient, opts: InformerOptions) {
    this.client = client;
    const watchTimeoutSeconds = opts.watchTimeoutSeconds ?? 300 + Math.floor(Math.random() * 300);
    // `??`, not a spread: an option passed as undefined must not replace its default.
    this.opts = {
      ...opts,
      resyncMs: opts.resyncMs ?? 10 * 60_000,
      pageSize: opts.pageSize ?? 500,
      staleAfterMs: opts.staleAfterMs ?? watchTimeoutSeconds * 1000 + 30_000,
      watchTimeoutSeconds,
    };
  }

  on(handlers: InformerHandlers<T>): void {
    this.handlers.push(handlers);
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.store.get(namespace ? `${namespace}/${name}` : name);
  }

  list(): T[] {
    return [...this.store.values()];
  }

  /** Every cached object whose controller has this uid. */
  controlledBy(uid: string): T[] {
    return [...(this.byController.get(uid)?.values() ?? [])];
  }

  private put(key: string, obj: T, old: T | undefined): void {
    if (old) this.unindex(key, old);
    this.store.set(key, obj);
    const uid = controllerUid(obj);
    if (uid === undefined) return;
    let owned = this.byController.get(uid);
    if (!owned) this.byController.set(uid, (owned = new Map()));
    owned.set(key, obj);
  }

  private remove(key: string, old: T | undefined): void {
    this.store.delete(key);
    if (old) this.unindex(key, old);
  }

  private unindex(key: string, old: T): void {
    const uid = controllerUid(old);
    const owned = uid === undefined ? undefined : this.byController.get(uid);
    owned?.delete(key);
    if (owned?.size === 0) this.byController.delete(uid!);
  }

  /** Objects in the cache. */
  get size(): number {
    return this.store.size;
  }

  /** Drops what the cache never needs, then what the caller asked to drop. */
  private cacheable(obj: T): T {
    const slimmed = slim(obj);
    return this.opts.transform && slimmed?.metadata ? (this.opts.transform(slimmed) as T) : slimmed;
  }

  /** Synced and heard from the server recently enough to trust the cache. */
  healthy(now = Date.now()): boolean {
    return this.synced && now - this.lastActivity < this.opts.staleAfterMs;
  }

  private emit(kind: 'add' | 'update' | 'delete', a: T, b?: T): void {
    for (const h of this.handlers) {
      try {
        if (kind === 'add') h.add?.(a);
        else if (kind === 'update') h.update?.(a, b!);
        else h.delete?.(a);
      } catch (err) {
        this.opts.logger.error({ err }, 'informer handler failed');
      }
    }
  }

  /**
   * Lists page by page. An expired continue token (410) fails the relist as a whole, and the run
   * loop lists again from the start, as client-go's pager does.
   */
  private async listAll(): Promise<{ resourceVersion: string; items: T[] }> {
    const path = resourcePath(this.opts.resource, this.opts.namespace);
    const items: T[] = [];
    let continueToken: string | undefined;
    let resourceVersion: string;
    do {
      const page = await this.client.request<{ metadata: { resourceVersion: string; continue?: string }; items: T[] }>('GET', path, {
        query: {
          labelSelector: this.opts.labelSelector,
          fieldSelector: this.opts.fieldSelector,
          limit: this.opts.pageSize,
          continue: continueToken,
        },
      });
      for (const item of page.items) items.push(this.cacheable(item));
      resourceVersion = page.metadata.resourceVersion;
      continueToken = page.metadata.continue || undefined;
      this.pages++;
    } while (continueToken);
    return { resourceVersion, items };
  }

  private async relist(): Promise<void> {
    const list = await this.listAll();
    const seen = new Set<string>();
    for (const item of list.items) {
      item.apiVersion ??= this.opts.resource.group
        ? `${this.opts.resource.group}/${this.opts.resource.version}`
        : this.opts.resource.version;
      item.kind ??= this.opts.resource.kind;
      const key = objectKey(item);
      seen.add(key);
      const old = this.store.get(key);
      this.put(key, item, old);
      if (!old) this.emit('add', item);
      else if (old.metadata.resourceVersion !== item.metadata.resourceVersion) this.emit('update', old, item);
    }
    for (const [key, old] of this.store) {
      if (!seen.has(key)) {
        this.remove(key, old);
        this.emit('delete', old);
      }
    }
    this.resourceVersion = list.resourceVersion;
    this.synced = true;
    this.lastActivity = Date.now();
  }

  private onEvent(event: { type: string; object: any }): void {
    this.lastActivity = Date.now();
    if (event.type === 'BOOKMARK') {
      this.resourceVersion = (event.object as T).metadata?.resourceVersion ?? this.resourceVersion;
      return;
    }
    if (event.type === 'ERROR') {
      const status = event.object as { code?: number; message?: string };
      const err = Object.assign(new Error(`watch error: ${status.message}`), { status: status.code });
      if (status.code === 410) throw Object.assign(err, { gone: true });
      throw err;
    }
    const obj = this.cacheable(event.object as T);
    this.resourceVersion = obj.metadata.resourceVersion ?? this.resourceVersion;
    const key = objectKey(obj);
    const old = this.store.get(key);
    if (event.type === 'DELETED') {
      this.remove(key, old);
      this.emit('delete', obj);
    } else {
      this.put(key, obj, old);
      if (old) this.emit('update', old, obj);
      else this.emit('add', obj);
    }
  }

  private async watchOnce(): Promise<void> {
    const abort = new AbortController();
    this.abort = abort;
    let staleTimer: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(staleTimer);
      staleTimer = setTimeout(() => abort.abort(new StaleWatchError('watch went silent')), this.opts.staleAfterMs);
    };
    arm();
    try {
      await this.client.watch(
        resourcePath(this.opts.resource, this.opts.namespace),
        {
          resourceVersion: this.resourceVersion,
          allowWatchBookmarks: true,
          timeoutSeconds: this.opts.watchTimeoutSeconds,
          labelSelector: this.opts.labelSelector,
          fieldSelector: this.opts.fieldSelector,
        },
        (event) => {
          arm();
          this.backoffMs = 200; // the server is talking to us again
          this.onEvent(event);
        },
        abort.signal,
      );
    } catch (err) {
      if (abort.signal.reason instanceof StaleWatchError) throw abort.signal.reason;
      throw err;
    } finally {
      clearTimeout(staleTimer);
      abort.abort(); // closes the connection if a handler threw mid-stream
    }
  }

  private backoffMs = 200;

  private async run(): Promise<void> {
    let needList = true;
    while (this.running) {
      try {
        if (needList) {
          await this.relist();
          needList = false;
          this.relists++;
          this.backoffMs = 200;
        }
        await this.watchOnce();
        this.backoffMs = 200; // a watch that ended cleanly (server timeout) resumes at once
      } catch (err) {
        if (!this.running) return;
        const gone = isGone(err) || (err as { gone?: boolean }).gone === true;
        if (gone) needList = true;
        this.restarts++;
        const stale = err instanceof StaleWatchError;
        this.opts.logger.warn({ resource: this.opts.resource.plural, gone, stale, err: (err as Error).message }, 'watch restarting');
        if (!gone && !stale) {
          await new Promise((r) => setTimeout(r, this.backoffMs));
          this.backoffMs = Math.min(this.backoffMs * 2, 30_000);
        }
      }
    }
  }

  /** Starts listing and watching in the background. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
    this.resyncTimer = setInterval(() => {
      for (const obj of this.store.values()) this.emit('update', obj, obj);
    }, this.opts.resyncMs);
    this.resyncTimer.unref();
  }

  /** Resolves true once the first list is in the cache, false on timeout. */
  async waitForSync(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.synced && this.running && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return this.synced;
  }

  async stop(): Promise<void> {
    this.running = false;
    clearInterval(this.resyncTimer);
    this.abort?.abort();
    await this.loop?.catch(() => undefined);
  }
}
