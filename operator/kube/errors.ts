/** A non-2xx answer from the API server, with its Status reason when it sent one. */
export class KubeApiError extends Error {
  readonly status: number;
  readonly reason: string | undefined;
  readonly body: unknown;
  constructor(method: string, path: string, status: number, body: unknown) {
    const s = body as { message?: string; reason?: string } | undefined;
    super(`${method} ${path}: ${status} ${s?.reason ?? ''} ${s?.message ?? (typeof body === 'string' ? body.slice(0, 300) : '')}`.trim());
    this.status = status;
    this.reason = s?.reason;
    this.body = body;
  }
}

export const isNotFound = (err: unknown) => err instanceof KubeApiError && err.status === 404;
export const isConflict = (err: unknown) => err instanceof KubeApiError && err.status === 409;
export const isGone = (err: unknown) => err instanceof KubeApiError && err.status === 410;
