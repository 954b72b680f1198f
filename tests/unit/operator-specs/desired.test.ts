/**
 * The complete desired state of three CRs, as YAML file snapshots a reviewer can read
 * (tests/unit/operator-specs/__snapshots__/*.yaml). Any change to a built object shows up there.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { desiredChildren } from '../../../operator/specs/desired.ts';
import { generatedSecrets } from '../../../operator/specs/secrets.ts';
import { externalCr, fullCr, fullCtx, minimalCr, minimalCtx, seededRandom } from './fixtures.ts';
import { SNAPSHOT_DIR, toYaml } from './render.ts';

const summary = (cr: typeof minimalCr, ctx: typeof minimalCtx) => {
  const d = desiredChildren(cr, ctx);
  return [
    `desiredChildren(${cr.metadata.namespace}/${cr.metadata.name})`,
    `generated Secrets (created separately): ${d.generatedSecretNames.join(', ') || 'none'}`,
    `skipped: ${d.skipped.map((s) => `${s.kind} (${s.reason})`).join(', ') || 'nothing'}`,
  ].join('\n');
};

describe('desired state snapshots', () => {
  it('minimal CR: everything managed, defaults only', async () => {
    const { objects } = desiredChildren(minimalCr, minimalCtx);
    await expect(await toYaml(objects, summary(minimalCr, minimalCtx))).toMatchFileSnapshot(`${SNAPSHOT_DIR}desired-minimal.yaml`);
  });

  it('full CR: every option switched on, monitoring CRDs present', async () => {
    const { objects } = desiredChildren(fullCr, fullCtx);
    await expect(await toYaml(objects, summary(fullCr, fullCtx))).toMatchFileSnapshot(`${SNAPSHOT_DIR}desired-full.yaml`);
  });

  it('external CR: PostgreSQL, Redis, S3 and the JWT secret supplied by the user', async () => {
    const { objects } = desiredChildren(externalCr, minimalCtx);
    await expect(await toYaml(objects, summary(externalCr, minimalCtx))).toMatchFileSnapshot(`${SNAPSHOT_DIR}desired-external.yaml`);
  });

  it('generated Secrets of the minimal CR, from a seeded random source', async () => {
    const secrets = generatedSecrets(minimalCr, seededRandom(42));
    await expect(await toYaml(secrets, 'generatedSecrets(hunting/demo, seededRandom(42))')).toMatchFileSnapshot(
      `${SNAPSHOT_DIR}generated-secrets-minimal.yaml`,
    );
  });
});

describe('the snapshot files', () => {
  const files = readdirSync(SNAPSHOT_DIR).filter((f) => f.endsWith('.yaml'));

  it.each(files)('%s reads the same to a YAML 1.1 reader (kubectl, go-yaml) as to a YAML 1.2 one', (file) => {
    const text = readFileSync(`${SNAPSHOT_DIR}${file}`, 'utf8');
    const read = (version: '1.1' | '1.2') => parseAllDocuments(text, { version }).map((d) => d.toJS());
    expect(read('1.1')).toEqual(read('1.2'));
  });

  it('so Redis gets the string "yes" for --appendonly, not a boolean', () => {
    const text = readFileSync(`${SNAPSHOT_DIR}desired-minimal.yaml`, 'utf8');
    const redis = parseAllDocuments(text, { version: '1.1' })
      .map((d) => d.toJS())
      .find((o) => o?.kind === 'StatefulSet' && o.metadata.name === 'demo-redis');
    const args: unknown[] = redis.spec.template.spec.containers[0].args;
    expect(args[args.indexOf('--appendonly') + 1]).toBe('yes');
  });
});
