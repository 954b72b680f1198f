/**
 * The node tier's certificates, made with openssl: one CA signs the API server's serving cert, the
 * kubelet's serving cert and the API server's client cert towards the kubelet, so each side of
 * every TLS connection is verified. Components authenticate to the API server with tokens.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../shell.ts';

export interface Pki {
  dir: string;
  caCert: string;
  caKey: string;
  apiserverCert: string;
  apiserverKey: string;
  kubeletCert: string;
  kubeletKey: string;
  apiserverKubeletClientCert: string;
  apiserverKubeletClientKey: string;
  serviceAccountKey: string;
  serviceAccountPub: string;
  caPem: string;
}

interface CertRequest {
  name: string;
  subject: string;
  extensions: string[];
}

async function newKey(path: string): Promise<void> {
  // P-256: as strong as RSA 3072 for this purpose, and generated in milliseconds.
  await run(`key ${path}`, 'openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', path]);
}

async function signed(dir: string, ca: { cert: string; key: string }, req: CertRequest): Promise<[cert: string, key: string]> {
  const key = join(dir, `${req.name}.key`);
  const csr = join(dir, `${req.name}.csr`);
  const cert = join(dir, `${req.name}.crt`);
  const ext = join(dir, `${req.name}.ext`);
  await newKey(key);
  await run(`csr ${req.name}`, 'openssl', ['req', '-new', '-key', key, '-subj', req.subject, '-out', csr]);
  writeFileSync(ext, ['basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment', ...req.extensions, ''].join('\n'));
  await run(`sign ${req.name}`, 'openssl', [
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    ca.cert,
    '-CAkey',
    ca.key,
    // A random serial per certificate: the three are signed at once, and -CAcreateserial's shared
    // ca.srl file races ("Unable to load number from ca.srl").
    '-set_serial',
    `0x${randomBytes(16).toString('hex')}`,
    '-days',
    '7',
    '-sha256',
    '-extfile',
    ext,
    '-out',
    cert,
  ]);
  return [cert, key];
}

export async function makePki(root: string, opts: { nodeName: string; nodeIp: string; apiServiceIp: string }): Promise<Pki> {
  const dir = join(root, 'pki');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const ca = { cert: join(dir, 'ca.crt'), key: join(dir, 'ca.key') };
  await newKey(ca.key);
  await run('ca', 'openssl', [
    'req',
    '-x509',
    '-new',
    '-key',
    ca.key,
    '-sha256',
    '-days',
    '7',
    '-subj',
    '/CN=hma-node-tier-ca',
    '-out',
    ca.cert,
  ]);
  const apiSans = [
    `IP:${opts.nodeIp}`,
    `IP:${opts.apiServiceIp}`,
    'DNS:kubernetes',
    'DNS:kubernetes.default',
    'DNS:kubernetes.default.svc',
    'DNS:kubernetes.default.svc.cluster.local',
  ].join(',');
  const [[apiserverCert, apiserverKey], [kubeletCert, kubeletKey], [clientCert, clientKey]] = await Promise.all([
    signed(dir, ca, {
      name: 'apiserver',
      subject: '/CN=kube-apiserver',
      extensions: ['extendedKeyUsage=serverAuth', `subjectAltName=${apiSans}`],
    }),
    signed(dir, ca, {
      name: 'kubelet',
      subject: `/CN=${opts.nodeName}`,
      extensions: ['extendedKeyUsage=serverAuth', `subjectAltName=IP:${opts.nodeIp},DNS:${opts.nodeName}`],
    }),
    signed(dir, ca, {
      name: 'apiserver-kubelet-client',
      subject: '/O=system:masters/CN=kube-apiserver-kubelet-client',
      extensions: ['extendedKeyUsage=clientAuth'],
    }),
  ]);
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const serviceAccountKey = join(dir, 'sa.key');
  const serviceAccountPub = join(dir, 'sa.pub');
  writeFileSync(serviceAccountKey, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  writeFileSync(serviceAccountPub, publicKey.export({ type: 'spki', format: 'pem' }));
  return {
    dir,
    caCert: ca.cert,
    caKey: ca.key,
    apiserverCert,
    apiserverKey,
    kubeletCert,
    kubeletKey,
    apiserverKubeletClientCert: clientCert,
    apiserverKubeletClientKey: clientKey,
    serviceAccountKey,
    serviceAccountPub,
    caPem: readFileSync(ca.cert, 'utf8'),
  };
}

/** One token per component identity, in kube-apiserver's --token-auth-file format. */
export interface Identity {
  user: string;
  groups: string[];
}

export function tokenFile(path: string, identities: Record<string, Identity>): Record<string, string> {
  const tokens: Record<string, string> = {};
  const lines: string[] = [];
  for (const [key, id] of Object.entries(identities)) {
    tokens[key] = randomBytes(24).toString('hex');
    lines.push(`${tokens[key]},${id.user},${id.user},"${id.groups.join(',')}"`);
  }
  writeFileSync(path, lines.join('\n') + '\n', { mode: 0o600 });
  return tokens;
}
