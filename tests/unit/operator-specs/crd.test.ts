/**
 * The CRD file: documented everywhere (kubectl explain), consistent with the TypeScript defaults
 * and with what the operator writes into status.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { API_VERSION, CRD_VERSION, GROUP, KIND, PLURAL } from '../../../operator/specs/constants.ts';
import { applyDefaults } from '../../../operator/specs/defaults.ts';
import { CONDITIONS, PHASES } from '../../../operator/specs/status.ts';
import type { PlatformSpec } from '../../../operator/specs/types.ts';
import { externalSpec, fullSpec } from './fixtures.ts';

const CRD_PATH = new URL('../../../crds/platform.huntmaster.academy_huntmasterplatforms.yaml', import.meta.url);
const crd = parse(readFileSync(CRD_PATH, 'utf8'));
const version = crd.spec.versions[0];
const root = version.schema.openAPIV3Schema;

interface Node {
  path: string;
  schema: any;
  /** Under an array's items or a map's values: no single value in the resolved spec. */
  inCollection: boolean;
}

/** Every schema node a user can write: properties, map values and array items, recursively. */
function walk(schema: any, path = '', inCollection = false, out: Node[] = []): Node[] {
  for (const [name, child] of Object.entries<any>(schema.properties ?? {})) {
    const p = path ? `${path}.${name}` : name;
    out.push({ path: p, schema: child, inCollection });
    walk(child, p, inCollection, out);
  }
  if (schema.items) {
    out.push({ path: `${path}[]`, schema: schema.items, inCollection: true });
    walk(schema.items, `${path}[]`, true, out);
  }
  if (schema.additionalProperties && typeof schema.additionalProperties === 'object') {
    out.push({ path: `${path}{}`, schema: schema.additionalProperties, inCollection: true });
    walk(schema.additionalProperties, `${path}{}`, true, out);
  }
  return out;
}

const nodes = walk(root);

/** Paths in `value` that the schema does not declare (maps and arrays followed as the schema says). */
function undeclared(value: unknown, schema: any, path: string): string[] {
  if (value === null || typeof value !== 'object' || schema['x-kubernetes-preserve-unknown-fields']) return [];
  if (Array.isArray(value)) return schema.items ? value.flatMap((v, i) => undeclared(v, schema.items, `${path}[${i}]`)) : [path];
  return Object.entries(value).flatMap(([k, v]) => {
    const child = schema.properties?.[k] ?? (typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined);
    return child ? undeclared(v, child, `${path}.${k}`) : [`${path}.${k}`];
  });
}
const get = (value: any, path: string) => path.split('.').reduce((v, key) => v?.[key], value);

