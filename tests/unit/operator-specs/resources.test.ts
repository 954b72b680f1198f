/** A component's `resources` are merged over the defaults resource name by resource name, never replace them whole. */
import { describe, expect, it } from 'vitest';
import { desiredChildren } from '../../../operator/specs/desired.ts';
import { applyDefaults, DEFAULTS, mergeResources } from '../../../operator/specs/defaults.ts';
import type { Child, PlatformSpec } from '../../../operator/specs/types.ts';
import { minimalCtx, platform } from './fixtures.ts';

const containerResources = (spec: PlatformSpec, kind: string, name: string) => {
  const obj = desiredChildren(platform(spec), minimalCtx).objects.find((o: Child) => o.kind === kind && o.metadata.name === name) as any;
  return obj.spec.template.spec.containers[0].resources;
};

describe('mergeResources', () => {
  const defaults = { requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '512Mi' } };

  it('keeps the default memory limit when only requests are given', () => {
    expect(mergeResources({ requests: { cpu: '300m' } }, defaults)).toEqual({
      requests: { cpu: '300m', memory: '256Mi' },
      limits: { memory: '512Mi' },
    });
  });

  it('keeps the default requests when only limits are given, and adds a new resource beside them', () => {
    expect(mergeResources({ limits: { memory: '768Mi', 'ephemeral-storage': '1Gi' } }, defaults)).toEqual({
      requests: { cpu: '100m', memory: '256Mi' },
      limits: { memory: '768Mi', 'ephemeral-storage': '1Gi' },
    });
  });

  it('takes every value the user gives over the default of the same name', () => {
    expect(mergeResources({ requests: { cpu: 1, memory: '1Gi' }, limits: { memory: '2Gi', cpu: '2' } }, defaults)).toEqual({
      requests: { cpu: 1, memory: '1Gi' },
      limits: { memory: '2Gi', cpu: '2' },
    });
  });

  it('raises a default limit below the request the user asked for, so the pod stays valid and bounded', () => {
    expect(mergeResources({ requests: { memory: '1Gi' } }, defaults)).toEqual({
      requests: { cpu: '100m', memory: '1Gi' },
      limits: { memory: '1Gi' },
    });
  });

  it('lowers a default request above the limit the user asked for', () => {
    expect(mergeResources({ limits: { memory: '128Mi' } }, defaults)).toEqual({
      requests: { cpu: '100m', memory: '128Mi' },
      limits: { memory: '128Mi' },
    });
  });

  it('returns the defaults, as a copy, when nothing is given', () => {
    const merged = mergeResources(undefined, defaults);
    expect(merged).toEqual(defaults);
    merged.requests!.cpu = '1';
    expect(defaults.requests.cpu).toBe('100m');
  });
});

describe('resources in the desired state', () => {
  it.each([
    ['contentBridge', 'Deployment', 'demo-content-bridge'],
    ['mlServer', 'Deployment', 'demo-ml-server'],
    ['postgres', 'StatefulSet', 'demo-postgres'],
    ['redis', 'StatefulSet', 'demo-redis'],
    ['objectStorage', 'StatefulSet', 'demo-minio'],
  ] as const)('%s: a spec with only a CPU request keeps the default memory request and limit', (component, kind, name) => {
    const defaults = (applyDefaults({}) as any)[component].resources;
    expect(defaults.limits.memory).toBeDefined();
    const spec = { [component]: { resources: { requests: { cpu: '750m' } } } } as PlatformSpec;
    expect(containerResources(spec, kind, name)).toEqual({
      requests: { cpu: '750m', memory: defaults.requests.memory },
      limits: { memory: defaults.limits.memory },
    });
  });

  it('the defaults themselves are unchanged by a merge', () => {
    containerResources({ contentBridge: { resources: { requests: { memory: '4Gi' } } } }, 'Deployment', 'demo-content-bridge');
    expect(DEFAULTS.contentBridge.resources.limits.memory).toBe('512Mi');
  });
});
