/**
 * Serves the presigned URLs of the filesystem object store (the embedded driver), so that clients
 * use them exactly as they use S3's: `GET|HEAD|PUT /_objects/<key>?expires=<unix s>&signature=<hex>`.
 *
 * - No `expires`/`signature`: 401. A signature that does not match the method, key and expiry: 403.
 *   An expired URL: 403. All as problem+json, like every other error of the services.
 * - GET streams the object (single byte ranges, If-None-Match); HEAD answers its headers.
 * - PUT streams the request body into the store, refusing more than `maxBytes` (413; nothing is
 *   kept), and answers 200 with the ETag, as S3 does.
 *
 * Mounted by an app only when its store is the filesystem driver (`mountObjectUrls` is a no-op
 * otherwise): with S3 the URLs point at the S3 endpoint.
 */
import type Koa from 'koa';
import type { Context, Next } from 'koa';
import type { ObjectStore } from '../deps/object-store.ts';
import { isFsObjectStore, ObjectTooLargeError, type FsObjectStore, type SignedMethod } from '../deps/embedded/fs-object-store.ts';
import { problem, ProblemError } from './problem.ts';

export const OBJECT_URL_PREFIX = '/_objects/';
const ROUTE_LABEL = '/_objects/{key}';

export interface ObjectUrlOptions {
  /** Largest object a presigned PUT may store. */
  maxBytes: number;
}

function parseRange(header: string, size: number): { start: number; end: number } | 'unsatisfiable' | undefined {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined; // not a single range we serve: send it all
  let start: number;
  let end: number;
  if (m[1] === '') {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || start > end) return 'unsatisfiable';
  return { start, end };
}

export function objectUrlMiddleware(store: FsObjectStore, opts: ObjectUrlOptions) {
  return async (ctx: Context, next: Next) => {
    if (!ctx.path.startsWith(OBJECT_URL_PREFIX)) return next();
    ctx.state.route = ROUTE_LABEL; // a bounded metrics label
    let key: string;
    try {
      key = ctx.path.slice(OBJECT_URL_PREFIX.length).split('/').map(decodeURIComponent).join('/');
    } catch {
      throw problem.badRequest('The object key is not valid URL encoding');
    }
    if (!key) throw problem.notFound('No object key in the URL');
    const method: SignedMethod | undefined =
      ctx.method === 'GET' || ctx.method === 'HEAD' ? 'GET' : ctx.method === 'PUT' ? 'PUT' : undefined;
    if (!method)
      throw new ProblemError({ status: 405, detail: `${ctx.method} is not allowed on objects`, headers: { Allow: 'GET, HEAD, PUT' } });
    const expires = typeof ctx.query.expires === 'string' ? ctx.query.expires : '';
    const signature = typeof ctx.query.signature === 'string' ? ctx.query.signature : '';
    if (!expires || !signature) throw problem.unauthorized('This URL needs the expires and signature of a presigned URL');
    const verdict = store.verifySignature(method, key, expires, signature);
    if (verdict === 'invalid') throw problem.forbidden('The signature does not match this method, object and expiry');
    if (verdict === 'expired') throw problem.forbidden('This presigned URL has expired');

    if (method === 'PUT') {
      const declared = Number(ctx.get('content-length') || Number.NaN);
      if (declared > opts.maxBytes) {
        ctx.set('Connection', 'close');
        throw problem.tooLarge(`The object exceeds the upload limit of ${opts.maxBytes} bytes`);
      }
      try {
        const { etag } = await store.putLimited(key, ctx.req, {
          contentType: ctx.get('content-type') || 'application/octet-stream',
          maxBytes: opts.maxBytes,
        });
        ctx.set('ETag', `"${etag}"`);
        ctx.status = 200;
        ctx.body = '';
      } catch (err) {
        if (err instanceof ObjectTooLargeError) {
          ctx.set('Connection', 'close');
          throw problem.tooLarge(`The object exceeds the upload limit of ${opts.maxBytes} bytes`);
        }
        if ((err as NodeJS.ErrnoException).code === 'ERR_STREAM_PREMATURE_CLOSE' || ctx.req.aborted) {
          throw problem.badRequest('The client closed the connection before the upload finished');
        }
        throw err;
      }
      return;
    }

    const meta = await store.meta(key);
    if (!meta) throw problem.notFound('No such object');
    const etag = `"${meta.etag}"`;
    ctx.set('ETag', etag);
    ctx.set('Last-Modified', new Date(meta.lastModified).toUTCString());
    ctx.set('Accept-Ranges', 'bytes');
    ctx.set('Cache-Control', 'private, max-age=0');
    // Uploaded files are served from the API's own origin: never let one run as a page.
    ctx.set('Content-Security-Policy', "default-src 'none'; sandbox");
    const inm = ctx.get('if-none-match');
    if (inm && inm.split(',').some((t) => t.trim().replace(/^W\//, '') === etag)) {
      ctx.status = 304;
      return;
    }
    const range = ctx.get('range') ? parseRange(ctx.get('range'), meta.size) : undefined;
    if (range === 'unsatisfiable') {
      throw new ProblemError({ status: 416, title: 'Range Not Satisfiable', headers: { 'Content-Range': `bytes */${meta.size}` } });
    }
    ctx.type = meta.contentType ?? 'application/octet-stream';
    if (ctx.method === 'HEAD') {
      ctx.status = 200;
      ctx.length = meta.size;
      return;
    }
    const found = await store.open(key, range);
    if (!found) throw problem.notFound('No such object');
    if (range) {
      ctx.status = 206;
      ctx.set('Content-Range', `bytes ${range.start}-${range.end}/${meta.size}`);
      ctx.body = found.body;
      ctx.length = range.end - range.start + 1;
    } else {
      ctx.status = 200;
      ctx.body = found.body;
      ctx.length = found.meta.size;
    }
    ctx.type = found.meta.contentType ?? 'application/octet-stream';
  };
}

/** Mounts the presigned-URL endpoint when `store` is the filesystem driver; returns whether it did. */
export function mountObjectUrls(app: Koa, store: ObjectStore, opts: ObjectUrlOptions): boolean {
  if (!isFsObjectStore(store)) return false;
  app.use(objectUrlMiddleware(store, opts));
  return true;
}