describe('the HuntMasterPlatform CRD', () => {
  it('declares the group, kind, names, version and status subresource the operator uses', () => {
    expect(crd.metadata.name).toBe(`${PLURAL}.${GROUP}`);
    expect(crd.spec).toMatchObject({
      group: GROUP,
      scope: 'Namespaced',
      names: { kind: KIND, plural: PLURAL, singular: 'huntmasterplatform', shortNames: ['hmp'], categories: ['huntmaster'] },
    });
    expect(crd.spec.versions).toHaveLength(1);
    expect(version).toMatchObject({ name: CRD_VERSION, served: true, storage: true, subresources: { status: {} } });
    expect(API_VERSION).toBe(`${GROUP}/${CRD_VERSION}`);
  });

  it('has a description on every field, so kubectl explain is useful', () => {
    expect(nodes.length).toBeGreaterThan(150);
    const missing = nodes.filter(
      (n) => n.path !== 'metadata' && !(typeof n.schema.description === 'string' && n.schema.description.length > 10),
    );
    expect(missing.map((n) => n.path)).toEqual([]);
    expect(root.description).toBeTruthy();
    // The API server forbids anything but `type: object` on the root metadata, a description included.
    expect(root.properties.metadata).toEqual({ type: 'object' });
  });

  it('has defaults that are exactly the TypeScript defaults (applyDefaults)', () => {
    const defaults = nodes.filter((n) => n.schema.default !== undefined && !n.inCollection && n.path.startsWith('spec.'));
    expect(defaults.length).toBeGreaterThan(25);
    // Optional objects must exist for their nested defaults to apply: one managed and one external skeleton.
    const managed: PlatformSpec = {
      auth: { jwtSecretRef: { name: 'mine' } },
      postgres: { storage: {} },
      redis: { storage: {} },
      objectStorage: { storage: {} },
    };
    const external: PlatformSpec = {
      objectStorage: { mode: 'external', external: { endpoint: 'https://s3.example.com', secretRef: { name: 's3' } } },
    };
    const resolved = { managed: applyDefaults(managed), external: applyDefaults(external) };
    for (const { path, schema } of defaults) {
      const specPath = path.slice('spec.'.length);
      const ts = get(specPath.includes('.external.') ? resolved.external : resolved.managed, specPath);
      if (schema.default !== null && typeof schema.default === 'object') expect(ts, path).toMatchObject(schema.default);
      else expect(ts, path).toEqual(schema.default);
    }
  });

  it('declares every field the TypeScript side reads or writes (fixtures and resolved specs)', () => {
    const spec = root.properties.spec;
    for (const [label, value] of Object.entries({
      fullSpec,
      externalSpec,
      resolvedFull: applyDefaults(fullSpec),
      resolvedExternal: applyDefaults(externalSpec),
    })) {
      // `region` is the managed-mode S3 region the builders use internally; it is not a spec field.
      const { region: _region, ...objectStorage } = value.objectStorage as Record<string, unknown>;
      expect(undeclared({ ...value, objectStorage }, spec, 'spec'), label).toEqual([]);
    }
  });

  it('applies defaults from the top: spec and every section default to an object', () => {
    const spec = root.properties.spec;
    expect(spec.default).toEqual({});
    for (const section of [
      'contentBridge',
      'mlServer',
      'postgres',
      'redis',
      'objectStorage',
      'auth',
      'ingress',
      'monitoring',
      'networkPolicy',
      'management',
      'deletionPolicy',
    ]) {
      expect(spec.properties[section].default, section).toBeDefined();
    }
  });

  it('validates with CEL: external vs managed settings, storage that never shrinks, token TTL bounds', () => {
    const spec = root.properties.spec.properties;
    for (const section of ['postgres', 'redis', 'objectStorage']) {
      const rules = spec[section]['x-kubernetes-validations'].map((r: any) => r.rule);
      expect(rules, section).toContain("self.mode == 'external' ? has(self.external) : !has(self.external)");
      expect(
        rules.some((r: string) => r.includes('!has(self.storage) && !has(self.resources)')),
        section,
      ).toBe(true);
      const size = spec[section].properties.storage.properties.size;
      expect(size['x-kubernetes-validations'].map((r: any) => r.rule).join('\n'), section).toContain(
        'quantity(self).compareTo(quantity(oldSelf)) >= 0',
      );
    }
    expect(spec.contentBridge.properties.replicas.minimum).toBe(0);
    expect(spec.auth.properties.accessTokenTTL.pattern).toBeDefined();
    expect(spec.auth.properties.accessTokenTTL['x-kubernetes-validations'][0].rule).toContain("duration('24h')");
  });

  it('describes the status the operator writes: phases, conditions as a map keyed by type', () => {
    const status = root.properties.status.properties;
    expect(status.phase.enum).toEqual([...PHASES]);
    expect(status.conditions['x-kubernetes-list-type']).toBe('map');
    expect(status.conditions['x-kubernetes-list-map-keys']).toEqual(['type']);
    expect(status.conditions.items.required).toEqual(['type', 'status', 'reason', 'message', 'lastTransitionTime']);
    for (const type of Object.values(CONDITIONS)) expect(status.conditions.items.properties.type.description).toContain(type);
  });

  it('has printer columns that point at real fields', () => {
    const columns = version.additionalPrinterColumns;
    expect(columns.map((c: any) => c.name)).toEqual([
      'Ready',
      'Phase',
      'Version',
      'ContentBridge',
      'MLServer',
      'Migrated',
      'LastBackup',
      'Age',
    ]);
    const known = new Set(nodes.map((n) => `.${n.path}`));
    for (const c of columns) {
      const path = c.jsonPath.replace(/\[\?\(@\.type=="Ready"\)\]\.status$/, '[].status');
      if (path === '.metadata.creationTimestamp') continue;
      expect(known.has(path), c.jsonPath).toBe(true);
    }
  });
});
