/**
 * Status as a pure function of the CR (its spec and its current status) and a summary of the live
 * children. Conditions follow metav1.Condition (conditions.ts); each component's own condition is in
 * component-conditions.ts, and this file derives Ready, Progressing, Degraded and the phase from them.
 *
 * Phases: Pending (nothing created yet), Provisioning (creating or rolling out), Ready, Degraded
 * (a hard failure, or a component lost after the platform had been ready), Suspended.
 */
import { apiEndpoint } from './components.ts';
import {
  componentConditions,
  dataSecrets,
  evaluatedIn,
  migratedVersion,
  missingMessage,
  rolloutIncomplete,
  type Components,
} from './component-conditions.ts';
import { cond, CONDITIONS, mergeCondition, timestamp, type ConditionInput } from './conditions.ts';
import type { ImageDefaults } from './constants.ts';
import { prepare, type BuildInput } from './context.ts';
import { SpecError } from './defaults.ts';
import { publicUrls } from './ingress.ts';
import type { ObservedState } from './observe.ts';
import type { HuntMasterPlatform, Phase, PlatformStatus } from './types.ts';

export { CONDITIONS, mergeCondition, timestamp } from './conditions.ts';

export const PHASES = ['Pending', 'Provisioning', 'Ready', 'Degraded', 'Suspended'] as const satisfies readonly Phase[];

export interface StatusOptions {
  now: Date | string;
  imageDefaults?: Partial<ImageDefaults>;
}

/** This pass's errors, the components' hard failures, and the missing Secrets no component reports. */
function hardFailuresOf(input: BuildInput, observed: ObservedState, components: Components): string[] {
  // Missing data-service Secrets are already a component's hardFailure; the others (JWT, service tokens) are added here.
  const dataSecretNames = new Set(Object.values(dataSecrets(input)));
  return [
    ...(observed.errors ?? []),
    ...evaluatedIn(components).flatMap((e) => (e.hardFailure ? [e.hardFailure] : [])),
    ...(observed.missingSecrets ?? []).filter((m) => !dataSecretNames.has(m.name)).map(missingMessage),
  ];
}

/** Degraded: a hard failure, or losing a component after the platform had been ready. */
function degradedCondition(cr: HuntMasterPlatform, input: BuildInput, observed: ObservedState, c: Components, hardFailures: string[]) {
  const prev = cr.status?.conditions?.find((x) => x.type === CONDITIONS.degraded);
  const wasServing = cr.status?.phase === 'Ready' || (prev?.status === 'True' && prev.reason === 'ComponentUnavailable');
  const serving = [c.postgres, c.redis, c.objectStorage, c.contentBridge, c.mlServer].every((e) => e.condition.status === 'True');
  if (input.spec.suspend) return cond(CONDITIONS.degraded, false, 'Suspended', 'The platform is suspended');
  if (observed.errors?.length) return cond(CONDITIONS.degraded, true, 'ReconcileError', hardFailures.join('; '));
  if (hardFailures.length) {
    const reason = evaluatedIn(c).find((e) => e.hardFailure)?.condition.reason ?? 'SecretMissing';
    return cond(CONDITIONS.degraded, true, reason, hardFailures.join('; '));
  }
  if (wasServing && !serving) {
    const down = evaluatedIn(c)
      .filter((e) => e.condition.status !== 'True' && e !== c.migrations)
      .map((e) => e.condition.type);
    return cond(CONDITIONS.degraded, true, 'ComponentUnavailable', `Unavailable after the platform was ready: ${down.join(', ')}`);
  }
  return cond(CONDITIONS.degraded, false, 'AsExpected', 'No failures');
}

function progressingCondition(input: BuildInput, observed: ObservedState, c: Components, hardFailures: string[]) {
  const notReady = evaluatedIn(c).filter((e) => e.condition.status !== 'True');
  const rolling = (['contentBridge', 'mlServer'] as const).filter((k) => rolloutIncomplete(input, k, observed[k]));
  if (input.spec.suspend) return cond(CONDITIONS.progressing, false, 'Suspended', 'The platform is suspended');
  if (hardFailures.length) return cond(CONDITIONS.progressing, false, 'Stalled', hardFailures.join('; '));
  if (notReady.length || rolling.length) {
    const waiting = [...notReady.map((e) => e.condition.type), ...rolling.map((k) => `rollout of ${input.names[k]}`)];
    return cond(CONDITIONS.progressing, true, 'RollingOut', `Waiting for ${waiting.join(', ')}`);
  }
  return cond(CONDITIONS.progressing, false, 'Complete', `Version ${input.spec.version} is rolled out`);
}

