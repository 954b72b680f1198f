/** Properties every built object must have, checked over several CRs (including a 63-character name). */
import { describe, expect, it } from 'vitest';
import { API_VERSION, KIND, LABELS, MANAGED_BY, PART_OF } from '../../../operator/specs/constants.ts';
import { desiredChildren } from '../../../operator/specs/desired.ts';
import { COMPONENTS } from '../../../operator/specs/labels.ts';
import { generatedSecrets } from '../../../operator/specs/secrets.ts';
import type { HuntMasterPlatform, Child } from '../../../operator/specs/types.ts';
import { externalCr, fullCr, fullCtx, fullSpec, minimalCr, platform, seededRandom } from './fixtures.ts';
import { podSpecs } from './render.ts';

const LONG_NAME = `a${'b'.repeat(61)}c`; // 63 characters, the most the CRD allows
const scenarios: [string, HuntMasterPlatform][] = [
  ['minimal', minimalCr],
  ['full', fullCr],
  ['external', externalCr],
  ['suspended', platform({ ...fullSpec, suspend: true })],
  ['63-character name', platform(fullSpec, LONG_NAME)],
];

const build = (cr: HuntMasterPlatform) => desiredChildren(cr, fullCtx).objects;
const SELECTOR_KEYS = [LABELS.name, LABELS.instance, LABELS.component].sort();
const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** Containers whose image cannot run with a read-only root filesystem (documented in management.ts). */
const WRITABLE_ROOT_ALLOWED = new Set(['redis-commander']);

const selectorOf = (o: any): Record<string, string> | undefined =>
  o.kind === 'Service' ? o.spec.selector : o.kind === 'NetworkPolicy' ? o.spec.podSelector.matchLabels : o.spec?.selector?.matchLabels;

