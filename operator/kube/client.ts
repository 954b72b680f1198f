/**
 * A small Kubernetes REST client on node:https, authenticated by a kubeconfig (config.ts, or
 * client-node's KubeConfig). It does what the operator needs and nothing else: JSON requests, server-side apply,
 * the status subresource, and streaming watches. Every request is counted for
 * `rest_client_requests_total{code,method}`.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent, request as httpsRequest, type RequestOptions } from 'node:https';
import type { KubeCredentials } from './config.ts';
import { KubeApiError } from './errors.ts';
import type { KubeObject } from '../specs/objects.ts';
import { apiVersionOf, resourceFor, resourcePath, type ResourceType } from './resources.ts';

export const FIELD_MANAGER = 'huntmaster-operator';

export interface RequestOpts {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
  timeoutMs?: number;
}

export type RequestObserver = (method: string, code: string) => void;

export class KubeClient {
  readonly kc: KubeCredentials;
  private readonly server: URL;
  private readonly observe: RequestObserver;
  /**
   * One keep-alive agent for every request. KubeConfig hands out a new agent per request, and a new
   * agent means a new TLS connection (handshake, secure context) each time: most of the operator's
   * CPU under load, and as much again in the API server.
   */
  private agent: { agent: Agent; credentials: string } | undefined;

  constructor(kc: KubeCredentials, observe: RequestObserver = () => undefined) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig has no current cluster');
    this.kc = kc;
    this.server = new URL(cluster.server);
    this.observe = observe;
  }

  private async open(method: string, path: string, opts: RequestOpts): Promise<IncomingMessage> {
    const url = new URL(path, this.server);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const options: RequestOptions = { method, headers: { accept: 'application/json' } };
    await this.kc.applyToHTTPSOptions(options); // credentials may rotate: asked every time
    if (url.protocol === 'https:') options.agent = this.keepAliveAgent(options);
    const body = opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    // Content-Length always: node sends a DELETE's body unframed (no chunked encoding), and on a
    // kept-alive connection those bytes would be read as the start of the next request.
    if (body !== undefined) {
      options.headers = {
        ...options.headers,
        'content-type': opts.contentType ?? 'application/json',
        'content-length': Buffer.byteLength(body),
      };
    }
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(url, { ...options, signal: opts.signal, timeout: opts.timeoutMs }, resolve);
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timed out`)));
      req.on('error', (err) => {
        this.observe(method, '<error>');
        reject(err);
      });
      if (body !== undefined) req.write(body);
      req.end();
    });
  }

  /** The agent for these TLS credentials (KubeConfig reads them anew each time: compared by content). */
  private keepAliveAgent(tls: RequestOptions): Agent {
    const { ca, cert, key, rejectUnauthorized, servername } = tls;
    const credentials = [ca, cert, key, rejectUnauthorized, servername].map(String).join('\n');
    if (this.agent?.credentials !== credentials) {
      // A rotated client certificate: new connections use it; the old agent's sockets close as they idle out.
      const options = { keepAlive: true, ca, cert, key, servername, ...(rejectUnauthorized === undefined ? {} : { rejectUnauthorized }) };
      this.agent = { agent: new Agent(options), credentials };
    }
    return this.agent.agent;
  }

  /** A JSON request; non-2xx answers throw KubeApiError. */
  async request<T = any>(method: string, path: string, opts: RequestOpts = {}): Promise<T> {
    const res = await this.open(method, path, { ...opts, timeoutMs: opts.timeoutMs ?? 30_000 });
    let text = '';
    for await (const chunk of res) text += chunk;
    const status = res.statusCode ?? 0;
    this.observe(method, String(status));
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      /* not JSON */
    }
    if (status < 200 || status >= 300) throw new KubeApiError(method, path, status, parsed);
    return parsed as T;
  }

  get<T extends KubeObject>(r: ResourceType, namespace: string | undefined, name: string): Promise<T> {
    return this.request<T>('GET', resourcePath(r, namespace, name));
  }

  list<T extends KubeObject>(r: ResourceType, namespace?: string, query: RequestOpts['query'] = {}) {
    return this.request<{ metadata: { resourceVersion: string }; items: T[] }>('GET', resourcePath(r, namespace), { query });
  }

  create<T extends KubeObject>(obj: T): Promise<T> {
    const r = resourceFor(obj.apiVersion!, obj.kind!);
    return this.request<T>('POST', resourcePath(r, obj.metadata.namespace), {
      body: obj,
      query: { fieldManager: FIELD_MANAGER, fieldValidation: 'Strict' },
    });
  }

  update<T extends KubeObject>(obj: T): Promise<T> {
    const r = resourceFor(obj.apiVersion!, obj.kind!);
    return this.request<T>('PUT', resourcePath(r, obj.metadata.namespace, obj.metadata.name), {
      body: obj,
      query: { fieldManager: FIELD_MANAGER, fieldValidation: 'Strict' },
    });
  }

  /**
   * Server-side apply with our field manager (or another one, to hand a field over); `force` takes
   * ownership of the fields we set.
   */
  apply<T extends KubeObject>(obj: T, opts: { subresource?: string; force?: boolean; fieldManager?: string } = {}): Promise<T> {
    const r = resourceFor(obj.apiVersion!, obj.kind!);
    return this.request<T>('PATCH', resourcePath(r, obj.metadata.namespace, obj.metadata.name, opts.subresource), {
      body: obj,
      contentType: 'application/apply-patch+yaml', // JSON is YAML
      query: { fieldManager: opts.fieldManager ?? FIELD_MANAGER, force: opts.force ?? true, fieldValidation: 'Strict' },
    });
  }

  mergePatch<T extends KubeObject>(
    r: ResourceType,
    namespace: string | undefined,
    name: string,
    patch: unknown,
    subresource?: string,
  ): Promise<T> {
    return this.request<T>('PATCH', resourcePath(r, namespace, name, subresource), {
      body: patch,
      contentType: 'application/merge-patch+json',
      query: { fieldManager: FIELD_MANAGER },
    });
  }

  delete(r: ResourceType, namespace: string | undefined, name: string, propagationPolicy = 'Background'): Promise<unknown> {
    return this.request('DELETE', resourcePath(r, namespace, name), {
      body: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy },
      // Also as a parameter: the body alone left Jobs (whose default is Orphan) with the orphan
      // finalizer, so a replaced Job stayed "being deleted" and its pods were never collected.
      query: { propagationPolicy },
    });
  }

  /**
   * Streams watch events to `onEvent` until the server ends the watch, `signal` aborts, or an error.
   * Resolves on a clean end; throws KubeApiError (e.g. 410 Gone) or a network error otherwise.
   */
  async watch(
    path: string,
    query: RequestOpts['query'],
    onEvent: (event: { type: string; object: any }) => void,
    signal: AbortSignal,
  ): Promise<void> {
    const res = await this.open('GET', path, { query: { ...query, watch: true }, signal });
    this.observe('GET', String(res.statusCode)); // controller-runtime counts watches as GETs
    if ((res.statusCode ?? 0) >= 300) {
      let text = '';
      for await (const chunk of res) text += chunk;
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        /* keep text */
      }
      throw new KubeApiError('WATCH', path, res.statusCode ?? 0, body);
    }
    let buffer = '';
    for await (const chunk of res) {
      buffer += chunk;
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline).trim();
        buffer = buffer.slice(newline + 1);
        if (line) onEvent(JSON.parse(line));
      }
    }
  }
}

export { apiVersionOf, resourcePath };
export type { KubeObject };
