/**
 * The one load generator of the benchmarks: `concurrency` closed-loop clients, each on its own
 * keep-alive connection, sending its next request as soon as the previous answer has been read,
 * until `durationMs` elapses (after `warmupMs`, not counted) or `maxRequests` have been sent.
 * Loopback only. It runs in the benchmark's own process; the service under test runs in another
 * (bench/lib/service.ts).
 *
 * It speaks HTTP/1.1 on raw sockets: requests are written as one buffer and answers are framed by
 * Content-Length (every answer of the services and baselines has one). node:http's client costs
 * several times more CPU per request, and on a 2-core machine the load generator's CPU is taken
 * from the server under test.
 */
import { connect, type Socket } from 'node:net';

export interface LoadOptions {
  /** Several URLs (replicas of one service): client c connects to url[c % n], as kube-proxy spreads connections. */
  url: string | string[];
  method?: string;
  /** Fixed headers, or headers per client (e.g. one user's token per client). */
  headers?: Record<string, string> | ((client: number) => Record<string, string>);
  /** A fixed body, or one per request (`i` counts requests across clients). */
  body?: string | ((i: number, client: number) => string);
  /** Varies the path per request, e.g. to spread over many items. */
  path?: (i: number) => string;
  concurrency: number;
  durationMs: number;
  warmupMs?: number;
  maxRequests?: number;
  expectStatus?: number;
  /** Counts the answers whose body this pattern matches (e.g. `"cached":true`). */
  countMatches?: RegExp;
}

export interface LoadResult {
  requests: number;
  /** Answers with a status other than `expectStatus` (or no answer at all: status 0). */
  errors: number;
  statuses: Record<string, number>;
  /** Statuses of every answer, the warm-up and the last in-flight requests included (for durability checks). */
  allStatuses: Record<string, number>;
  /** Answers whose body matched `countMatches`. */
  matches: number;
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

interface Answer {
  status: number;
  /** The body's bytes: decoded only by the callers that look at it. */
  body: Buffer;
}

const HEADER_END = Buffer.from('\r\n\r\n');
const CONTENT_LENGTH = /\r\ncontent-length:/i;

/** One keep-alive connection that sends a request and resolves with the answer. */
class Connection {
  readonly #socket: Socket;
  #buffer: Buffer = Buffer.alloc(0);
  #waiting: ((answer: Answer) => void) | undefined;
  #failed: Error | undefined;

  constructor(port: number, host: string) {
    this.#socket = connect({ port, host, noDelay: true });
    this.#socket.on('data', (chunk: Buffer) => {
      this.#buffer = this.#buffer.length ? Buffer.concat([this.#buffer, chunk]) : chunk;
      this.#parse();
    });
    const fail = (err: Error) => {
      this.#failed = err;
      this.#waiting?.({ status: 0, body: Buffer.from(err.message) });
      this.#waiting = undefined;
    };
    this.#socket.on('error', fail);
    this.#socket.on('close', () => fail(new Error('connection closed')));
  }

  send(request: string | Buffer): Promise<Answer> {
    if (this.#failed) return Promise.resolve({ status: 0, body: Buffer.from(this.#failed.message) });
    return new Promise((resolve) => {
      this.#waiting = resolve;
      this.#socket.write(request);
    });
  }

  #parse(): void {
    const end = this.#buffer.indexOf(HEADER_END);
    if (end < 0) return;
    const head = this.#buffer.toString('latin1', 0, end);
    const status = Number(head.slice(9, 12));
    const lengthAt = head.search(CONTENT_LENGTH);
    let body: Buffer;
    let total: number;
    if (lengthAt >= 0) {
      total = end + 4 + parseInt(head.slice(head.indexOf(':', lengthAt) + 1), 10);
      if (this.#buffer.length < total) return;
      body = this.#buffer.subarray(end + 4, total);
    } else if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
      const chunked = readChunked(this.#buffer, end + 4);
      if (!chunked) return;
      ({ body, total } = chunked);
    } else {
      this.#socket.destroy(new Error(`an answer without Content-Length or chunked encoding: ${head.split('\r\n')[0]}`));
      return;
    }
    this.#buffer = this.#buffer.subarray(total);
    const resolve = this.#waiting;
    this.#waiting = undefined;
    resolve?.({ status, body });
  }

  close(): void {
    this.#socket.removeAllListeners('close');
    this.#socket.destroy();
  }
}