describe.each(scenarios)('every object of the %s CR', (_label, cr) => {
  const objects = build(cr);
  const all: Child[] = [...objects, ...generatedSecrets(cr, seededRandom())];

  it('is owned by the CR through a controller reference', () => {
    for (const o of all) {
      expect(o.metadata.ownerReferences, `${o.kind}/${o.metadata.name}`).toEqual([
        { apiVersion: API_VERSION, kind: KIND, name: cr.metadata.name, uid: cr.metadata.uid, controller: true, blockOwnerDeletion: true },
      ]);
      expect(o.metadata.namespace).toBe(cr.metadata.namespace);
    }
  });

  it('carries the six app.kubernetes.io labels with valid values', () => {
    const known = new Set(Object.values(COMPONENTS).map((c) => `${c.name}/${c.component}`));
    for (const o of all) {
      const l = o.metadata.labels;
      const where = `${o.kind}/${o.metadata.name}`;
      expect(l[LABELS.instance], where).toBe(cr.metadata.name);
      expect(l[LABELS.partOf], where).toBe(PART_OF);
      expect(l[LABELS.managedBy], where).toBe(MANAGED_BY);
      expect(known.has(`${l[LABELS.name]}/${l[LABELS.component]}`), `${where} name/component`).toBe(true);
      expect(l[LABELS.version], where).toMatch(LABEL_VALUE);
      for (const value of Object.values(l)) expect(value.length, where).toBeLessThanOrEqual(63);
    }
  });

  it('selects pods by name, instance and component only, and the pod templates carry those labels', () => {
    for (const o of objects as any[]) {
      const selector = selectorOf(o);
      if (!selector || o.kind === 'ServiceMonitor') continue;
      expect(Object.keys(selector).sort(), `${o.kind}/${o.metadata.name}`).toEqual(SELECTOR_KEYS);
      const template = o.spec?.template?.metadata?.labels;
      if (template) expect(template, `${o.kind}/${o.metadata.name}`).toMatchObject(selector);
    }
  });

  it('has Services, PDBs and NetworkPolicies whose selectors match a workload of the same set', () => {
    const templates = objects.flatMap((o: any) => {
      const template = o.spec?.template ?? o.spec?.jobTemplate?.spec?.template; // a CronJob's pods too
      return template?.metadata?.labels ? [template.metadata.labels] : [];
    });
    for (const o of objects as any[]) {
      if (!['Service', 'PodDisruptionBudget', 'NetworkPolicy'].includes(o.kind)) continue;
      const selector = selectorOf(o)!;
      const matches = templates.some((t) => Object.entries(selector).every(([k, v]) => t[k] === v));
      expect(matches, `${o.kind}/${o.metadata.name} selects nothing`).toBe(true);
    }
  });

  it('has names that fit: DNS labels of ≤63 characters, StatefulSets ≤52, unique per kind', () => {
    const seen = new Set<string>();
    for (const o of all) {
      const name = o.metadata.name;
      expect(name, `${o.kind} name`).toMatch(DNS_LABEL);
      expect(name.length, `${o.kind}/${name}`).toBeLessThanOrEqual(o.kind === 'StatefulSet' ? 52 : 63);
      expect(seen.has(`${o.kind}/${name}`), `duplicate ${o.kind}/${name}`).toBe(false);
      seen.add(`${o.kind}/${name}`);
    }
  });

  it('runs every pod under the restricted Pod Security Standard with a read-only root filesystem', () => {
    const pods = objects.flatMap(podSpecs);
    expect(pods.length).toBeGreaterThan(0);
    for (const { where, spec } of pods) {
      expect(spec.securityContext, where).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
      expect(spec.securityContext.runAsUser, where).toBeGreaterThan(0);
      expect(spec.automountServiceAccountToken, where).toBe(false);
      expect(spec.hostNetwork ?? spec.hostPID ?? spec.hostIPC, where).toBeUndefined();
      for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
        const sc = c.securityContext;
        expect(sc, `${where} ${c.name}`).toMatchObject({
          allowPrivilegeEscalation: false,
          runAsNonRoot: true,
          capabilities: { drop: ['ALL'] },
        });
        expect(sc.privileged, `${where} ${c.name}`).toBeUndefined();
        expect(sc.capabilities.add, `${where} ${c.name}`).toBeUndefined();
        expect(sc.readOnlyRootFilesystem, `${where} ${c.name}`).toBe(!WRITABLE_ROOT_ALLOWED.has(c.name));
        expect(c.resources?.requests?.memory, `${where} ${c.name} memory request`).toBeDefined();
      }
    }
  });

  it('shares no object or array between built objects (mutating one cannot change another)', () => {
    const seen = new Set<object>();
    const walk = (v: unknown, path: string) => {
      if (v === null || typeof v !== 'object') return;
      expect(seen.has(v), `shared reference at ${path}`).toBe(false);
      seen.add(v);
      for (const [k, child] of Object.entries(v)) walk(child, `${path}.${k}`);
    };
    objects.forEach((o) => walk(o, `${o.kind}/${o.metadata.name}`));
  });

  it('gives every container unique env names, and $(VAR) references only earlier variables', () => {
    for (const { where, spec } of objects.flatMap(podSpecs)) {
      for (const c of spec.containers) {
        const names: string[] = (c.env ?? []).map((e: any) => e.name);
        expect(new Set(names).size, `${where} ${c.name}: ${names.join(',')}`).toBe(names.length);
        const strings = [
          ...(c.env ?? []).map((e: any, i: number) => ({ text: e.value ?? '', before: names.slice(0, i) })),
          ...[...(c.command ?? []), ...(c.args ?? [])].map((text: string) => ({ text, before: names })),
        ];
        for (const { text, before } of strings) {
          for (const [, ref] of text.matchAll(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g)) {
            expect(before, `${where} ${c.name} references $(${ref})`).toContain(ref);
          }
        }
      }
    }
  });

  it('references only Secret keys that exist: generated ones, or the user-supplied Secrets', () => {
    const generated = new Map(generatedSecrets(cr, seededRandom()).map((s) => [s.metadata.name, Object.keys(s.stringData ?? {})]));
    const spec = cr.spec ?? {};
    const userSecrets = new Set(
      [
        spec.postgres?.external?.secretRef.name,
        spec.redis?.external?.secretRef.name,
        spec.objectStorage?.external?.secretRef.name,
        spec.auth?.jwtSecretRef?.name,
        spec.auth?.adminSecretRef?.name,
        ...[...(spec.contentBridge?.env ?? []), ...(spec.mlServer?.env ?? [])].map((e) => e.valueFrom?.secretKeyRef?.name),
      ].filter((n): n is string => Boolean(n)),
    );
    for (const { where, spec: pod } of objects.flatMap(podSpecs)) {
      for (const c of pod.containers) {
        for (const e of c.env ?? []) {
          const ref = e.valueFrom?.secretKeyRef;
          if (!ref) continue;
          if (generated.has(ref.name)) expect(generated.get(ref.name), `${where} ${e.name}`).toContain(ref.key);
          else expect(userSecrets.has(ref.name), `${where} ${e.name} → unknown Secret ${ref.name}`).toBe(true);
        }
      }
    }
  });

  it('names every container port, and probes use those names', () => {
    for (const { where, spec } of objects.flatMap(podSpecs)) {
      for (const c of spec.containers) {
        const ports = new Set((c.ports ?? []).map((p: any) => p.name));
        for (const p of c.ports ?? []) expect(p.name, where).toMatch(/^[a-z][-a-z0-9]{0,14}$/);
        for (const probe of [c.startupProbe, c.readinessProbe, c.livenessProbe].filter(Boolean)) {
          const port = probe.httpGet?.port ?? probe.tcpSocket?.port;
          if (port !== undefined) expect(ports.has(port), `${where} ${c.name} probe port ${port}`).toBe(true);
        }
      }
    }
  });
});
