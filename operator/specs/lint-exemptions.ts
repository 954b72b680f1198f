/**
 * Deliberate exceptions to kube-linter's and polaris's default checks, as the annotations those
 * tools read, each with its reason (tests/unit/operator-specs/lint.test.ts keeps every other finding
 * of the desired state at zero). Polaris has no reason field: the reason goes in a companion annotation.
 */
export const POLARIS_REASON = 'huntmaster.academy/polaris-exempt-reason-';

export const LINT_EXEMPTIONS = {
  /** The API Deployments. */
  spreadByTopology: {
    'ignore-check.kube-linter.io/no-anti-affinity':
      'Spread over nodes by topologySpreadConstraints (kubernetes.io/hostname, maxSkew 1), which balances any number of replicas; spec.scheduling.affinity may add an anti-affinity.',
  },
  /** The migration and bucket Jobs. */
  keptJob: {
    'ignore-check.kube-linter.io/job-ttl-seconds-after-finished':
      "The operator reads this Job's success (migrations gate the API rollout; the bucket exists); a TTL would delete that record and run the Job again. It is replaced when its spec changes and pruned with the platform.",
  },
  /** Redis Commander (opt-in, port-forward only). */
  writableRoot: {
    'ignore-check.kube-linter.io/no-read-only-root-fs': 'Redis Commander writes its connection config under $HOME/config at every start.',
    'polaris.fairwinds.com/notReadOnlyRootFilesystem-exempt': 'true',
    [`${POLARIS_REASON}notReadOnlyRootFilesystem`]: 'Redis Commander writes its connection config under $HOME/config at every start.',
  },
} as const satisfies Record<string, Record<string, string>>;
