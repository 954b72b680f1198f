/** A minimal Kubernetes API client for the harness: readiness polling and setup, as the admin. */
import { Agent, request as httpsRequest } from 'node:https';

export type ApiRequest = (
  path: string,
  init?: { method?: string; body?: unknown; contentType?: string },
) => Promise<{ status: number; body: any }>;

/** `caPem` is read at the first call: the API server may write its certificate only once it starts. */
export function apiRequester(server: string, caPem: () => string, token: string): ApiRequest {
  let agent: Agent | undefined;
  return (path, init = {}) => {
    agent ??= new Agent({ ca: caPem(), keepAlive: false });
    return new Promise((resolve, reject) => {
      const body = init.body === undefined ? undefined : typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
      const req = httpsRequest(
        `${server}${path}`,
        {
          method: init.method ?? 'GET',
          agent,
          headers: {
            authorization: `Bearer ${token}`,
            'content-type': init.contentType ?? 'application/json',
            accept: 'application/json',
          },
        },
        (res) => {
          let text = '';
          res.on('data', (c) => (text += c));
          res.on('end', () => {
            let parsed: unknown = text;
            try {
              parsed = JSON.parse(text);
            } catch {
              /* plain text, e.g. /readyz */
            }
            resolve({ status: res.statusCode ?? 0, body: parsed });
          });
        },
      );
      req.on('error', reject);
      if (body) req.write(body);
      req.end();
    });
  };
}
