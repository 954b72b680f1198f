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
/** promtool comes from Prometheus' Go module: v0.315.0 is Prometheus 3.15.0 (tools/promtool pins its dependencies). */
export const PROMETHEUS_MODULE_VERSION = 'v0.315.0';
