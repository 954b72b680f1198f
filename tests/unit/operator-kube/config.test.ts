/**
 * The operator reads its kubeconfig without @kubernetes/client-node (kube/config.ts): real files,
 * the fields the operator's deployments use, and the hand-over to client-node for what it does not read.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RequestOptions } from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { loadKubeCredentials } from '../../../operator/kube/config.ts';

const dir = mkdtempSync(join(tmpdir(), 'hma-kubeconfig-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function kubeconfig(name: string, user: Record<string, unknown>, cluster: Record<string, unknown> = {}): string {
  const path = join(dir, name);
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': 'b',
    contexts: [
      { name: 'a', context: { cluster: 'other', user: 'other' } },
      { name: 'b', context: { cluster: 'main', user: 'me' } },
    ],
    clusters: [
      { name: 'other', cluster: { server: 'https://127.0.0.2:1' } },
      { name: 'main', cluster: { server: 'https://127.0.0.1:6443', ...cluster } },
    ],
    users: [
      { name: 'other', user: { token: 'not-this-one' } },
      { name: 'me', user },
    ],
  };
  writeFileSync(path, JSON.stringify(config)); // JSON is YAML
  return path;
}

async function optionsFrom(path: string): Promise<RequestOptions> {
  const credentials = await loadKubeCredentials({ KUBECONFIG: path });
  const opts: RequestOptions = {};
  await credentials.applyToHTTPSOptions(opts);
  return { ...opts, host: credentials.getCurrentCluster()?.server };
}

describe('kubeconfig without client-node', () => {
  it('reads the current context: server, CA data and a bearer token', async () => {
    const path = kubeconfig('token', { token: 's3cret' }, { 'certificate-authority-data': Buffer.from('CA PEM').toString('base64') });
    const opts = await optionsFrom(path);
    expect(opts.host).toBe('https://127.0.0.1:6443');
    expect(String(opts.ca)).toBe('CA PEM');
    expect(opts.headers).toEqual({ authorization: 'Bearer s3cret' });
    expect(await loadKubeCredentials({ KUBECONFIG: path })).not.toBeInstanceOf(KubeConfig);
  });

  it('reads client certificates, keys and token files relative to the kubeconfig, and skips TLS checks when told', async () => {
    writeFileSync(join(dir, 'client.crt'), 'CERT PEM');
    writeFileSync(join(dir, 'client.key'), 'KEY PEM');
    writeFileSync(join(dir, 'token-file'), 'from-a-file\n');
    const path = kubeconfig(
      'certs',
      { 'client-certificate': 'client.crt', 'client-key': join(dir, 'client.key'), tokenFile: 'token-file' },
      { 'insecure-skip-tls-verify': true },
    );
    const opts = await optionsFrom(path);
    expect([String(opts.cert), String(opts.key), opts.rejectUnauthorized]).toEqual(['CERT PEM', 'KEY PEM', false]);
    expect(opts.headers).toEqual({ authorization: 'Bearer from-a-file' });
  });

  it('hands a kubeconfig with an exec plugin to client-node', async () => {
    const path = kubeconfig('exec', { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'true' } });
    const credentials = await loadKubeCredentials({ KUBECONFIG: path });
    expect(credentials).toBeInstanceOf(KubeConfig);
    expect(credentials.getCurrentCluster()?.server).toBe('https://127.0.0.1:6443');
  });
});
