/**
 * The three Dockerfiles, parsed with dockerfile-ast (there is no Docker engine here): multi-stage,
 * a numeric non-root USER, an exec-form CMD that starts node on a file the image contains, OCI
 * labels, production dependencies only, and COPY sources that exist and are not .dockerignore'd.
 * The image's import graph is walked from CMD so a missing COPY (say, of services/kit) fails here.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, normalize, relative, resolve } from 'node:path';
import { Copy, DockerfileParser, From, type Instruction, Label, User } from 'dockerfile-ast';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './support.ts';

const IMAGES = [
  { dockerfile: 'services/content-bridge/Dockerfile', entry: 'services/content-bridge/main.ts', port: 8090, preload: true },
  { dockerfile: 'services/ml-server/Dockerfile', entry: 'services/ml-server/main.ts', port: 8010, preload: true },
  { dockerfile: 'operator/Dockerfile', entry: 'operator/main.ts', port: 8080, preload: false },
];
const OCI_LABELS = ['title', 'description', 'version', 'revision', 'source', 'licenses', 'vendor'].map(
  (k) => `org.opencontainers.image.${k}`,
);

interface Stage {
  name: string | null;
  base: string;
  instructions: Instruction[];
}

function stages(path: string): Stage[] {
  const df = DockerfileParser.parse(readFileSync(join(REPO_ROOT, path), 'utf8'));
  const out: Stage[] = [];
  for (const i of df.getInstructions()) {
    if (i instanceof From) out.push({ name: i.getBuildStage(), base: i.getImage() ?? '', instructions: [] });
    else out.at(-1)?.instructions.push(i);
  }
  return out;
}

/** A stage's instructions including those of the stages it is built FROM. */
function effective(all: Stage[], stage: Stage): Instruction[] {
  const parent = all.find((s) => s.name !== null && s.name === stage.base);
  return [...(parent ? effective(all, parent) : []), ...stage.instructions];
}

/** .dockerignore, as BuildKit applies it: the last matching pattern wins, `!` re-includes. */
function dockerignore(): (path: string) => boolean {
  const rules = readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const pattern = normalize(negate ? l.slice(1) : l).replace(/\/$/, '');
      const re = pattern
        .split('/')
        .map((seg) =>
          seg === '**'
            ? '.*'
            : seg
                .replace(/[.+^${}()|[\]\\]/g, '\\$&')
                .replace(/\*/g, '[^/]*')
                .replace(/\?/g, '[^/]'),
        )
        .join('/')
        .replace(/\.\*\//g, '(?:.*/)?');
      return { negate, re: new RegExp(`^${re}(?:/.*)?$`) };
    });
  return (path) => {
    let ignored = false;
    for (const r of rules) if (r.re.test(path)) ignored = !r.negate;
    return ignored;
  };
}

function copies(instructions: Instruction[]): { from?: string; sources: string[]; dest: string }[] {
  return instructions
    .filter((i): i is Copy => i instanceof Copy)
    .map((c) => {
      const args = c
        .getArguments()
        .map((a) => a.getValue())
        .filter((a) => !a.startsWith('--'));
      return { from: c.getFromFlag()?.getValue() ?? undefined, sources: args.slice(0, -1), dest: args.at(-1)! };
    });
}

/** Relative imports reachable from `entry`, and the bare (package) specifiers they use. */
function importGraph(entries: string[]): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const queue = [...entries];
  while (queue.length) {
    const file = queue.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    const text = readFileSync(join(REPO_ROOT, file), 'utf8');
    const specifiers = [
      ...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s*['"]([^'"]+)['"]/g),
      ...text.matchAll(/(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g),
      ...text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g),
      ...text.matchAll(/\bregister\(\s*['"]([^'"]+)['"]/g), // node:module register('pkg/hook.mjs', ...)
    ].map((m) => m[1]!);
    for (const spec of specifiers) {
      if (spec.startsWith('.')) {
        const target = relative(REPO_ROOT, resolve(REPO_ROOT, dirname(file), spec));
        if (target.endsWith('.ts')) queue.push(target);
      } else if (!spec.startsWith('node:') && !builtinModules.includes(spec)) {
        packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
      }
    }
  }
  return { files, packages };
}

