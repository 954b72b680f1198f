/**
 * Waits for a database that is still starting (a fresh PostgreSQL pod, a volume still attaching)
 * with capped exponential backoff and a bound. Only "could not talk to the server" errors are waited
 * out; anything else (a wrong password, a missing database) fails at once, since waiting cannot help.
 */
import { DependencyUnavailableError, isConnectionError } from './errors.ts';

export interface WaitForDatabaseOptions {
  /** Give up after this long; 0 tries once. */
  timeoutMs: number;
  firstDelayMs?: number;
  maxDelayMs?: number;
  /** One line per wait, so a Job's log shows what it is waiting for. */
  log: (line: string) => void;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

/** The database did not answer within the bound. */
export class DatabaseUnreachableError extends Error {}

const isUnavailable = (err: unknown) => err instanceof DependencyUnavailableError || isConnectionError(err);

export async function waitForDatabase(ping: () => Promise<void>, o: WaitForDatabaseOptions): Promise<void> {
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const now = o.now ?? Date.now;
  const deadline = now() + o.timeoutMs;
  let delay = o.firstDelayMs ?? 1000;
  for (let attempt = 1; ; attempt++) {
    try {
      await ping();
      if (attempt > 1) o.log(`database is reachable (attempt ${attempt})`);
      return;
    } catch (err) {
      if (!isUnavailable(err)) throw err;
      const left = deadline - now();
      const reason = (err as Error).message;
      if (left <= 0) {
        throw new DatabaseUnreachableError(
          `database unreachable after ${attempt} attempts in ${Math.round(o.timeoutMs / 1000)} s: ${reason}`,
          {
            cause: err,
          },
        );
      }
      const wait = Math.min(delay, left);
      o.log(`waiting for the database (attempt ${attempt} failed: ${reason}); next try in ${Math.ceil(wait / 1000)} s`);
      await sleep(wait);
      delay = Math.min(delay * 2, o.maxDelayMs ?? 15_000);
    }
  }
}