function readyCondition(input: BuildInput, observed: ObservedState, c: Components, hardFailures: string[]) {
  const notReady = evaluatedIn(c).filter((e) => e.condition.status !== 'True');
  const skipped = observed.skipped?.length ? ` (skipped: ${observed.skipped.map((s) => s.message).join('; ')})` : '';
  if (input.spec.suspend) return cond(CONDITIONS.ready, false, 'Suspended', 'The platform is suspended: every workload is scaled to zero');
  if (notReady.length === 0 && hardFailures.length === 0)
    return cond(CONDITIONS.ready, true, 'Ready', `All components are ready${skipped}`);
  const first = notReady[0]?.condition;
  const reason = hardFailures.length && !first ? 'ReconcileError' : (first?.reason ?? 'NotReady');
  const detail = [...notReady.map((e) => `${e.condition.type}: ${e.condition.message}`), ...(observed.errors ?? [])];
  return cond(CONDITIONS.ready, false, reason, `${detail.join('; ')}${skipped}`);
}

function phaseOf(input: BuildInput, observed: ObservedState, ready: ConditionInput, degraded: ConditionInput): Phase {
  const anythingObserved = Boolean(
    observed.contentBridge ||
    observed.mlServer ||
    observed.postgres ||
    observed.redis ||
    observed.minio ||
    observed.migrationJob ||
    observed.bucketJob,
  );
  if (input.spec.suspend) return 'Suspended';
  if (ready.status === 'True') return 'Ready';
  if (degraded.status === 'True') return 'Degraded';
  return anythingObserved ? 'Provisioning' : 'Pending';
}

/** The full status; never throws (an invalid spec becomes a Degraded status). */

export function computeStatus(cr: HuntMasterPlatform, observed: ObservedState, opts: StatusOptions): PlatformStatus {
  const now = timestamp(opts.now);
  const generation = cr.metadata.generation;
  const set = (c: ConditionInput) => mergeCondition(cr.status?.conditions, c, now, generation);

  let input: BuildInput;
  try {
    input = prepare(cr, { configHash: '', ...(opts.imageDefaults ? { imageDefaults: opts.imageDefaults } : {}) });
  } catch (err) {
    if (!(err instanceof SpecError)) throw err;
    return {
      ...(generation !== undefined ? { observedGeneration: generation } : {}),
      phase: 'Degraded',
      conditions: [
        set(cond(CONDITIONS.ready, false, 'InvalidSpec', err.message)),
        set(cond(CONDITIONS.degraded, true, 'InvalidSpec', err.message)),
      ],
    };
  }
  const { spec, images } = input;
  const components = componentConditions(cr, input, observed);
  const hardFailures = hardFailuresOf(input, observed, components);
  const ready = readyCondition(input, observed, components, hardFailures);
  const progressing = progressingCondition(input, observed, components, hardFailures);
  const degraded = degradedCondition(cr, input, observed, components, hardFailures);
  const migrated = migratedVersion(cr, input, observed);
  const os = spec.objectStorage;
  const publicEndpoints = publicUrls(input);
  return {
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
    phase: phaseOf(input, observed, ready, degraded),
    conditions: [ready, progressing, degraded, ...evaluatedIn(components).map((e) => e.condition)].map(set),
    endpoints: {
      contentBridge: apiEndpoint(input, 'contentBridge'),
      mlServer: apiEndpoint(input, 'mlServer'),
      ...(Object.keys(publicEndpoints).length ? { public: publicEndpoints } : {}),
    },
    adminSecret: spec.auth.adminSecretRef?.name ?? input.names.secrets.admin,
    ...(spec.postgres.backup.enabled ? { backup: { ...observed.backups } } : {}),
    versions: {
      platform: spec.version,
      ...(migrated ? { migrated } : {}),
      contentBridge: images.contentBridge,
      mlServer: images.mlServer,
      postgres: spec.postgres.mode === 'managed' ? images.postgres : 'external',
      redis: spec.redis.mode === 'managed' ? images.redis : 'external',
      objectStorage: os.mode === 'managed' ? images.minio : 'external',
    },
    components: {
      contentBridge: components.contentBridge.component,
      mlServer: components.mlServer.component,
      postgres: components.postgres.component,
      redis: components.redis.component,
      objectStorage: components.objectStorage.component,
    },
  };
}
