/** Reads request bodies with a hard size limit, so an oversized body costs us at most `limit` bytes. */
import type { Context } from 'koa';
import { problem } from './problem.ts';

export function readBody(ctx: Context, limit: number): Promise<Buffer> {
  const declared = Number(ctx.get('content-length') || NaN);
  if (declared > limit) return Promise.reject(problem.tooLarge(`Request body exceeds ${limit} bytes`));
  const req = ctx.req;
  // Plain events rather than `for await`: the async iterator costs more than the rest of reading a
  // small JSON body, and every POST comes through here. The listeners are left in place once the
  // promise is settled (settling again is a no-op, and the request is dropped with its listeners):
  // taking four off again cost as much as adding them.
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      if (size > limit) return; // already refused
      size += chunk.length;
      if (size > limit) {
        req.destroy();
        reject(problem.tooLarge(`Request body exceeds ${limit} bytes`));
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    req.on('error', reject);
    req.on('close', () => {
      if (!req.complete) reject(Object.assign(new Error('the client closed the request before its body was read'), { code: 'ECONNRESET' }));
    });
  });
}

/** Parses a JSON body; an empty body is `undefined`. */
export async function readJson(ctx: Context, limit: number): Promise<unknown> {
  if (ctx.request.length === 0 && !ctx.get('transfer-encoding')) return undefined;
  const type = ctx.get('content-type');
  // The common spellings skip type-is's parsing; anything else is checked properly.
  if (
    type &&
    type !== 'application/json' &&
    type !== 'application/json; charset=utf-8' &&
    !ctx.is('application/json', 'application/*+json')
  ) {
    throw problem.unsupportedMediaType(`Expected application/json, got ${type}`);
  }
  const raw = await readBody(ctx, limit);
  if (raw.length === 0) return undefined;
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw problem.badRequest(`Malformed JSON: ${(err as Error).message}`);
  }
}
