/**
 * The condition changes worth a log line: a condition whose status or reason moved. Pure, and
 * computed from the status before and after a reconcile, so each transition is logged once, not on
 * every pass (a message that only counts replicas does not count as a transition).
 */
import type { Condition } from '../specs/index.ts';

export interface ConditionTransition {
  type: string;
  /** "status/reason" before, or undefined for a new condition. */
  from?: string;
  status: Condition['status'];
  reason: string;
  message: string;
  level: 'info' | 'warn';
}

/** Reasons that name a failure, whatever the condition. */
const FAILURE_REASON = /Failed|Missing|Error|Refused|InvalidSpec|Stalled/;

function levelOf(c: Condition): ConditionTransition['level'] {
  if (c.type === 'Degraded') return c.status === 'True' ? 'warn' : 'info';
  return FAILURE_REASON.test(c.reason) ? 'warn' : 'info';
}

export function conditionTransitions(previous: Condition[] | undefined, next: Condition[] | undefined): ConditionTransition[] {
  const before = new Map((previous ?? []).map((c) => [c.type, c]));
  return (next ?? []).flatMap((c) => {
    const old = before.get(c.type);
    if (old && old.status === c.status && old.reason === c.reason) return [];
    return [
      {
        type: c.type,
        ...(old ? { from: `${old.status}/${old.reason}` } : {}),
        status: c.status,
        reason: c.reason,
        message: c.message,
        level: levelOf(c),
      },
    ];
  });
}
