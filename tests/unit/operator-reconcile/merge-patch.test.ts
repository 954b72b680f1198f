/** mergePatchFrom: the status patch removes what the new status no longer has. */
import { describe, expect, it } from 'vitest';
import { mergePatchFrom } from '../../../operator/reconcile/compare.ts';

/** RFC 7386 applied, to check the patch does what it claims. */
function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> = typeof target === 'object' && target !== null && !Array.isArray(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = applyMergePatch(out[key], value);
  }
  return out;
}

describe('mergePatchFrom', () => {
  it('sends null for keys that went away, at any depth, and replaces arrays whole', () => {
    const previous = {
      phase: 'Ready',
      endpoints: { contentBridge: 'http://a', public: { contentBridge: 'https://x' } },
      conditions: [{ type: 'Ready' }, { type: 'Degraded' }],
      versions: { migrated: '1.0.0' },
    };
    const next = { phase: 'Ready', endpoints: { contentBridge: 'http://a' }, conditions: [{ type: 'Ready' }] };
    const patch = mergePatchFrom(previous, next);
    expect(patch).toEqual({
      versions: null,
      phase: 'Ready',
      endpoints: { public: null, contentBridge: 'http://a' },
      conditions: [{ type: 'Ready' }],
    });
    expect(applyMergePatch(previous, patch)).toEqual(next);
  });

  it('is the new object itself when there was nothing before', () => {
    expect(mergePatchFrom(undefined, { phase: 'Pending' })).toEqual({ phase: 'Pending' });
  });
});
