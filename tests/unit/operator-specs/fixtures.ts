/** CRs and contexts shared by the operator-specs tests. */
import type { BuildContext } from '../../../operator/specs/context.ts';
import type { HuntMasterPlatform, PlatformSpec } from '../../../operator/specs/types.ts';
import type { RandomSource } from '../../../operator/specs/secrets.ts';

export function platform(spec: PlatformSpec | undefined, name = 'demo', namespace = 'hunting'): HuntMasterPlatform {
  return {
    apiVersion: 'platform.huntmaster.academy/v1alpha1',
    kind: 'HuntMasterPlatform',
    metadata: { name, namespace, uid: '6f1c2a54-93e4-4b8e-a0f3-2d7c5e9b1a00', generation: 1 },
    ...(spec ? { spec } : {}),
  };
}

/** What a user writes for the simplest install. */
export const minimalCr = platform({});

/** Everything switched on and most defaults overridden. */
export const fullSpec: PlatformSpec = {
  version: '1.2.0',
  images: { mlServer: 'registry.example.com/hma/ml-server:1.2.0-gpu', postgres: 'registry.example.com/library/postgres:17.6-bookworm' },
  imagePullPolicy: 'Always',
  imagePullSecrets: [{ name: 'registry-credentials' }],
  contentBridge: {
    replicas: 3,
    resources: { requests: { cpu: '200m', memory: '384Mi' }, limits: { memory: '768Mi' } },
    env: [
      { name: 'LOG_LEVEL', value: 'debug' },
      { name: 'PUBLIC_BASE_URL', value: 'https://www.academy.example.com' },
      { name: 'ADMIN_PASSWORD', valueFrom: { secretKeyRef: { name: 'academy-admin', key: 'password' } } },
    ],
    podDisruptionBudget: { enabled: true, minAvailable: 2 },
  },
  mlServer: {
    replicas: 2,
    resources: { requests: { cpu: 1, memory: '2Gi' }, limits: { memory: '4Gi' } },
    env: [{ name: 'LOG_LEVEL', value: 'info' }],
    podDisruptionBudget: { enabled: true, maxUnavailable: '50%' },
    autoscaling: {
      enabled: true,
      minReplicas: 2,
      maxReplicas: 6,
      targetCPUUtilizationPercentage: 70,
      targetMemoryUtilizationPercentage: 85,
    },
  },
  postgres: {
    mode: 'managed',
    backup: { enabled: true, schedule: '15 2 * * *', retentionDays: 14 },
    storage: { size: '50Gi', storageClassName: 'fast-ssd' },
    resources: { requests: { cpu: '500m', memory: '1Gi' } },
    scheduling: {
      nodeSelector: { 'academy.example.com/pool': 'data' },
      affinity: {
        podAntiAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            {
              weight: 100,
              podAffinityTerm: {
                topologyKey: 'kubernetes.io/hostname',
                labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'ml-server' } },
              },
            },
          ],
        },
      },
    },
  },
  redis: { mode: 'managed', storage: { size: '2Gi' } },
  objectStorage: { mode: 'managed', bucket: 'academy-media', storage: { size: '100Gi' } },
  auth: { accessTokenTTL: '1h30m', issuer: 'https://academy.example.com', audience: 'academy-apps' },
  ingress: {
    enabled: true,
    className: 'nginx',
    annotations: { 'cert-manager.io/cluster-issuer': 'letsencrypt', 'nginx.ingress.kubernetes.io/proxy-body-size': '600m' },
    tls: { secretName: 'academy-tls' },
    contentBridge: { host: 'academy.example.com' },
    mlServer: { host: 'ml.academy.example.com' },
    objectStorage: { host: 'media.academy.example.com' },
  },
  monitoring: {
    serviceMonitor: { enabled: true, labels: { release: 'kube-prometheus-stack' }, interval: '15s' },
    prometheusRule: { enabled: true, labels: { release: 'kube-prometheus-stack' } },
    grafanaDashboards: { enabled: true },
  },
  scheduling: {
    tolerations: [{ key: 'academy.example.com/dedicated', operator: 'Equal', value: 'academy', effect: 'NoSchedule' }],
    priorityClassName: 'academy-high',
  },
  networkPolicy: { enabled: true },
  management: { adminer: { enabled: true }, redisCommander: { enabled: true } },
  suspend: false,
  deletionPolicy: { persistentVolumeClaims: 'Delete' },
};
export const fullCr = platform(fullSpec, 'academy', 'hunting-prod');

/** All three data services, the JWT secret and the first admin supplied by the user. */
export const externalSpec: PlatformSpec = {
  postgres: { mode: 'external', external: { secretRef: { name: 'academy-db' } } },
  redis: { mode: 'external', external: { secretRef: { name: 'academy-redis' } } },
  objectStorage: {
    mode: 'external',
    bucket: 'academy-media',
    external: { endpoint: 'https://s3.eu-central-1.amazonaws.com', region: 'eu-central-1', secretRef: { name: 'academy-s3' } },
  },
  auth: { jwtSecretRef: { name: 'academy-jwt', key: 'hmac' }, adminSecretRef: { name: 'academy-admin-account' } },
};
export const externalCr = platform(externalSpec, 'academy', 'hunting-prod');

export const minimalCtx: BuildContext = { configHash: 'c0ffee' };

export const fullCtx: BuildContext = {
  configHash: '3b7e1f0d9a2c4e6b8d0f1a3c5e7b9d1f3a5c7e9b1d3f5a7c9e1b3d5f7a9c1e3b',
  capabilities: { serviceMonitor: true, prometheusRule: true },
  dashboards: {
    'platform-overview.json': '{"title":"Hunt Master Academy – overview","panels":[]}',
    'ml-server.json': '{"title":"Hunt Master Academy – ML Server","panels":[]}',
  },
};

/** A deterministic RandomSource: a counter through a fixed multiplier, so outputs look random but never change. */
export function seededRandom(seed = 1): RandomSource {
  let state = seed >>> 0;
  return (size) => {
    const out = new Uint8Array(size);
    for (let i = 0; i < size; i++) {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      out[i] = state >>> 24;
    }
    return out;
  };
}
