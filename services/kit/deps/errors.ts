/** A dependency (database, cache, object store) that cannot be reached. Rendered as 503 problem+json. */
export class DependencyUnavailableError extends Error {
  readonly dependency: string;
  constructor(dependency: string, cause: unknown) {
    super(`${dependency} is unavailable: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.dependency = dependency;
  }
}

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'EAI_AGAIN']);

/** True for errors that mean "could not talk to the server", as opposed to a bad query. */
export function isConnectionError(err: unknown): boolean {
  const e = err as { code?: string; message?: string; errors?: unknown[] } | undefined;
  if (!e) return false;
  if (e.code && CONNECTION_CODES.has(e.code)) return true;
  // PostgreSQL class 08 (connection exception) and 57P0x (server shutting down / cannot connect now).
  if (e.code && (/^08/.test(e.code) || /^57P0[1-3]$/.test(e.code))) return true;
  if (Array.isArray(e.errors) && e.errors.some(isConnectionError)) return true; // AggregateError from dual-stack connects
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Connection is closed|Stream isn't writeable|socket hang up/i.test(
    e.message ?? '',
  );
}
