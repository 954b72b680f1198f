/**
 * RFC 9457 problem details. Every 4xx/5xx the services send is one of these; handlers throw
 * `ProblemError` and the error middleware renders it.
 */
export interface FieldError {
  /** Where the problem is, e.g. `body.email` or `query.limit`. */
  location: string;
  message: string;
}

export interface ProblemInit {
  status: number;
  title?: string;
  detail?: string;
  /** A URI reference; defaults to an anchor per status under the project's problem namespace. */
  type?: string;
  errors?: FieldError[];
  headers?: Record<string, string>;
  /** Extra members, e.g. `missing_prerequisites`. */
  extensions?: Record<string, unknown>;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
};

export const PROBLEM_TYPE_BASE = 'https://huntmaster.academy/problems/';

export class ProblemError extends Error {
  readonly status: number;
  readonly title: string;
  readonly detail: string | undefined;
  readonly type: string;
  readonly errors: FieldError[] | undefined;
  readonly headers: Record<string, string>;
  readonly extensions: Record<string, unknown>;

  constructor(init: ProblemInit) {
    super(init.detail ?? init.title ?? TITLES[init.status] ?? 'Error');
    this.status = init.status;
    this.title = init.title ?? TITLES[init.status] ?? 'Error';
    this.detail = init.detail;
    this.type = init.type ?? `${PROBLEM_TYPE_BASE}${this.title.toLowerCase().replaceAll(' ', '-')}`;
    this.errors = init.errors;
    this.headers = init.headers ?? {};
    this.extensions = init.extensions ?? {};
  }

  body(instance: string): Record<string, unknown> {
    return {
      type: this.type,
      title: this.title,
      status: this.status,
      ...(this.detail ? { detail: this.detail } : {}),
      instance,
      ...(this.errors ? { errors: this.errors } : {}),
      ...this.extensions,
    };
  }
}

/** Nothing serves the request's method and path (a dialect may word it its own way). */
export class NoRouteError extends ProblemError {
  constructor(method: string, path: string) {
    super({ status: 404, detail: `No route for ${method} ${path}` });
  }
}

export const problem = {
  badRequest: (detail: string, errors?: FieldError[]) => new ProblemError({ status: 400, detail, errors }),
  unauthorized: (detail = 'Authentication is required') =>
    new ProblemError({ status: 401, detail, headers: { 'WWW-Authenticate': 'Bearer realm="huntmaster"' } }),
  forbidden: (detail = 'You do not have permission to do this') => new ProblemError({ status: 403, detail }),
  notFound: (detail = 'Not found') => new ProblemError({ status: 404, detail }),
  conflict: (detail: string, extensions?: Record<string, unknown>) => new ProblemError({ status: 409, detail, extensions }),
  preconditionFailed: (detail: string) => new ProblemError({ status: 412, detail }),
  tooLarge: (detail: string) => new ProblemError({ status: 413, detail }),
  unsupportedMediaType: (detail: string) => new ProblemError({ status: 415, detail }),
  unprocessable: (detail: string, errors?: FieldError[]) => new ProblemError({ status: 422, detail, errors }),
  tooManyRequests: (retryAfterSeconds: number) =>
    new ProblemError({
      status: 429,
      detail: `Too many requests; retry in ${retryAfterSeconds} s`,
      headers: { 'Retry-After': String(retryAfterSeconds) },
    }),
  unavailable: (detail: string) => new ProblemError({ status: 503, detail, headers: { 'Retry-After': '5' } }),
};
