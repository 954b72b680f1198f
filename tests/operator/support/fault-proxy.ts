/**
 * A plain-HTTP proxy in front of the real kube-apiserver that can misbehave on purpose: fail
 * requests, end watches with 410 Gone, hang watches silently, or drop them. Clients point at it
 * with a kubeconfig whose server is http://127.0.0.1:<port>.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Agent, request } from 'node:https';
import type { Socket } from 'node:net';

export interface FaultProxy {
  url: string;
  kubeconfig: string;
  /** Next n non-watch requests answer 503. */
  failRequests(n: number): void;
  /** The next watch request gets a 410 Gone ERROR event and ends. */
  goneOnNextWatch(): void;
  /** New watches get headers but no data until unset; existing watches are dropped. */
  silenceWatches(on: boolean): void;
  dropWatches(): void;
  watchCount: number;
  /** Every request passed on to the API server, with the bytes of its answer so far. */
  requests: Array<{ method: string; url: string; responseBytes: number }>;
  close(): Promise<void>;
}

/** The proxy's upstream from the test tier's kubeconfig (one cluster, a token user). */
export function upstreamOf(kubeconfig: string): { server: string; token: string; caPem: string } {
  const raw = JSON.parse(kubeconfig);
  return {
    server: raw.clusters[0].cluster.server,
    token: raw.users[0].user.token,
    caPem: Buffer.from(raw.clusters[0].cluster['certificate-authority-data'], 'base64').toString(),
  };
}

export async function startFaultProxy(target: { server: string; token: string; caPem: string }): Promise<FaultProxy> {
  const agent = new Agent({ ca: target.caPem, keepAlive: true });
  let failing = 0;
  let gone = false;
  let silent = false;
  const watches = new Set<{ res: ServerResponse; upstream?: IncomingMessage }>();
  const sockets = new Set<Socket>();

  const server: Server = createServer((req, res) => {
    const isWatch = /[?&]watch=(true|1)/.test(req.url ?? '');
    if (isWatch) proxy.watchCount++;
    if (!isWatch && failing > 0) {
      failing--;
      res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'Status', code: 503, message: 'injected' }));
      return;
    }
    if (isWatch && gone) {
      gone = false;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          type: 'ERROR',
          object: { kind: 'Status', code: 410, reason: 'Expired', message: 'injected: too old resource version' },
        }) + '\n',
      );
      return;
    }
    const entry: { res: ServerResponse; upstream?: IncomingMessage } = { res };
    if (isWatch) {
      watches.add(entry);
      res.on('close', () => watches.delete(entry));
      if (silent) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.flushHeaders();
        return;
      }
    }
    const headers = { ...req.headers, authorization: `Bearer ${target.token}`, host: new URL(target.server).host };
    const logged = { method: req.method ?? 'GET', url: req.url ?? '', responseBytes: 0 };
    proxy.requests.push(logged);
    const up = request(`${target.server}${req.url}`, { method: req.method, headers, agent }, (upstream) => {
      entry.upstream = upstream;
      upstream.on('data', (chunk: Buffer) => (logged.responseBytes += chunk.length));
      res.writeHead(upstream.statusCode ?? 502, upstream.headers);
      upstream.pipe(res);
    });
    up.on('error', () => res.destroy());
    res.on('close', () => up.destroy());
    req.pipe(up);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const dropWatches = () => {
    for (const w of watches) w.res.destroy();
    watches.clear();
  };
  const proxy: FaultProxy = {
    url,
    kubeconfig: JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'proxy', cluster: { server: url, 'insecure-skip-tls-verify': true } }], // plain HTTP on loopback
      users: [{ name: 'proxy', user: { token: 'via-proxy' } }],
      contexts: [{ name: 'proxy', context: { cluster: 'proxy', user: 'proxy' } }],
      'current-context': 'proxy',
    }),
    failRequests: (n) => (failing = n),
    goneOnNextWatch: () => (gone = true),
    silenceWatches(on) {
      silent = on;
      if (on) dropWatches();
    },
    dropWatches,
    watchCount: 0,
    requests: [],
    async close() {
      dropWatches();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
  return proxy;
}
