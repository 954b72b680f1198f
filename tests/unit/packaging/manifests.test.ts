/**
 * manifests/, the chart's CRD copy, its README.md and the descriptions in values.schema.json are
 * generated (`npm run manifests`): re-render them into a temporary directory and compare, so a chart,
 * values.yaml or CRD change without regenerating fails here.
 * The samples: minimal, and full + external, which between them set every field of the CRD.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { INSTALL_NAMESPACE, renderGenerated, staleFiles } from '../../../scripts/manifests.ts';
import { makeTempDir } from '../../harness/tempdir.ts';
import { CRD_SOURCE, helm, helmDocs, HELM_TIMEOUT_MS, parseYamlStream, REPO_ROOT } from './support.ts';

let generated: Record<string, string>;
beforeAll(async () => {
  generated = await renderGenerated({ helm: await helm(), helmDocs: await helmDocs() });
}, HELM_TIMEOUT_MS);

describe('npm run manifests', () => {
  it('has generated every file: manifests/, crds-src/, the chart README and schema are what the chart and crds/ render now', () => {
    expect(Object.keys(generated)).toEqual(
      expect.arrayContaining(['manifests/install.yaml', 'charts/huntmaster/README.md', 'charts/huntmaster/values.schema.json']),
    );
    const dir = makeTempDir('manifests');
    for (const [path, content] of Object.entries(generated)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), content);
    }
    for (const path of Object.keys(generated)) {
      expect(readFileSync(join(REPO_ROOT, path), 'utf8'), `${path} is stale: run npm run manifests`).toBe(
        readFileSync(join(dir, path), 'utf8'),
      );
    }
    expect(staleFiles(generated)).toEqual([]);
  });

  it('detects a stale file', () => {
    const dir = makeTempDir('manifests-stale');
    for (const [path, content] of Object.entries(generated)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), content);
    }
    writeFileSync(join(dir, 'manifests/install.yaml'), generated['manifests/install.yaml']!.replace('replicas: 1', 'replicas: 3'));
    expect(staleFiles(generated, dir)).toEqual(['manifests/install.yaml']);
  });

  it('keeps one copy of each CRD in the chart, identical to crds/', () => {
    const copies = readdirSync(join(REPO_ROOT, 'charts/huntmaster/crds-src'));
    expect(copies).toEqual(readdirSync(join(REPO_ROOT, 'crds')).filter((f) => f.endsWith('.yaml')));
    expect(generated['charts/huntmaster/crds-src/platform.huntmaster.academy_huntmasterplatforms.yaml']).toBe(
      readFileSync(CRD_SOURCE, 'utf8'),
    );
  });

  it('renders install.yaml with the namespace, CRD, RBAC, operator and its PDB and NetworkPolicy, without Helm-only labels or hooks', () => {
    const objects = parseYamlStream(generated['manifests/install.yaml']!);
    expect(objects.map((o) => o.kind)).toEqual([
      'Namespace',
      'NetworkPolicy',
      'PodDisruptionBudget',
      'ServiceAccount',
      'CustomResourceDefinition',
      'ClusterRole',
      'ClusterRoleBinding',
      'Service',
      'Deployment',
    ]);
    expect(objects[0]!.metadata.name).toBe(INSTALL_NAMESPACE);
    for (const o of objects.slice(1)) {
      if (o.metadata.namespace) expect(o.metadata.namespace).toBe(INSTALL_NAMESPACE);
      expect(o.metadata.labels?.['helm.sh/chart']).toBeUndefined();
      expect(o.metadata.labels?.['app.kubernetes.io/managed-by']).toBe('kubectl');
    }
    expect(generated['manifests/install.yaml']).not.toContain('helm.sh/hook');
  });
});

describe('manifests/samples', () => {
  const sample = (name: string) => parse(readFileSync(join(REPO_ROOT, 'manifests/samples', name), 'utf8'));
  const crd = parse(readFileSync(CRD_SOURCE, 'utf8'));
  const specSchema = crd.spec.versions[0].schema.openAPIV3Schema.properties.spec;

  /** Leaf paths of a schema: `a.b`, `a.list[].c`, maps as `a.*`. */
  function schemaLeaves(s: any, path: string): string[] {
    if (s.properties) return Object.entries(s.properties).flatMap(([k, v]) => schemaLeaves(v, path ? `${path}.${k}` : k));
    if (s.type === 'array' && s.items) return schemaLeaves(s.items, `${path}[]`);
    if (s.type === 'object' && s.additionalProperties) return [`${path}.*`];
    return [path];
  }
  function valueLeaves(v: any, s: any, path: string): string[] {
    if (s?.properties && v && typeof v === 'object') {
      return Object.entries(v).flatMap(([k, x]) => valueLeaves(x, s.properties[k], path ? `${path}.${k}` : k));
    }
    if (Array.isArray(v)) return v.flatMap((x) => valueLeaves(x, s?.items, `${path}[]`));
    if (s?.type === 'object' && s.additionalProperties && v && typeof v === 'object' && Object.keys(v).length) return [`${path}.*`];
    return [path];
  }

  it('has a minimal sample that takes every default', () => {
    const minimal = sample('minimal.yaml');
    expect(minimal).toMatchObject({ apiVersion: 'platform.huntmaster.academy/v1alpha1', kind: 'HuntMasterPlatform', spec: {} });
  });

  it('sets every field of the CRD in full.yaml and external.yaml together', () => {
    const all = new Set(schemaLeaves(specSchema, ''));
    const used = new Set([
      ...valueLeaves(sample('full.yaml').spec, specSchema, ''),
      ...valueLeaves(sample('external.yaml').spec, specSchema, ''),
    ]);
    expect(
      [...used].filter((p) => !all.has(p)),
      'fields the CRD does not have',
    ).toEqual([]);
    expect(
      [...all].filter((p) => !used.has(p)),
      'fields no sample sets',
    ).toEqual([]);
  });
});
