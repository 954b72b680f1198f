/**
 * The chart's documentation, generated from the `# --` comments of values.yaml by helm-docs (the tool
 * the Helm ecosystem uses, built by the test harness), so the comments are the one source:
 *   - charts/huntmaster/README.md: helm-docs with README.md.gotmpl;
 *   - the descriptions in values.schema.json: each key's comment as helm-docs reads it. A key that
 *     a block comment above it documents has no description of its own. The schema's types and
 *     constraints stay hand-written.
 * `npm run manifests` writes both (scripts/manifests.ts); tests compare them with what is on disk.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as prettier from 'prettier';
import { parse } from 'yaml';

/** One row of helm-docs' values table: a key (`a.b`, `a."dotted.key"`, `a[0]`) with its type and description. */
export interface ValueDoc {
  key: string;
  type: string;
  description: string;
}

const HELM_DOCS_FLAGS = ['--dry-run', '--sort-values-order', 'file', '--log-level', 'warning'];

/** The rows as JSON lines, through helm-docs' own template data (sprig's toJson escapes everything). */
const ROWS_TEMPLATE = `{{- range .Values }}
{{ dict "key" .Key "type" .Type "description" (default .AutoDescription .Description) | toJson }}
{{- end }}
`;

/** Runs helm-docs on one chart and returns what it would write; helm-docs only warns on errors, so any warning fails. */
function helmDocs(bin: string, chartDir: string, extraArgs: string[] = []): string {
  const res = spawnSync(bin, ['--chart-search-root', chartDir, ...HELM_DOCS_FLAGS, ...extraArgs], { encoding: 'utf8' });
  if (res.status !== 0 || res.stderr.trim()) {
    throw new Error(`helm-docs on ${chartDir} failed (exit ${res.status}):\n${res.stderr || res.error?.message}`);
  }
  return res.stdout;
}

/** The chart's README.md as helm-docs renders it from README.md.gotmpl, Chart.yaml and values.yaml. */
export function chartReadme(bin: string, chartDir: string): string {
  return helmDocs(bin, chartDir);
}

/** Every row of the values table, in values.yaml order. */
export function valueDocs(bin: string, chartDir: string): ValueDoc[] {
  const dir = mkdtempSync(join(tmpdir(), 'hma-helm-docs-'));
  try {
    const template = join(dir, 'rows.gotmpl');
    writeFileSync(template, ROWS_TEMPLATE);
    const out = helmDocs(bin, chartDir, ['--template-files', template]);
    return out
      .split('\n')
      .filter((line) => line.trim())
      .map((line) => JSON.parse(line) as ValueDoc);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Splits a helm-docs key into its path: `a."b.c"[0].d` is `a`, `b.c`, `[0]`, `d`. */
export function keyPath(key: string): string[] {
  return [...key.matchAll(/"([^"]*)"|\[\d+\]|[^."[\]]+/g)].map((m) => m[1] ?? m[0]);
}

/** Leaf paths of values.yaml: scalars, lists and empty maps (helm-docs documents a list or map whole). */
export function valueLeaves(values: unknown, path: string[] = []): string[][] {
  if (values && typeof values === 'object' && !Array.isArray(values) && Object.keys(values).length) {
    return Object.entries(values).flatMap(([k, v]) => valueLeaves(v, [...path, k]));
  }
  return [path];
}

/** Leaves of values.yaml that no row with a description covers, neither their own nor a block's above them. */
export function undocumentedValues(values: unknown, docs: ValueDoc[]): string[] {
  const documented = new Set(docs.filter((d) => d.description.trim()).map((d) => JSON.stringify(keyPath(d.key))));
  return valueLeaves(values)
    .filter((leaf) => !leaf.some((_, i) => documented.has(JSON.stringify(leaf.slice(0, i + 1)))))
    .map((leaf) => leaf.join('.'));
}

type Schema = { properties?: Record<string, Schema>; description?: string; [k: string]: unknown };

/** `schema` with the description of every property that values.yaml sets taken from `docs` (removed when it has none). */
export function withDescriptions(schema: Schema, values: unknown, docs: ValueDoc[]): Schema {
  const byKey = new Map(docs.filter((d) => d.description.trim()).map((d) => [JSON.stringify(keyPath(d.key)), d.description]));
  const walk = (node: Schema, value: unknown, path: string[]): Schema => {
    if (!node.properties || !value || typeof value !== 'object' || Array.isArray(value)) return node;
    const properties = { ...node.properties };
    for (const [key, child] of Object.entries(value)) {
      const prop = properties[key];
      if (!prop) continue;
      const description = byKey.get(JSON.stringify([...path, key]));
      properties[key] = walk(describe(prop, description), child, [...path, key]);
    }
    return { ...node, properties };
  };
  return walk(schema, values, []);
}

/** The property with `description` set right after its type (or removed). */
function describe(prop: Schema, description: string | undefined): Schema {
  const entries = Object.entries(prop).filter(([k]) => k !== 'description');
  if (description === undefined) return Object.fromEntries(entries);
  const at = entries.findIndex(([k]) => k === 'type') + 1;
  entries.splice(at, 0, ['description', description]);
  return Object.fromEntries(entries);
}

/** values.schema.json as it must be: the file on disk with its descriptions from values.yaml, formatted by prettier. */
export async function chartSchema(bin: string, chartDir: string): Promise<string> {
  const path = join(chartDir, 'values.schema.json');
  const schema = JSON.parse(readFileSync(path, 'utf8')) as Schema;
  const values = parse(readFileSync(join(chartDir, 'values.yaml'), 'utf8'));
  const text = JSON.stringify(withDescriptions(schema, values, valueDocs(bin, chartDir)), null, 2);
  return prettier.format(text, { ...(await prettier.resolveConfig(path)), filepath: path });
}
