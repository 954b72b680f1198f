/**
 * Serving metadata per model name (versions, aliases, artifact keys), read from PostgreSQL and kept
 * for MODEL_METADATA_TTL_MS. This is how an alias move reaches every replica without a restart:
 * the replica that moved it drops its entry at once (and announces it on Redis pub/sub, see
 * registry-events.ts), and every other replica sees the new target when its entry expires, at
 * the latest. Unknown names are cached too, so a flood of requests for a missing model costs one
 * query per TTL. Concurrent misses for one name share one query.
 */
import type { RegistryRepository, ServingModel } from '../registry/repository.ts';

interface Entry {
  model: ServingModel | null;
  expires: number;
}

export class ModelDirectory {
  readonly #repo: Pick<RegistryRepository, 'servingModel'>;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry>();
  readonly #inflight = new Map<string, Promise<ServingModel | null>>();
  /** Bumped by invalidate(), so a query started before a change never repopulates the cache with old data. */
  #generation = 0;

  constructor(repo: Pick<RegistryRepository, 'servingModel'>, ttlMs: number, now: () => number = Date.now) {
    this.#repo = repo;
    this.#ttlMs = ttlMs;
    this.#now = now;
  }

  get(name: string): Promise<ServingModel | null> {
    const entry = this.#entries.get(name);
    if (entry && entry.expires > this.#now()) return Promise.resolve(entry.model);
    const pending = this.#inflight.get(name);
    if (pending) return pending;
    const generation = this.#generation;
    const promise = this.#repo
      .servingModel(name)
      .then((model) => {
        if (generation === this.#generation) this.#entries.set(name, { model, expires: this.#now() + this.#ttlMs });
        return model;
      })
      .finally(() => {
        if (this.#inflight.get(name) === promise) this.#inflight.delete(name);
      });
    this.#inflight.set(name, promise);
    return promise;
  }

  /** Forgets one model (or everything). */
  invalidate(name?: string): void {
    this.#generation++;
    if (name === undefined) this.#entries.clear();
    else this.#entries.delete(name);
    if (name === undefined) this.#inflight.clear();
    else this.#inflight.delete(name);
  }
}
