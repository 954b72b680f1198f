/** etcd for the control-plane tiers: a single member on loopback, without fsync (test data need not survive a power cut). */
export function etcdArgs(dataDir: string, clientPort: number, peerPort: number): string[] {
  return [
    '--name',
    'default',
    '--data-dir',
    dataDir,
    '--listen-client-urls',
    `http://127.0.0.1:${clientPort}`,
    '--advertise-client-urls',
    `http://127.0.0.1:${clientPort}`,
    '--listen-peer-urls',
    `http://127.0.0.1:${peerPort}`,
    '--initial-advertise-peer-urls',
    `http://127.0.0.1:${peerPort}`,
    '--initial-cluster',
    `default=http://127.0.0.1:${peerPort}`,
    '--unsafe-no-fsync',
    '--log-level',
    'warn',
  ];
}
