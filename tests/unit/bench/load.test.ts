/**
 * The benchmarks' load generator (bench/lib/load.ts) speaks HTTP/1.1 on raw sockets: a node:http
 * server on loopback sees well-formed requests (per-client headers, a new body per request with
 * its right Content-Length, per-request paths), and the generator frames both Content-Length and
 * chunked answers, so its counts are the server's.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { runLoad } from '../../../bench/lib/load.ts';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

async function serve(answer: (seen: Seen, res: import('node:http').ServerResponse) => void): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const s = { method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString() };
      seen.push(s);
      answer(s, res);
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}/events`, seen };
}

describe('the load generator', () => {
  it('sends each client its own headers and every request its own body, with the right length', async () => {
    const { url, seen } = await serve((s, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ echo: JSON.parse(s.body).id }));
    });
    const result = await runLoad({
      url,
      method: 'POST',
      headers: (c) => ({ authorization: `Bearer client-${c}` }),
      body: (i, c) => JSON.stringify({ id: `r-${i}`, client: c, note: 'é' }), // a non-ASCII body: bytes, not characters
      concurrency: 3,
      durationMs: 60_000,
      warmupMs: 0,
      maxRequests: 30,
      countMatches: /"echo":"r-\d+"/,
    });
    expect(result.requests).toBe(30);
    expect(result.errors).toBe(0);
    expect(result.matches).toBe(30);
    expect(seen).toHaveLength(30);
    const ids = seen.map((s) => JSON.parse(s.body).id as string);
    expect(new Set(ids).size).toBe(30);
    for (const s of seen) {
      const body = JSON.parse(s.body) as { client: number; note: string };
      expect(s.method).toBe('POST');
      expect(s.url).toBe('/events');
      expect(s.headers.authorization).toBe(`Bearer client-${body.client}`);
      expect(s.headers['content-type']).toBe('application/json');
      expect(Number(s.headers['content-length'])).toBe(Buffer.byteLength(s.body));
      expect(body.note).toBe('é');
    }
  });

  it('reads chunked answers and counts statuses other than the expected one as errors', async () => {
    const { url, seen } = await serve((s, res) => {
      res.statusCode = s.url.endsWith('/3') ? 404 : 200;
      res.write('{"part":1,');
      res.end('"cached":true}'); // no Content-Length: node sends it chunked
    });
    const result = await runLoad({
      url,
      path: (i) => `/items/${i % 4}`,
      concurrency: 2,
      durationMs: 60_000,
      warmupMs: 0,
      maxRequests: 20,
      countMatches: /"cached":true/,
    });
    expect(seen.map((s) => s.url)).toContain('/items/3');
    expect(seen.every((s) => s.method === 'GET' && s.body === '')).toBe(true);
    expect(result.requests).toBe(20);
    expect(result.matches).toBe(20);
    expect(result.errors).toBe(seen.filter((s) => s.url === '/items/3').length);
    expect(result.statuses['404']).toBe(result.errors);
  });
});
