/**
 * The teardown check can fail: while the node runs, the detector that the global teardown uses
 * (tests/harness/node/cleanup.ts) sees each kind of thing the node puts on the machine. At the end
 * of the run the teardown removes them and the same detector must find none, or the run fails.
 */
import { describe, expect, it } from 'vitest';
import { findLeftovers, readBaseline } from '../harness/node/cleanup.ts';

describe('node tier leftovers detector', () => {
  it('sees the live node: processes, namespace, link, mounts, cgroups, its temp dir and runtime paths, but no change to the machine', async () => {
    const found = await findLeftovers(readBaseline()!);
    const kinds = new Set(found.map((f) => f.split(' ')[0]));
    expect([...kinds].sort()).toEqual(expect.arrayContaining(['cgroup', 'directory', 'link', 'mount', 'network', 'path', 'process']));
    // containerd's shim sockets and the kubelet's plugin dirs live at fixed paths while the node runs; the
    // machine's iptables and sysctls must not change at any time.
    expect(found.filter((f) => /iptables|sysctl/.test(f))).toEqual([]);
    // containerd, the kubelet, etcd, the API server, the controller-manager, the scheduler, kube-proxy, the provisioner, shims, pods.
    expect(found.filter((f) => f.startsWith('process')).length).toBeGreaterThan(10);
  });
});
