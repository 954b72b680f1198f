/**
 * The documentation moved out of the README into docs/: every relative link in the repository's
 * Markdown (and every docs/*.md a source file names) must lead to a file that exists, and a link's
 * #anchor to a heading of that file, by GitHub's slug rules. The README keeps the test command CI runs.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../harness/paths.ts';
import { makeTempDir } from '../../harness/tempdir.ts';

const SKIP = new Set(['node_modules', '.git', '.hma-data', 'coverage']);

function files(dir: string, ext: RegExp): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (SKIP.has(e.name)) return [];
    const path = join(dir, e.name);
    return e.isDirectory() ? files(path, ext) : ext.test(e.name) ? [path] : [];
  });
}

/** GitHub's heading anchor: lower case, punctuation but `-` and `_` dropped, spaces to `-`. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The anchors of a Markdown file's headings (outside code blocks), with GitHub's -1, -2 for repeats. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*```/.test(line)) fenced = !fenced;
    const m = !fenced && /^#{1,6}\s+(.*?)\s*#*$/.exec(line);
    if (!m) continue;
    const base = slug(m[1]!);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n ? `${base}-${n}` : base);
  }
  return out;
}

/** Relative links of a Markdown file outside code blocks: `[text](target)`. */
function links(markdown: string): string[] {
  const text = markdown.replace(/^\s*```[\s\S]*?^\s*```/gm, '');
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!).filter((t) => !/^[a-z]+:/i.test(t));
}

/** Broken links of one Markdown file: a missing file, or an anchor its target does not have. */
function brokenLinks(file: string): string[] {
  const markdown = readFileSync(file, 'utf8');
  return links(markdown).flatMap((target) => {
    const [path, anchor] = target.split('#') as [string, string | undefined];
    const resolved = path ? join(dirname(file), decodeURIComponent(path)) : file;
    const where = `${relative(REPO_ROOT, file)} → ${target}`;
    if (!existsSync(resolved)) return [`${where}: no such file`];
    if (anchor && resolved.endsWith('.md') && !anchors(readFileSync(resolved, 'utf8')).has(anchor)) return [`${where}: no such heading`];
    return [];
  });
}

describe('the documentation', () => {
  const markdown = files(REPO_ROOT, /\.md$/);

  it('has docs for configuration, operations, testing and the local mode, and a CONTRIBUTING.md', () => {
    for (const f of ['docs/configuration.md', 'docs/operations.md', 'docs/testing.md', 'docs/local.md', 'CONTRIBUTING.md']) {
      expect(existsSync(join(REPO_ROOT, f)), f).toBe(true);
    }
  });

  it('links only to files and headings that exist', () => {
    expect(markdown.length).toBeGreaterThan(8);
    expect(markdown.flatMap(brokenLinks)).toEqual([]);
  });

  it('names only docs/ files that exist, from source and configuration files too', () => {
    const sources = files(REPO_ROOT, /\.(ts|js|yaml|json|go|md)$|^(Tiltfile|run)$/);
    const named = sources.flatMap((f) =>
      [...readFileSync(f, 'utf8').matchAll(/\bdocs\/([\w.-]+\.md)/g)].map((m) => ({ from: relative(REPO_ROOT, f), doc: m[1]! })),
    );
    expect(named.length).toBeGreaterThan(3);
    expect(named.filter((n) => !existsSync(join(REPO_ROOT, 'docs', n.doc)))).toEqual([]);
  });

  it('finds a missing file and a missing heading', () => {
    const dir = makeTempDir('doc-links');
    writeFileSync(join(dir, 'a.md'), '# Top\n[ok](#top) [gone](b.md) [no heading](a.md#nowhere)\n');
    expect(brokenLinks(join(dir, 'a.md')).map((b) => b.split(' → ')[1])).toEqual(['b.md: no such file', 'a.md#nowhere: no such heading']);
    expect(anchors('# A B\n## Tilt on kind: (dev)\n```\n# not a heading\n```\n## A B')).toEqual(
      new Set(['a-b', 'tilt-on-kind-dev', 'a-b-1']),
    );
    expect(slug('The node tier: real containers on a real kubelet')).toBe('the-node-tier-real-containers-on-a-real-kubelet');
    expect(links('see [x](guide/x.md#y) and [web](https://a.b)\n```\n[no](z)\n```')).toEqual(['guide/x.md#y']);
  });

  it('keeps the test command CI runs in the README, verbatim', () => {
    const ci = readFileSync(join(REPO_ROOT, '.ci/run'), 'utf8');
    expect(ci).toContain('npm ci && npm test');
    expect(readFileSync(join(REPO_ROOT, 'README.md'), 'utf8')).toContain('\nnpm ci && npm test\n');
  });
});
