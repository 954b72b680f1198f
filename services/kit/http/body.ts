/** Reads request bodies with a hard size limit, so an oversized body costs us at most `limit` bytes. */
import type { Context } from 'koa';
import { problem } from './problem.ts';

export async function readBody(ctx: Context, limit: number): Promise<Buffer> {
  const declared = Number(ctx.get('content-length') || NaN);
  if (declared > limit) throw problem.tooLarge(`Request body exceeds ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      ctx.req.destroy();
      throw problem.tooLarge(`Request body exceeds ${limit} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Parses a JSON body; an empty body is `undefined`. */
export async function readJson(ctx: Context, limit: number): Promise<unknown> {
  if (ctx.request.length === 0 && !ctx.get('transfer-encoding')) return undefined;
  const type = ctx.get('content-type');
  if (type && !ctx.is('application/json', 'application/*+json')) {
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
