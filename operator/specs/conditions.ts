/**
 * metav1.Condition for the platform's status: the condition types, and how one is built and merged
 * with the previous status (lastTransitionTime only moves when the status changes).
 */
import type { ComponentStatus, Condition, ConditionStatus } from './types.ts';

export const CONDITIONS = {
  ready: 'Ready',
  progressing: 'Progressing',
  degraded: 'Degraded',
  postgresReady: 'PostgresReady',
  redisReady: 'RedisReady',
  objectStorageReady: 'ObjectStorageReady',
  migrationsComplete: 'MigrationsComplete',
  contentBridgeAvailable: 'ContentBridgeAvailable',
  mlServerAvailable: 'MLServerAvailable',
} as const;

/** RFC 3339 with whole seconds, as metav1.Time serialises. */
export function timestamp(now: Date | string): string {
  return new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export type ConditionInput = Omit<Condition, 'lastTransitionTime' | 'observedGeneration'>;

/** Returns `next` with the previous lastTransitionTime when its status did not change. */
export function mergeCondition(previous: Condition[] | undefined, next: ConditionInput, now: string, generation?: number): Condition {
  const prev = previous?.find((c) => c.type === next.type);
  return {
    ...next,
    lastTransitionTime: prev && prev.status === next.status ? prev.lastTransitionTime : now,
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
  };
}

export const cond = (type: string, ok: boolean, reason: string, message: string): ConditionInput => ({
  type,
  status: (ok ? 'True' : 'False') as ConditionStatus,
  reason,
  message,
});

export interface Evaluated {
  condition: ConditionInput;
  /** A failure that waiting will not fix (Degraded). */
  hardFailure?: string;
}

export type WithComponent = Evaluated & { component: ComponentStatus };
