/**
 * ESLint rule `local/no-import-cycle`: a module must not reach itself through relative imports,
 * type-only imports and re-exports included (a type-only cycle still ties the two modules together).
 * The import graph is read with TypeScript's preprocessor, once per file and lint run.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import ts from 'typescript';

/** Resolved relative imports of each file, shared by every file linted in this process. */
const importsOf = new Map();

function resolveImport(from, specifier) {
  if (!specifier.startsWith('.')) return undefined;
  const target = resolve(dirname(from), specifier);
  for (const candidate of [target, `${target}.ts`, resolve(target, 'index.ts')]) {
    if (/\.(ts|js|mjs)$/.test(candidate) && existsSync(candidate)) return candidate;
  }
  return undefined;
}

function imports(file, text) {
  let found = importsOf.get(file);
  if (!found) {
    const source = text ?? readFileSync(file, 'utf8');
    found = ts
      .preProcessFile(source, true, true)
      .importedFiles.map((ref) => resolveImport(file, ref.fileName))
      .filter((target) => target !== undefined);
    importsOf.set(file, found);
  }
  return found;
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
    importsOf.delete(file); // the text being linted may differ from the file on disk
    imports(file, context.sourceCode.text);
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