const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

const isNpmCi = (i: Instruction) => i.getKeyword() === 'RUN' && /npm ci\b/.test(i.toString());
/** The CMD's .ts arguments: the image's entry points (the preload and the main file). */
const cmdEntries = (stage: Stage) =>
  (JSON.parse(stage.instructions.find((i) => i.getKeyword() === 'CMD')!.getRawArgumentsContent()!) as string[])
    .filter((a) => a.endsWith('.ts'))
    .map((a) => normalize(a));

describe.each(IMAGES)('$dockerfile', ({ dockerfile, entry, port, preload }) => {
  const all = stages(dockerfile);
  const final = all.at(-1)!;
  const finalInstructions = effective(all, final);
  const npmCiRun = () =>
    all
      .flatMap((s) => s.instructions)
      .find(isNpmCi)!
      .toString();

  it('is multi-stage: production dependencies are installed in a stage of their own', () => {
    expect(all.length).toBeGreaterThanOrEqual(2);
    const deps = all.find((s) => s.instructions.some(isNpmCi))!;
    expect(deps, 'a stage runs npm ci').toBeDefined();
    const npmCi = deps.instructions.find((i) => i.getKeyword() === 'RUN')!.toString();
    expect(npmCi).toMatch(/--omit=dev/);
    expect(deps).not.toBe(final);
    expect(copies(finalInstructions).some((c) => c.from === deps.name && c.sources.includes('/app/node_modules'))).toBe(true);
  });

  it('hands npm its settings as build secrets, never as a layer', () => {
    const npmCi = npmCiRun();
    expect(npmCi).toMatch(/--mount=type=secret,id=npmrc\b/);
    expect(npmCi).toMatch(/NPM_CONFIG_USERCONFIG=\/run\/secrets\/npmrc/);
    for (const copy of all.flatMap((s) => copies(s.instructions))) expect(copy.sources.join(' ')).not.toMatch(/npmrc|\.pem|\.crt/);
  });

  it('builds every stage on node:24-slim', () => {
    const initialArg = readFileSync(join(REPO_ROOT, dockerfile), 'utf8').match(/^ARG NODE_IMAGE=(\S+)$/m)?.[1];
    expect(initialArg).toBe('node:24-slim');
    for (const s of all) expect(['${NODE_IMAGE}', ...all.map((x) => x.name)]).toContain(s.base);
  });

  it('runs the final stage as a numeric non-root user (10001)', () => {
    const users = finalInstructions.filter((i): i is User => i instanceof User);
    expect(users.length).toBeGreaterThan(0);
    const user = users.at(-1)!.getArguments()[0]!.getValue();
    expect(user).toMatch(/^\d+(:\d+)?$/);
    const [uid, gid] = user.split(':').map(Number);
    expect(uid).toBe(10001);
    if (gid !== undefined) expect(gid).not.toBe(0);
  });

  it('starts node with an exec-form CMD on a file the image contains', () => {
    const cmds = final.instructions.filter((i) => i.getKeyword() === 'CMD');
    expect(cmds).toHaveLength(1);
    const raw = cmds[0]!.getRawArgumentsContent()!.trim();
    expect(raw.startsWith('['), 'exec form').toBe(true);
    const argv = JSON.parse(raw) as string[];
    expect(argv[0]).toBe('node');
    expect(argv.at(-1)).toBe(entry);
    if (preload) expect(argv.slice(1, 3)).toEqual(['--import', './services/kit/observability/register-tracing.ts']);
    expect(
      finalInstructions.some((i) => i.getKeyword() === 'ENTRYPOINT'),
      'no ENTRYPOINT wraps the CMD',
    ).toBe(false);
  });

  it('carries the OCI image labels', () => {
    const labels = new Map(
      finalInstructions
        .filter((i): i is Label => i instanceof Label)
        .flatMap((l) => l.getProperties().map((p) => [p.getName(), (p.getUnescapedValue() ?? '').replace(/^"|"$/g, '')] as const)),
    );
    for (const key of OCI_LABELS) expect(labels.get(key), key).toBeTruthy();
    expect(labels.get('org.opencontainers.image.licenses')).toBe('Apache-2.0');
    expect(labels.get('org.opencontainers.image.version')).toBe('${VERSION}');
  });

  it('copies only paths that exist and that .dockerignore lets into the context', () => {
    const ignored = dockerignore();
    const fromContext = all.flatMap((s) => copies(s.instructions)).filter((c) => c.from === undefined);
    expect(fromContext.length).toBeGreaterThan(0);
    for (const { sources } of fromContext) {
      for (const source of sources) {
        expect(existsSync(join(REPO_ROOT, source)), `${source} exists`).toBe(true);
        expect(ignored(normalize(source)), `${source} is not in .dockerignore`).toBe(false);
      }
    }
    expect(ignored('node_modules'), 'node_modules stays out of the context').toBe(true);
    expect(ignored('tests/unit/packaging/support.ts')).toBe(true);
  });

  it('contains every file the entry point imports, and only production dependencies', () => {
    const copied = copies(finalInstructions)
      .filter((c) => c.from === undefined)
      .flatMap((c) => c.sources)
      .map((s) => normalize(s));
    const inImage = (file: string) =>
      copied.some((src) => file === src || (statSync(join(REPO_ROOT, src)).isDirectory() && file.startsWith(`${src}/`)));
    const { files, packages } = importGraph(cmdEntries(final));
    expect(files.size).toBeGreaterThan(5);
    for (const file of files) expect(inImage(file), `${file} is copied into the image`).toBe(true);
    for (const name of packages) expect(pkg.dependencies[name], `${name} is a production dependency`).toBeDefined();
    expect(copied).toContain('package.json'); // "type": "module" for the .ts sources
  });

  it('uninstalls exactly the production dependencies its import graph never reaches', () => {
    const run = npmCiRun();
    const uninstalled = /npm uninstall ((?:\S+\s+)*?)(?:\\\s*)?&&/.exec(run.replace(/\\\n/g, ' '))?.[1] ?? '';
    const named = uninstalled.split(/\s+/).filter((w) => w && !w.startsWith('--'));
    const { packages } = importGraph(cmdEntries(final));
    const unreached = Object.keys(pkg.dependencies).filter((name) => !packages.has(name));
    expect(named.sort()).toEqual(unreached.sort());
    expect(run).toMatch(/npm uninstall --no-save --omit=dev --ignore-scripts/);
  });

  it(`exposes ${port}`, () => {
    const expose = finalInstructions.filter((i) => i.getKeyword() === 'EXPOSE').map((i) => i.getArgumentsContent());
    expect(expose).toContain(String(port));
  });

  it('has a dev stage for Tilt that is not the default target', () => {
    const dev = all.find((s) => s.name === 'dev');
    expect(dev).toBeDefined();
    expect(final.name).not.toBe('dev');
    expect(dev!.instructions.find((i) => i.getKeyword() === 'CMD')!.toString()).toContain('--watch-path=/tmp/app/.restart');
  });
});

describe('the operator image', () => {
  it('ships the dashboards where operator/main.ts looks for them by default', () => {
    const main = readFileSync(join(REPO_ROOT, 'operator/main.ts'), 'utf8');
    const dir = /DASHBOARDS_DIR: z\.string\(\)\.default\(fileURLToPath\(new URL\('([^']+)', import\.meta\.url\)\)\)/.exec(main)?.[1];
    expect(dir).toBe('../charts/huntmaster/dashboards');
    const resolved = relative(REPO_ROOT, resolve(REPO_ROOT, 'operator', dir!));
    expect(copies(effective(stages('operator/Dockerfile'), stages('operator/Dockerfile').at(-1)!)).flatMap((c) => c.sources)).toContain(
      resolved,
    );
  });
});

describe('the .dockerignore matcher', () => {
  it('follows the last matching pattern', () => {
    const ignored = dockerignore();
    expect(ignored('charts/huntmaster/values.yaml')).toBe(true);
    expect(ignored('charts/huntmaster/dashboards/operator.json')).toBe(false);
    expect(ignored('services/kit/config.ts')).toBe(false);
    expect(ignored('operator/README.md')).toBe(true);
  });
});
