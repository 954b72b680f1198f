/**
 * A small closed-loop HTTP load generator, run in a worker thread so it does not share the server's
 * event loop. `concurrency` clients each keep one keep-alive connection busy, one request at a time,
 * until `maxRequests` were issued or `maxDurationMs` passed. Only ever talks to 127.0.0.1.
 */
import http from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';

export interface LoadJob {
  port: number;
  path: string;
  concurrency: number;
  maxRequests: number;
  maxDurationMs: number;
  /** `batch`: arrays of `batchSize` events for many users; `single`: one event for the client's own user. */
  kind: 'batch' | 'single';
  batchSize: number;
  /** Client i sends as clients[i % clients.length]. */
  clients: Array<{ token: string; userId: string }>;
  /** Makes event ids unique per run, so every event is a new insert. */
  prefix: string;
}

export interface LoadResult {
  requests: number;
  ok: number;
  statuses: Record<string, number>;
  errors: number;
  elapsedMs: number;
  /** Per-request latency in ms, sorted ascending. */
  latenciesMs: number[];
}

const COURSES = 5;
const CONTENTS = 20;
const USERS = 50;

/**
 * One event as JSON after its id: the `i`-th event of request `n`. A batch is a day of activity of
 * 50 learners on 20 content items of 5 courses (request n covers day n % 28); a single event is
 * the client's own. Everything is plain concatenation, so building a 1000-event body is cheap.
 */
function eventTail(i: number, n: number, userId: string): string {
  const type = ['content_view', 'progress_update', 'assessment_complete', 'content_view'][i % 4]!;
  const content = (i * 7 + n) % CONTENTS;
  const data =
    type === 'progress_update'
      ? `{"progress_percentage":${(i * 7) % 101},"time_spent_seconds":${i % 300}}`
      : type === 'assessment_complete'
        ? `{"score":${(i * 13) % 100},"time_spent_seconds":${i % 300}}`
        : `{"time_spent_seconds":${i % 300}}`;
  return (
    `","event_type":"${type}","user_id":"${userId}","session_id":"bench-session-${i % 97}",` +
    `"timestamp":"2025-06-${String(1 + (n % 28)).padStart(2, '0')}T${String(i % 24).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:00Z",` +
    `"context":{"course_id":"bench-course-${content % COURSES}","content_id":"bench-content-${content}","device_type":"desktop","browser":"bench"},` +
    `"data":${data}}`
  );
}

export async function runLoad(job: LoadJob): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: job.concurrency, maxFreeSockets: job.concurrency });
  const statuses: Record<string, number> = {};
  const latencies: number[] = [];
  let issued = 0;
  let ok = 0;
  let errors = 0;
  const started = performance.now();
  const deadline = started + job.maxDurationMs;

  const send = (body: string, token: string) =>
    new Promise<number>((resolve) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port: job.port,
          path: job.path,
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${token}` },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
          res.on('error', () => resolve(0));
        },
      );
      req.on('error', () => resolve(0));
      req.end(body);
    });

  async function client(c: number): Promise<void> {
    const who = job.clients[c % job.clients.length]!;
    while (issued < job.maxRequests && performance.now() < deadline) {
      const n = issued++;
      let body: string;
      if (job.kind === 'batch') {
        const parts = new Array<string>(job.batchSize);
        for (let i = 0; i < parts.length; i++)
          parts[i] = `{"event_id":"${job.prefix}-${n}-${i}${eventTail(i, n, `bench-user-${i % USERS}`)}`;
        body = `[${parts.join(',')}]`;
      } else {
        body = `{"event_id":"${job.prefix}-${n}${eventTail(n, c, who.userId)}`;
      }
      const t0 = performance.now();
      const status = await send(body, who.token);
      latencies.push(performance.now() - t0);
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (status >= 200 && status < 300) ok++;
      else errors++;
    }
  }

  await Promise.all(Array.from({ length: job.concurrency }, (_, c) => client(c)));
  const elapsedMs = performance.now() - started;
  agent.destroy();
  return { requests: issued, ok, statuses, errors, elapsedMs, latenciesMs: latencies.sort((a, b) => a - b) };
}

if (parentPort && workerData?.job) {
  const port = parentPort;
  runLoad(workerData.job as LoadJob).then(
    (result) => port.postMessage({ result }),
    (err: Error) => port.postMessage({ error: err.message }),
  );
}
