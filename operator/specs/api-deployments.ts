/** The two APIs: a Deployment and a Service each (Content Bridge on 8090, ML Server on 8010). */
import type { V1Deployment, V1EnvVar, V1Service } from '@kubernetes/client-node';
import { ANNOTATIONS, HTTP_PATHS, UIDS } from './constants.ts';
import { API_COMPONENTS, apiEndpoint, isAutoscaled, type ApiKey } from './components.ts';
import type { BuildInput } from './context.ts';
import { LINT_EXEMPTIONS } from './lint-exemptions.ts';
import { databaseEnv, dependencyEnv, mergeEnv, processEnv, secretEnv } from './env.ts';
import { publicUrls } from './ingress.ts';
import { childMeta, podTemplateMeta, selectorLabels } from './labels.ts';
import { serviceMonitorActive } from './monitoring.ts';
import {
  containerBase,
  containerSecurityContext,
  httpProbe,
  podBase,
  podSecurityContext,
  tmpMount,
  tmpVolume,
  toResources,
} from './pod.ts';
import { secretWiring } from './secrets.ts';
import type { Child } from './types.ts';

/** Seconds the pod keeps serving after it is marked terminating, so endpoints drain first. */
export const PRE_STOP_SLEEP_SECONDS = 5;

/** Links in mail (password reset) and presigned URLs must point where clients reach the platform. */
function publicUrlEnv(input: BuildInput): V1EnvVar[] {
  const urls = publicUrls(input);
  return [
    ...(urls.contentBridge ? [{ name: 'PUBLIC_BASE_URL', value: urls.contentBridge }] : []),
    ...(urls.objectStorage ? [{ name: 'S3_PUBLIC_ENDPOINT', value: urls.objectStorage }] : []),
  ];
}

/** The first admin, created by the Content Bridge at startup while no admin exists (see the admin Secret). */
function adminEnv(input: BuildInput): V1EnvVar[] {
  const { admin } = secretWiring(input);
  return [secretEnv('ADMIN_USERNAME', admin.username), secretEnv('ADMIN_EMAIL', admin.email), secretEnv('ADMIN_PASSWORD', admin.password)];
}

function apiEnv(input: BuildInput, key: ApiKey): V1EnvVar[] {
  const { container, port } = API_COMPONENTS[key];
  const ours = [
    ...processEnv(input, container, port),
    ...databaseEnv(input),
    // The ML Server reads learning data for training through a SELECT-only role.
    ...(key === 'mlServer' ? [secretEnv('ML_READONLY_DATABASE_URL', secretWiring(input).databaseReadOnlyUrl)] : []),
    ...dependencyEnv(input),
    ...(key === 'mlServer' ? [{ name: 'CONTENT_BRIDGE_URL', value: apiEndpoint(input, 'contentBridge') }] : []),
    ...(key === 'contentBridge' ? publicUrlEnv(input) : []),
    ...(key === 'contentBridge' ? adminEnv(input) : []),
  ];
  return mergeEnv(ours, input.spec[key].env);
}

export function apiDeployment(input: BuildInput, key: ApiKey): Child<V1Deployment> {
  const { cr, spec, names, images, ctx } = input;
  const { container, port } = API_COMPONENTS[key];
  const settings = spec[key];
  const annotations: Record<string, string> = {
    [ANNOTATIONS.configHash]: ctx.configHash,
    'kubectl.kubernetes.io/default-container': container,
  };
  if (!serviceMonitorActive(input)) {
    // Annotation-based scraping only when no ServiceMonitor scrapes the pods, to avoid double scrapes.
    Object.assign(annotations, {
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': String(port),
      'prometheus.io/path': HTTP_PATHS.metrics,
    });
  }
  const autoscaled = isAutoscaled(input, key);
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: childMeta(cr, names[key], key, {
      version: spec.version,
      annotations: { ...LINT_EXEMPTIONS.spreadByTopology, ...(autoscaled ? { [ANNOTATIONS.autoscaled]: 'true' } : {}) },
    }),
    spec: {
      // Left out while autoscaled: whoever sets it in an apply owns it, and would fight the autoscaler.
      ...(autoscaled ? {} : { replicas: spec.suspend ? 0 : settings.replicas }),
      revisionHistoryLimit: 5,
      selector: { matchLabels: selectorLabels(cr, key) },
      // Never below the desired count during a rollout: new pods must be ready before old ones go.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: podTemplateMeta(cr, key, spec.version, annotations),
        spec: {
          ...podBase(input, settings.scheduling),
          securityContext: podSecurityContext(UIDS.api),
          terminationGracePeriodSeconds: 30,
          topologySpreadConstraints: [
            {
              maxSkew: 1,
              topologyKey: 'kubernetes.io/hostname',
              whenUnsatisfiable: 'ScheduleAnyway',
              labelSelector: { matchLabels: selectorLabels(cr, key) },
              matchLabelKeys: ['pod-template-hash'],
            },
          ],
          containers: [
            {
              ...containerBase(input, container, images[key]),
              ports: [{ name: 'http', containerPort: port, protocol: 'TCP' }],
              env: apiEnv(input, key),
              resources: toResources(settings.resources),
              startupProbe: httpProbe(HTTP_PATHS.liveness, 'http', { periodSeconds: 2, failureThreshold: 30 }),
              livenessProbe: httpProbe(HTTP_PATHS.liveness, 'http'),
              readinessProbe: httpProbe(HTTP_PATHS.readiness, 'http', { periodSeconds: 5, timeoutSeconds: 3, failureThreshold: 2 }),
              lifecycle: { preStop: { sleep: { seconds: PRE_STOP_SLEEP_SECONDS } } },
              securityContext: containerSecurityContext(),
              volumeMounts: [tmpMount()],
            },
          ],
          volumes: [tmpVolume()],
        },
      },
    },
  };
}

export function apiService(input: BuildInput, key: ApiKey): Child<V1Service> {
  const { cr, spec, names } = input;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: childMeta(cr, names[key], key, { version: spec.version }),
    spec: {
      type: 'ClusterIP',
      selector: selectorLabels(cr, key),
      ports: [{ name: 'http', port: API_COMPONENTS[key].port, targetPort: 'http', protocol: 'TCP' }],
    },
  };
}

export function apiObjects(input: BuildInput): Child[] {
  return (['contentBridge', 'mlServer'] as const).flatMap((key) => [apiDeployment(input, key), apiService(input, key)]);
}
