/**
 * The single-file multipart protocol both APIs' uploads use, over a real node:http server: fields
 * before and after the file, the refusals, the limits, and that `discard` runs (once, after `receive`
 * settled) whenever the upload fails, including when the client goes away mid-file.
 */
import { createHash, randomBytes } from 'node:crypto';
import { request, createServer, type Server } from 'node:http';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { receiveSingleFile, type UploadState } from '../../../services/kit/http/multipart.ts';
import { ProblemError } from '../../../services/kit/http/problem.ts';

interface Outcome {
  status: number;
  body: any;
  /** What happened, in order: 'receive-start', 'receive-end', 'discard'. */
  steps: string[];
}

/** Reads the whole file part, stopping early when the upload fails. */
async function collect(file: Readable, upload: UploadState): Promise<Buffer> {
  const chunks: Buffer[] = [];
  return new Promise((resolve, reject) => {
    upload.onAbort(() => resolve(Buffer.concat(chunks)));
    file.on('data', (chunk: Buffer) => chunks.push(chunk));
    file.on('end', () => resolve(Buffer.concat(chunks)));
    file.on('error', reject);
  });
}

const BOUNDARY = 'test-boundary';
const field = (name: string, value: string) => `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
const filePart = (name: string, content: string) =>
  `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"; filename="f.bin"\r\nContent-Type: application/octet-stream\r\n\r\n${content}\r\n`;
const binaryFilePart = (content: Buffer) =>
  Buffer.concat([Buffer.from(filePart('file', '').slice(0, -2), 'latin1'), content, Buffer.from('\r\n')]);
const end = `--${BOUNDARY}--\r\n`;