/** A complete chunked body starting at `from`, or undefined while more bytes are needed. */
function readChunked(buffer: Buffer, from: number): { body: Buffer; total: number } | undefined {
  let at = from;
  const chunks: Buffer[] = [];
  for (;;) {
    const lineEnd = buffer.indexOf('\r\n', at);
    if (lineEnd < 0) return undefined;
    const size = parseInt(buffer.toString('latin1', at, lineEnd), 16);
    const dataEnd = lineEnd + 2 + size;
    if (buffer.length < dataEnd + 2) return undefined;
    if (size === 0) return { body: Buffer.concat(chunks), total: dataEnd + 2 }; // no trailers from these servers
    chunks.push(buffer.subarray(lineEnd + 2, dataEnd));
    at = dataEnd + 2;
  }
}

/**
 * The request line and headers up to `content-length: ` (or the whole request when there is no
 * body). Built once per client and path: only the body changes from one request to the next.
 */
function requestHead(base: URL, o: LoadOptions, path: string, headers: Record<string, string>, hasBody: boolean): string {
  let head = `${o.method ?? 'GET'} ${path} HTTP/1.1\r\nhost: ${base.host}\r\n`;
  for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
  if (!hasBody) return `${head}\r\n`;
  if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) head += 'content-type: application/json\r\n';
  return `${head}content-length: `;
}

/** Writes requests for one client: a string per request (one socket write), the head reused. */
function requestWriter(base: URL, o: LoadOptions, client: number): (i: number) => string | Buffer {
  const headers = typeof o.headers === 'function' ? o.headers(client) : (o.headers ?? {});
  const fixedPath = base.pathname + base.search;
  const body = o.body;
  if (body === undefined) {
    if (!o.path) {
      const request = Buffer.from(requestHead(base, o, fixedPath, headers, false), 'latin1');
      return () => request;
    }
    const path = o.path;
    return (i) => requestHead(base, o, path(i), headers, false);
  }
  const join = (head: string, payload: string) => `${head}${Buffer.byteLength(payload)}\r\n\r\n${payload}`;
  if (o.path) {
    const path = o.path;
    return (i) => join(requestHead(base, o, path(i), headers, true), typeof body === 'function' ? body(i, client) : body);
  }
  const head = requestHead(base, o, fixedPath, headers, true);
  if (typeof body === 'function') return (i) => join(head, body(i, client));
  const request = Buffer.from(join(head, body));
  return () => request;
}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const urls = typeof o.url === 'string' ? [o.url] : o.url;
  if (!urls.length || urls.some((u) => !/^http:\/\/(127\.\d+\.\d+\.\d+|localhost)(:\d+)?\//.test(u))) {
    throw new Error('load tests only target loopback');
  }
  const bases = urls.map((u) => new URL(u));
  const expect = o.expectStatus ?? 200;
  let counter = 0;
  const warmupEnd = Date.now() + (o.warmupMs ?? 500);
  const end = warmupEnd + o.durationMs;
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const allStatuses: Record<string, number> = {};
  let errors = 0;
  let matches = 0;
  let lastFinished = warmupEnd;
  const connections: Connection[] = [];
  const client = async (c: number) => {
    const base = bases[c % bases.length]!;
    const nextRequest = requestWriter(base, o, c);
    let connection = new Connection(Number(base.port), base.hostname);
    connections.push(connection);
    while (Date.now() < end && (o.maxRequests === undefined || counter < o.maxRequests)) {
      const i = counter++;
      const request = nextRequest(i);
      const started = performance.now();
      const answer = await connection.send(request);
      const finished = Date.now();
      allStatuses[answer.status] = (allStatuses[answer.status] ?? 0) + 1;
      if (answer.status === 0) {
        // The server closed the connection (e.g. an error answer with Connection: close): reconnect.
        connection.close();
        connection = new Connection(Number(base.port), base.hostname);
        connections.push(connection);
      }
      if (finished > warmupEnd && finished <= end) {
        latencies.push(performance.now() - started);
        lastFinished = Math.max(lastFinished, finished);
        statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
        if (answer.status !== expect) errors++;
        if (o.countMatches?.test(answer.body.toString())) matches++;
      }
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, (_, c) => client(c)));
  for (const connection of connections) connection.close();
  latencies.sort((a, b) => a - b);
  // A run bounded by maxRequests may end early: divide by the time it actually measured.
  const seconds = Math.max(1, lastFinished - warmupEnd) / 1000;
  return {
    requests: latencies.length,
    errors,
    statuses,
    allStatuses,
    matches,
    rps: latencies.length / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
  };
}
