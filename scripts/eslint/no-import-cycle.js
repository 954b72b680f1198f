/**
 * ESLint rule `local/no-import-cycle`: a module must not reach itself through relative imports,
 * type-only imports and re-exports included (a type-only cycle still ties the two modules together).
 * The import graph is read with TypeScript's preprocessor, once per file and lint run.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import ts from 'typescript';

/** Resolved relative imports of each file, shared by every file linted in this process; mtimeMs -1: linted text. */
const importsOf = new Map();

function resolveImport(from, specifier) {
  if (!specifier.startsWith('.')) return undefined;
  const target = resolve(dirname(from), specifier);
  for (const candidate of [target, `${target}.ts`, resolve(target, 'index.ts')]) {
    if (/\.(ts|js|mjs)$/.test(candidate) && existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** The resolved relative imports of `file` (of `text` when given: the text being linted). */
function imports(file, text) {
  if (text !== undefined) {
    const found = parseImports(file, text);
    importsOf.set(file, { mtimeMs: -1, found });
    return found;
  }
  // Re-read a file changed since it was parsed (an editor keeps one process across edits).
  const mtimeMs = existsSync(file) ? statSync(file).mtimeMs : 0;
  const cached = importsOf.get(file);
  if (cached && (cached.mtimeMs === mtimeMs || cached.mtimeMs === -1)) return cached.found;
  const found = mtimeMs ? parseImports(file, readFileSync(file, 'utf8')) : [];
  importsOf.set(file, { mtimeMs, found });
  return found;
}

function parseImports(file, text) {
  return ts
    .preProcessFile(text, true, true)
    .importedFiles.map((ref) => resolveImport(file, ref.fileName))
    .filter((target) => target !== undefined);
}

/** A path of imports from `start` back to `file`, or undefined. */
function cycleThrough(file, start) {
  const seen = new Set();
  const stack = [[start, [start]]];
  while (stack.length) {
    const [current, path] = stack.pop();
    if (current === file) return path;
    if (seen.has(current)) continue;
    seen.add(current);
    for (const next of imports(current)) stack.push([next, [...path, next]]);
  }
  return undefined;
}

const rule = {
  meta: {
    type: 'problem',
    docs: { description: 'disallow relative imports that lead back to the importing module' },
    schema: [],
    messages: { cycle: 'Import cycle: {{path}}' },
  },
  create(context) {
    const file = context.filename;
    imports(file, context.sourceCode.text); // the text being linted may differ from the file on disk
    const root = context.cwd;
    const shorten = (p) => (p.startsWith(root) ? p.slice(root.length + 1) : p);
    function check(node) {
      const target = node.source && resolveImport(file, node.source.value);
      if (!target) return;
      const path = cycleThrough(file, target);
      if (path) context.report({ node, messageId: 'cycle', data: { path: [file, ...path].map(shorten).join(' → ') } });
    }
    return { ImportDeclaration: check, ExportNamedDeclaration: check, ExportAllDeclaration: check };
  },
};

export default { rules: { 'no-import-cycle': rule } };
