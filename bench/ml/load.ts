/**
 * A small HTTP load generator, run in a worker thread so it does not share the server's event loop:
 * `concurrency` keep-alive connections, each sending its next request as soon as the previous answer
 * has been read, for `durationMs` or `maxRequests`, whichever comes first. 127.0.0.1 only.
 */
import http from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';

export type BodySpec =
  | { kind: 'none' }
  | { kind: 'fixed'; text: string }
  /** A /predict body whose `rows` rows of random features differ on every request (no cache hits). */
  | { kind: 'vary'; model: string; features: string[]; rows: number };

export interface LoadJob {
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body: BodySpec;
  concurrency: number;
  durationMs: number;
  maxRequests: number;
}

export interface LoadResult {
  requests: number;
  elapsedMs: number;
  rps: number;
  statuses: Record<string, number>;
  cachedTrue: number;
  errors: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
}

function body(spec: BodySpec, counter: number): string | undefined {
  if (spec.kind === 'none') return undefined;
  if (spec.kind === 'fixed') return spec.text;
  const rows = [];
  for (let r = 0; r < spec.rows; r++) {
    const row: Record<string, number> = {};
    for (const f of spec.features) row[f] = Math.random() * 100;
    rows.push(row);
  }
  // `counter` in the first row too, so two requests never share inputs even by chance.
  rows[0]![spec.features[0]!] = (counter % 100_000) / 1000;
  return JSON.stringify({ model: spec.model, inputs: spec.rows === 1 ? rows[0] : rows });
}

export async function runLoad(job: LoadJob): Promise<LoadResult> {
  const url = new URL(job.url);
  if (url.hostname !== '127.0.0.1') throw new Error('the load generator only targets 127.0.0.1');
  const agent = new http.Agent({ keepAlive: true, maxSockets: job.concurrency });
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let cachedTrue = 0;
  let errors = 0;
  let sent = 0;
  const started = performance.now();
  const deadline = started + job.durationMs;

  const one = (payload: string | undefined) =>
    new Promise<void>((resolve) => {
      const t0 = performance.now();
      const headers: Record<string, string | number> = { ...job.headers };
      if (payload !== undefined) {
        headers['content-type'] = 'application/json';
        headers['content-length'] = Buffer.byteLength(payload);
      }
      const req = http.request(
        { host: '127.0.0.1', port: url.port, path: url.pathname + url.search, method: job.method, agent, headers },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            latencies.push(performance.now() - t0);
            const key = String(res.statusCode);
            statuses[key] = (statuses[key] ?? 0) + 1;
            if (chunks.length && Buffer.concat(chunks).includes('"cached":true')) cachedTrue++;
            resolve();
          });
        },
      );
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.end(payload);
    });

  const worker = async () => {
    while (performance.now() < deadline && sent < job.maxRequests) {
      sent++;
      await one(body(job.body, sent));
    }
  };
  await Promise.all(Array.from({ length: job.concurrency }, worker));
  const elapsedMs = performance.now() - started;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? Number.NaN;
  return {
    requests: latencies.length,
    elapsedMs,
    rps: (latencies.length / elapsedMs) * 1000,
    statuses,
    cachedTrue,
    errors,
    latencyMs: { p50: q(0.5), p95: q(0.95), p99: q(0.99), max: latencies.at(-1) ?? Number.NaN },
  };
}

if (parentPort && workerData) {
  const port = parentPort;
  runLoad(workerData as LoadJob).then(
    (result) => port.postMessage({ ok: true, result }),
    (err: unknown) => port.postMessage({ ok: false, error: (err as Error).message }),
  );
}
