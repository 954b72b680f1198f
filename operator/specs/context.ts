/**
 * What the builders need besides the CR: things only the reconciler can know (hashes of live
 * Secrets, installed CRDs, operator flags). `prepare` resolves defaults, names and images once.
 */
import { DEFAULT_IMAGES, type ImageDefaults } from './constants.ts';
import { applyDefaults } from './defaults.ts';
import { platformNames, type PlatformNames } from './names.ts';
import type { HuntMasterPlatform, ResolvedSpec } from './types.ts';

export interface BuildContext {
  /**
   * configHash() over every Secret key the API pods consume (generated and user-supplied; see
   * `referencedSecretKeys`). Goes into the pod-template annotation, so rotating a secret rolls the pods.
   */
  configHash: string;
  /** Operator-level image defaults (e.g. from flags or env for air-gapped mirrors). */
  imageDefaults?: Partial<ImageDefaults>;
  /** Discovered API groups. Objects of a missing kind are skipped with a note instead of being built. */
  capabilities?: {
    /** servicemonitors.monitoring.coreos.com is installed. */
    serviceMonitor?: boolean;
    /** prometheusrules.monitoring.coreos.com is installed. */
    prometheusRule?: boolean;
  };
  /** Grafana dashboards as JSON strings, keyed by file name (e.g. `content-bridge.json`). */
  dashboards?: Record<string, string>;
}

export interface ResolvedImages {
  contentBridge: string;
  mlServer: string;
  postgres: string;
  redis: string;
  minio: string;
  minioClient: string;
  adminer: string;
  redisCommander: string;
}

/** The inputs of every builder, resolved once per reconcile. */
export interface BuildInput {
  cr: HuntMasterPlatform;
  spec: ResolvedSpec;
  names: PlatformNames;
  images: ResolvedImages;
  ctx: BuildContext;
}

/** spec.images wins, then the operator's defaults, then DEFAULT_IMAGES; API images are tagged with spec.version. */
export function resolveImages(spec: ResolvedSpec, imageDefaults: Partial<ImageDefaults> = {}): ResolvedImages {
  const d: ImageDefaults = { ...DEFAULT_IMAGES, ...Object.fromEntries(Object.entries(imageDefaults).filter(([, v]) => v !== undefined)) };
  const i = spec.images;
  return {
    contentBridge: i.contentBridge ?? `${d.contentBridgeRepository}:${spec.version}`,
    mlServer: i.mlServer ?? `${d.mlServerRepository}:${spec.version}`,
    postgres: i.postgres ?? d.postgres,
    redis: i.redis ?? d.redis,
    minio: i.minio ?? d.minio,
    minioClient: i.minioClient ?? d.minioClient,
    adminer: i.adminer ?? d.adminer,
    redisCommander: i.redisCommander ?? d.redisCommander,
  };
}

/** The tag of an image reference (`postgres:17.6` → `17.6`), else the digest's first 12 hex, else `latest`. */
export function imageTag(image: string): string {
  const [ref = '', digest] = image.split('@');
  const lastSlash = ref.lastIndexOf('/');
  const colon = ref.indexOf(':', lastSlash + 1);
  if (colon >= 0) return ref.slice(colon + 1);
  if (digest) return digest.replace(/^sha256:/, '').slice(0, 12);
  return 'latest';
}

export function prepare(cr: HuntMasterPlatform, ctx: BuildContext): BuildInput {
  const spec = applyDefaults(cr.spec);
  return { cr, spec, names: platformNames(cr), images: resolveImages(spec, ctx.imageDefaults), ctx };
}
