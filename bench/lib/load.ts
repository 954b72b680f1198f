/**
 * A small closed-loop load generator: `concurrency` workers each send requests back to back over
 * keep-alive connections until `durationMs` elapses. Loopback only; bounded in time and count.
 */
import { Agent, request } from 'node:http';

export interface LoadOptions {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string | ((i: number) => string);
  /** Varies the path per request, e.g. to spread over many items. */
  path?: (i: number) => string;
  concurrency: number;
  durationMs: number;
  warmupMs?: number;
  maxRequests?: number;
  expectStatus?: number;
}

export interface LoadResult {
  requests: number;
  errors: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export const median = (values: number[]) =>
  percentile(
    [...values].sort((a, b) => a - b),
    50,
  );

function send(agent: Agent, base: URL, o: LoadOptions, i: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const body = typeof o.body === 'function' ? o.body(i) : o.body;
    const req = request(
      {
        host: base.hostname,
        port: base.port,
        path: o.path ? o.path(i) : base.pathname + base.search,
        method: o.method ?? 'GET',
        agent,
        headers: { ...o.headers, ...(body ? { 'content-length': Buffer.byteLength(body) } : {}) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  if (!/^http:\/\/(127\.\d+\.\d+\.\d+|localhost)(:\d+)?\//.test(o.url)) throw new Error('load tests only target loopback');
  const base = new URL(o.url);
  const agent = new Agent({ keepAlive: true, maxSockets: o.concurrency });
  const expect = o.expectStatus ?? 200;
  let counter = 0;
  const warmupEnd = Date.now() + (o.warmupMs ?? 500);
  const end = warmupEnd + o.durationMs;
  const latencies: number[] = [];
  let errors = 0;
  const worker = async () => {
    while (Date.now() < end && (o.maxRequests === undefined || counter < o.maxRequests)) {
      const i = counter++;
      const started = performance.now();
      const status = await send(agent, base, o, i).catch(() => -1);
      const finished = Date.now();
      if (finished > warmupEnd && finished <= end) {
        latencies.push(performance.now() - started);
        if (status !== expect) errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    errors,
    rps: latencies.length / (o.durationMs / 1000),
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
  };
}
