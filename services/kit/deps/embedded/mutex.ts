/**
 * A FIFO async mutex that knows who holds it. The embedded database has one connection: a
 * transaction holds the mutex from BEGIN to COMMIT, and every statement outside it waits its turn.
 * A caller that, while holding the mutex, asks for it again (say `db.query` inside a
 * `db.transaction` callback instead of `tx.query`) would wait forever; `run` refuses that at once.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export class ReentrantUseError extends Error {}

export class Mutex {
  #tail: Promise<void> = Promise.resolve();
  #waiting = 0;
  #holder: object | undefined;
  readonly #als = new AsyncLocalStorage<object>();

  /** True while nobody holds the mutex and nobody waits for it. */
  get idle(): boolean {
    return this.#waiting === 0 && this.#holder === undefined;
  }

  async run<T>(fn: () => Promise<T>, what: string): Promise<T> {
    const held = this.#als.getStore();
    if (held !== undefined && held === this.#holder) {
      throw new ReentrantUseError(
        `${what} was called while this async context already holds the embedded database (inside a transaction or advisory lock): use the handle passed to the callback`,
      );
    }
    const previous = this.#tail;
    let release!: () => void;
    this.#tail = new Promise<void>((resolve) => (release = resolve));
    this.#waiting++;
    await previous;
    this.#waiting--;
    const token = {};
    this.#holder = token;
    try {
      return await this.#als.run(token, fn);
    } finally {
      this.#holder = undefined;
      release();
    }
  }
}
