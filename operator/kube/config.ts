/**
 * Where the API server is and how to authenticate, read without @kubernetes/client-node: importing
 * that package loads its whole generated API, about 85 MiB of the operator's RSS, for the one class
 * the operator used from it. Covered: the in-cluster service account (its token re-read as it
 * rotates) and a kubeconfig file's current context with a CA, client certificate and key (files or
 * data), a token or token file, basic auth or insecure-skip-tls-verify. A kubeconfig that needs
 * anything else (exec or auth-provider plugins, several files in KUBECONFIG) is read by
 * client-node's KubeConfig, imported only then.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import type { RequestOptions } from 'node:https';
import { parse } from 'yaml';

/** What KubeClient needs of a kubeconfig; client-node's KubeConfig has this shape too. */
export interface KubeCredentials {
  getCurrentCluster(): { server: string } | null;
  applyToHTTPSOptions(opts: RequestOptions): Promise<void>;
}

const SERVICE_ACCOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';
/** client-go re-reads a token file once a minute: a projected token rotates under us. */
const TOKEN_REREAD_MS = 60_000;

interface Tls {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  insecure?: boolean;
}

function tokenReader(file: string): () => string {
  let cached = { at: 0, token: '' };
  return () => {
    if (Date.now() - cached.at > TOKEN_REREAD_MS) cached = { at: Date.now(), token: readFileSync(file, 'utf8').trim() };
    return cached.token;
  };
}

function credentials(server: string, tls: Tls, auth: { token?: () => string; basic?: string }): KubeCredentials {
  return {
    getCurrentCluster: () => ({ server }),
    async applyToHTTPSOptions(opts) {
      if (tls.ca) opts.ca = tls.ca;
      if (tls.cert) opts.cert = tls.cert;
      if (tls.key) opts.key = tls.key;
      if (tls.insecure) opts.rejectUnauthorized = false;
      if (auth.basic) opts.auth = auth.basic;
      const token = auth.token?.();
      if (token) opts.headers = { ...opts.headers, authorization: `Bearer ${token}` };
    },
  };
}

interface KubeconfigFile {
  'current-context'?: string;
  contexts?: Array<{ name: string; context: { cluster: string; user: string } }>;
  clusters?: Array<{ name: string; cluster: Record<string, unknown> }>;
  users?: Array<{ name: string; user: Record<string, unknown> }>;
}

const SUPPORTED_USER_FIELDS = new Set([
  'token',
  'tokenFile',
  'client-certificate',
  'client-certificate-data',
  'client-key',
  'client-key-data',
  'username',
  'password',
]);

/** The current context of a kubeconfig file, or undefined when it needs client-node (plugins). */
function fromKubeconfig(path: string): KubeCredentials | undefined {
  const config = parse(readFileSync(path, 'utf8')) as KubeconfigFile;
  const context = config.contexts?.find((c) => c.name === config['current-context'])?.context ?? config.contexts?.[0]?.context;
  const cluster = config.clusters?.find((c) => c.name === context?.cluster)?.cluster ?? config.clusters?.[0]?.cluster;
  const user = config.users?.find((u) => u.name === context?.user)?.user ?? (context ? undefined : config.users?.[0]?.user) ?? {};
  if (!cluster || typeof cluster.server !== 'string') return undefined;
  if (Object.keys(user).some((field) => !SUPPORTED_USER_FIELDS.has(field))) return undefined;
  const base = dirname(path);
  const file = (name: unknown) => (typeof name === 'string' ? readFileSync(isAbsolute(name) ? name : join(base, name)) : undefined);
  const data = (value: unknown) => (typeof value === 'string' ? Buffer.from(value, 'base64') : undefined);
  const tls: Tls = {
    ca: data(cluster['certificate-authority-data']) ?? file(cluster['certificate-authority']),
    cert: data(user['client-certificate-data']) ?? file(user['client-certificate']),
    key: data(user['client-key-data']) ?? file(user['client-key']),
    insecure: cluster['insecure-skip-tls-verify'] === true,
  };
  const token =
    typeof user.token === 'string'
      ? () => user.token as string
      : typeof user.tokenFile === 'string'
        ? tokenReader(isAbsolute(user.tokenFile) ? user.tokenFile : join(base, user.tokenFile))
        : undefined;
  const basic = typeof user.username === 'string' ? `${user.username}:${String(user.password ?? '')}` : undefined;
  return credentials(cluster.server, tls, { token, basic });
}

function inCluster(env: NodeJS.ProcessEnv): KubeCredentials {
  const host = env.KUBERNETES_SERVICE_HOST!;
  const server = `https://${host.includes(':') ? `[${host}]` : host}:${env.KUBERNETES_SERVICE_PORT ?? '443'}`;
  return credentials(server, { ca: readFileSync(join(SERVICE_ACCOUNT, 'ca.crt')) }, { token: tokenReader(join(SERVICE_ACCOUNT, 'token')) });
}

/** As client-node's loadFromDefault: $KUBECONFIG, else ~/.kube/config, else the in-cluster service account. */
export async function loadKubeCredentials(env: NodeJS.ProcessEnv = process.env): Promise<KubeCredentials> {
  const path = env.KUBECONFIG || join(homedir(), '.kube', 'config');
  const single = !env.KUBECONFIG?.includes(':');
  if (single && existsSync(path)) {
    const own = fromKubeconfig(path);
    if (own) return own;
  } else if (single && env.KUBERNETES_SERVICE_HOST && existsSync(join(SERVICE_ACCOUNT, 'token'))) {
    return inCluster(env);
  }
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  if (single && existsSync(path)) kc.loadFromFile(path);
  else kc.loadFromDefault();
  return kc;
}
