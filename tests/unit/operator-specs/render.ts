/**
 * Renders objects as the multi-document YAML a reviewer reads in the file snapshots. The YAML is
 * passed through prettier with the repository's config, so the snapshot files pass `prettier --check`.
 */
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';
import { stringify } from 'yaml';

export const SNAPSHOT_DIR = fileURLToPath(new URL('./__snapshots__/', import.meta.url));

export async function toYaml(objects: readonly unknown[], header?: string): Promise<string> {
  // YAML 1.1 rules for quoting: kubectl and go-yaml read `yes`, `on`, `0755` unquoted as a boolean or
  // a number, so every string a YAML 1.1 reader would take for something else is quoted.
  const body = objects.map((o) => stringify(o, { lineWidth: 0, version: '1.1' })).join('---\n');
  const text = `${header ? `${header.replace(/^/gm, '# ')}\n` : ''}${body}`;
  const options = (await resolveConfig(`${SNAPSHOT_DIR}x.yaml`)) ?? {};
  return format(text, { ...options, parser: 'yaml' });
}

/** Every pod spec inside an object (Deployment, StatefulSet, Job), with a path for messages. */
export function podSpecs(o: any): { where: string; spec: any }[] {
  const spec = o?.spec?.template?.spec;
  return spec ? [{ where: `${o.kind}/${o.metadata.name}`, spec }] : [];
}
