/** A tiny JSON client for tests: every call returns status, headers and the parsed body. */
export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export function client(baseUrl: string) {
  async function call<T = any>(
    method: string,
    path: string,
    opts: { body?: unknown; token?: string; headers?: Record<string, string>; raw?: RequestInit['body'] } = {},
  ): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    let body: RequestInit['body'] = opts.raw;
    if (opts.body !== undefined) {
      headers['content-type'] ??= 'application/json';
      body = JSON.stringify(opts.body);
    }
    const res = await fetch(`${baseUrl}${path}`, { method, headers, body });
    const text = await res.text();
    let parsed: unknown = text;
    if (/json/.test(res.headers.get('content-type') ?? '') && text) parsed = JSON.parse(text);
    return { status: res.status, headers: res.headers, body: parsed as T };
  }
  return {
    call,
    get: <T = any>(path: string, token?: string, headers?: Record<string, string>) => call<T>('GET', path, { token, headers }),
    post: <T = any>(path: string, body?: unknown, token?: string, headers?: Record<string, string>) =>
      call<T>('POST', path, { body, token, headers }),
    put: <T = any>(path: string, body?: unknown, token?: string, headers?: Record<string, string>) =>
      call<T>('PUT', path, { body, token, headers }),
    del: <T = any>(path: string, token?: string) => call<T>('DELETE', path, { token }),
  };
}

export type Client = ReturnType<typeof client>;

/** Registers a user, optionally grants roles through the admin, and logs in. */
export async function signUp(
  api: Client,
  opts: { username: string; adminToken?: string; roles?: string[]; password?: string },
): Promise<{ token: string; refresh: string; userId: string; password: string; email: string }> {
  const password = opts.password ?? `correct-horse-${opts.username}`;
  const email = `${opts.username}@huntmaster.test`;
  const reg = await api.post('/auth/register', { username: opts.username, email, password });
  if (reg.status !== 201) throw new Error(`register ${opts.username}: ${reg.status} ${JSON.stringify(reg.body)}`);
  const userId = reg.body.user.user_id as string;
  if (opts.roles && opts.adminToken) {
    const put = await api.put(`/api/users/${userId}`, { roles: opts.roles }, opts.adminToken);
    if (put.status !== 200) throw new Error(`grant roles: ${put.status} ${JSON.stringify(put.body)}`);
  }
  const login = await api.post('/auth/login', { username: opts.username, password });
  if (login.status !== 200) throw new Error(`login ${opts.username}: ${login.status} ${JSON.stringify(login.body)}`);
  return { token: login.body.access_token, refresh: login.body.refresh_token, userId, password, email };
}