describe('receiveSingleFile', () => {
  let server: Server;
  let port: number;
  const outcomes: Outcome[] = [];
  let failReceive: Error | undefined;
  let maxFileBytes = 100;

  beforeAll(async () => {
    server = createServer(async (req, res) => {
      const steps: string[] = [];
      const outcome: Outcome = { status: 0, body: undefined, steps };
      outcomes.push(outcome);
      try {
        const received = await receiveSingleFile({
          req,
          fieldNames: ['title', 'note'],
          maxFieldBytes: 32,
          maxFileBytes,
          tooLargeDetail: 'too big for this test',
          async receive(file, filename, fieldsBefore, upload) {
            steps.push('receive-start');
            const bytes = await collect(file, upload);
            await new Promise((resolve) => setTimeout(resolve, 20)); // a slow store: discard must wait for it
            if (failReceive) throw failReceive;
            steps.push('receive-end');
            const sha256 = createHash('sha256').update(bytes).digest('hex');
            return { filename, fieldsBefore, content: bytes.length <= 100 ? bytes.toString() : undefined, size: bytes.length, sha256 };
          },
          async discard() {
            steps.push('discard');
          },
        });
        outcome.status = 200;
        outcome.body = received;
      } catch (err) {
        if (!(err instanceof ProblemError)) throw err;
        outcome.status = err.status;
        outcome.body = err.body('/');
      }
      res.writeHead(outcome.status, { 'content-type': 'application/json' }).end(JSON.stringify(outcome.body));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const post = async (body: string | Buffer, contentType = `multipart/form-data; boundary=${BOUNDARY}`) => {
    const before = outcomes.length;
    const payload = typeof body === 'string' ? body : new Uint8Array(body);
    const res = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', headers: { 'content-type': contentType }, body: payload });
    await res.text();
    return outcomes[before]!;
  };

  it('hands the file and the fields before it to receive, and returns its result', async () => {
    const outcome = await post(field('title', 'Elk calls') + field('note', 'ünïcode') + filePart('file', 'the bytes') + end);
    expect(outcome.status).toBe(200);
    expect(outcome.body).toEqual({
      fields: { title: 'Elk calls', note: 'ünïcode' },
      file: {
        filename: 'f.bin',
        fieldsBefore: { title: 'Elk calls', note: 'ünïcode' },
        content: 'the bytes',
        size: 9,
        sha256: createHash('sha256').update('the bytes').digest('hex'),
      },
    });
    expect(outcome.steps).toEqual(['receive-start', 'receive-end']);
  });

  it.each([
    ['file first', filePart('file', 'the bytes') + field('title', 'Elk calls') + field('note', 'late') + end, {}],
    [
      'file between the fields',
      field('title', 'Elk calls') + filePart('file', 'the bytes') + field('note', 'late') + end,
      { title: 'Elk calls' },
    ],
  ])('accepts the fields in any order (%s): receive sees those before the file, the result has them all', async (_order, body, before) => {
    const outcome = await post(body);
    expect(outcome.status, JSON.stringify(outcome.body)).toBe(200);
    expect(outcome.body.fields).toEqual({ title: 'Elk calls', note: 'late' });
    expect(outcome.body.file).toMatchObject({ fieldsBefore: before, content: 'the bytes' });
    expect(outcome.steps).toEqual(['receive-start', 'receive-end']);
  });

  it.each([
    ['a one-byte file', Buffer.from('x')],
    ['an empty file', Buffer.alloc(0)],
  ])('accepts %s with the fields after it', async (_what, data) => {
    const outcome = await post(Buffer.concat([binaryFilePart(data), Buffer.from(field('title', 'tiny') + end)]));
    expect(outcome.status).toBe(200);
    expect(outcome.body.fields).toEqual({ title: 'tiny' });
    expect(outcome.body.file).toMatchObject({ size: data.length, sha256: createHash('sha256').update(data).digest('hex') });
  });

  it('streams a large file (many chunks) whichever side of it the fields are', async () => {
    maxFileBytes = 8 * 1024 * 1024;
    try {
      const data = randomBytes(5 * 1024 * 1024);
      const sha256 = createHash('sha256').update(data).digest('hex');
      const before = await post(Buffer.concat([Buffer.from(field('title', 'big')), binaryFilePart(data), Buffer.from(end)]));
      const after = await post(Buffer.concat([binaryFilePart(data), Buffer.from(field('title', 'big') + end)]));
      for (const outcome of [before, after]) {
        expect(outcome.status).toBe(200);
        expect(outcome.body.fields).toEqual({ title: 'big' });
        expect(outcome.body.file).toMatchObject({ size: data.length, sha256 });
      }
      expect(before.body.file.fieldsBefore).toEqual({ title: 'big' });
      expect(after.body.file.fieldsBefore).toEqual({});
    } finally {
      maxFileBytes = 100;
    }
  });

  it('returns no file for a form without a file part, and calls nothing', async () => {
    const outcome = await post(field('title', 'only a field') + end);
    expect(outcome.status).toBe(200);
    expect(outcome.body).toEqual({ fields: { title: 'only a field' } });
    expect(outcome.steps).toEqual([]);
  });

  it.each([
    ['an unknown field', field('colour', 'red') + filePart('file', 'x') + end, 'body.colour', /unknown field; allowed: title, note, file/],
    ['a field twice', field('title', 'a') + field('title', 'b') + filePart('file', 'x') + end, 'body.title', /twice/],
    ['a field over its limit', field('title', 'x'.repeat(40)) + filePart('file', 'x') + end, 'body.title', /longer than 32 bytes/],
    ['a file part with another name', filePart('upload', 'x') + end, 'body.upload', /must be named "file"/],
  ])('refuses %s with a 422 naming it, before receive sees anything', async (_what, body, location, message) => {
    const outcome = await post(body);
    expect(outcome.status).toBe(422);
    expect(outcome.body.errors).toEqual([{ location, message: expect.stringMatching(message) }]);
    expect(outcome.steps).toEqual([]);
  });

  it.each([
    ['an unknown field after the file', filePart('file', 'x') + field('colour', 'red') + end, 422, /unknown field/],
    ['a field twice, on both sides of the file', field('title', 'a') + filePart('file', 'x') + field('title', 'b') + end, 422, /twice/],
    ['a field over its limit after the file', filePart('file', 'x') + field('title', 'x'.repeat(40)) + end, 422, /longer than 32 bytes/],
    ['a field after a file over the limit', filePart('file', 'x'.repeat(101)) + field('title', 'late') + end, 413, /too big for this test/],
    ['a second file', filePart('file', 'x') + filePart('file', 'y') + end, 422, /exactly one file|must be named "file"/],
    ['a file over the limit', filePart('file', 'x'.repeat(101)) + end, 413, /too big for this test/],
  ])('refuses %s, and discards what receive stored once it settled', async (_what, body, status, message) => {
    const outcome = await post(body);
    expect(outcome.status).toBe(status);
    expect(JSON.stringify(outcome.body)).toMatch(message);
    expect(outcome.steps.at(-1)).toBe('discard');
    expect(outcome.steps.filter((s) => s === 'discard')).toHaveLength(1);
    expect(outcome.steps[0]).toBe('receive-start');
  });

  it('accepts a file of exactly the limit', async () => {
    const outcome = await post(filePart('file', 'x'.repeat(100)) + end);
    expect(outcome.status).toBe(200);
    expect(outcome.body.file.content).toHaveLength(100);
  });

  it("passes receive's own failure through, after discarding", async () => {
    failReceive = new ProblemError({ status: 415, detail: 'not that kind of file' });
    try {
      const outcome = await post(filePart('file', 'x') + end);
      expect(outcome.status).toBe(415);
      expect(outcome.steps).toEqual(['receive-start', 'discard']);
    } finally {
      failReceive = undefined;
    }
  });

  it('answers 400 for a body that is not multipart', async () => {
    const outcome = await post('{}', 'application/json');
    expect(outcome.status).toBe(400);
    expect(outcome.body.detail).toMatch(/Malformed multipart request/);
  });

  it('discards when the client goes away mid-file', async () => {
    const before = outcomes.length;
    const req = request({ port, method: 'POST', headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` } });
    req.on('error', () => undefined);
    req.write(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="f.bin"\r\n\r\nhalf of it`);
    // Go away only once the server is inside receive(): on a busy machine 100 ms was not always enough.
    await expect.poll(() => outcomes[before]?.steps.includes('receive-start'), { timeout: 15_000 }).toBe(true);
    req.destroy();
    await expect.poll(() => outcomes[before]?.status, { timeout: 15_000 }).toBe(400);
    const outcome = outcomes[before]!;
    expect(outcome.body.detail).toMatch(/closed the connection/);
    expect(outcome.steps).toEqual(['receive-start', 'receive-end', 'discard']); // discard waits for receive
  });

  it('refuses a text field or a file name with a NUL character (422) before anything is stored', async () => {
    const nulField = await post(field('title', 'Elk\u0000') + filePart('file', 'the bytes') + end);
    expect(nulField.status).toBe(422);
    expect(nulField.body.errors).toEqual([{ location: 'body.title', message: 'must be valid Unicode text without NUL characters' }]);
    expect(nulField.steps).toEqual([]);
    // RFC 5987 encoding: a raw NUL in the part header is already refused by busboy as malformed (400).
    const nulName = await post(filePart('file', 'the bytes').replace('filename="f.bin"', "filename*=utf-8''f%00.bin") + end);
    expect(nulName.status, JSON.stringify(nulName.body)).toBe(422);
    expect(nulName.body.errors[0].location).toBe('body.file');
    expect(nulName.steps).toEqual([]);
  });
});
