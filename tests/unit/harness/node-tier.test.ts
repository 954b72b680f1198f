/** Pure parts of the node tier's harness: what its cleanup counts as its own, and how the policy agent's rules are undone. */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mentionsNodeTempDir } from '../../harness/node/cleanup.ts';
import { splitRule } from '../../harness/node/policy-agent.ts';

describe('the node cleanup’s notion of its own processes and mounts', () => {
  const dir = join(tmpdir(), 'hma-node-Qdy96L');

  it('claims what runs from or points into a node temp dir', () => {
    expect(mentionsNodeTempDir(`containerd --config ${dir}/containerd/config.toml`)).toBe(true);
    expect(mentionsNodeTempDir(`${dir}/kubelet/pods/x/volumes`)).toBe(true);
    expect(mentionsNodeTempDir(dir)).toBe(true);
  });

  it('leaves the shared lock’s holder alone, and other temp dirs that share the prefix', () => {
    // `flock /tmp/hma-node-tier.lock npx vitest …` holds the lock for the whole run.
    expect(mentionsNodeTempDir(`flock ${join(tmpdir(), 'hma-node-tier.lock')} npx vitest run --project node`)).toBe(false);
    expect(mentionsNodeTempDir(join(tmpdir(), 'hma-nodetest-abc123', 'kubeconfig'))).toBe(false);
    expect(mentionsNodeTempDir(`${dir}x/file`)).toBe(false);
  });
});

describe('undoing a kube-router rule from `iptables -S`', () => {
  it('splits a rule into its arguments, quoted comments kept whole', () => {
    const rule = 'FORWARD -m comment --comment "kube-router netpol - TEMCG2JMHZYE7H7T" -j KUBE-ROUTER-FORWARD';
    expect(splitRule(rule)).toEqual([
      'FORWARD',
      '-m',
      'comment',
      '--comment',
      'kube-router netpol - TEMCG2JMHZYE7H7T',
      '-j',
      'KUBE-ROUTER-FORWARD',
    ]);
  });
});
