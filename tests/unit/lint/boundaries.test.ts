/**
 * The boundaries eslint.config.js keeps: operator/specs imports neither the Kubernetes client nor
 * the reconciler, services/kit imports no service, neither API imports the other, no module reaches
 * itself through its imports (type-only imports included), and no routes.ts or service.ts writes SQL.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ESLint, Linter } from 'eslint';
import tseslint from 'typescript-eslint';
import { afterAll, describe, expect, it } from 'vitest';
import local from '../../../scripts/eslint/no-import-cycle.js';

const REPO = resolve(import.meta.dirname, '../../..');

describe('import boundaries', () => {
  const eslint = new ESLint({ cwd: REPO });
  const restricted = async (filePath: string, text: string) => {
    const [result] = await eslint.lintText(text, { filePath: join(REPO, filePath) });
    return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
  };

  it('keeps operator/specs free of the client and the reconciler', async () => {
    expect(
      await restricted('operator/specs/x.ts', "import { KubeClient } from '../kube/client.ts';\nexport const k = KubeClient;\n"),
    ).toHaveLength(1);
    expect(
      await restricted('operator/specs/x.ts', "import type { Ctx } from '../reconcile/reconciler.ts';\nexport type C = Ctx;\n"),
    ).toHaveLength(1);
    expect(await restricted('operator/specs/x.ts', "import { PORTS } from './constants.ts';\nexport const p = PORTS;\n")).toEqual([]);
    expect(
      await restricted('operator/reconcile/x.ts', "import { KubeClient } from '../kube/client.ts';\nexport const k = KubeClient;\n"),
    ).toEqual([]);
  });

  it('keeps the kit free of the services, and each API free of the other', async () => {
    expect(
      await restricted(
        'services/kit/http/x.ts',
        "import { SERVICE_NAME } from '../../content-bridge/app.ts';\nexport const n = SERVICE_NAME;\n",
      ),
    ).toHaveLength(1);
    expect(
      await restricted('services/kit/x.ts', "import { SERVICE_NAME } from '../ml-server/app.ts';\nexport const n = SERVICE_NAME;\n"),
    ).toHaveLength(1);
    expect(
      await restricted(
        'services/content-bridge/x.ts',
        "import { SERVICE_NAME } from '../ml-server/app.ts';\nexport const n = SERVICE_NAME;\n",
      ),
    ).toHaveLength(1);
    expect(
      await restricted(
        'services/ml-server/x.ts',
        "import type { AppContext } from '../content-bridge/context.ts';\nexport type A = AppContext;\n",
      ),
    ).toHaveLength(1);
    expect(
      await restricted('services/ml-server/x.ts', "import { problem } from '../kit/http/problem.ts';\nexport const p = problem;\n"),
    ).toEqual([]);
    expect(
      await restricted('tests/x.ts', "import { SERVICE_NAME } from '../services/ml-server/app.ts';\nexport const n = SERVICE_NAME;\n"),
    ).toEqual([]);
  });
});

describe('layers inside a module', () => {
  const eslint = new ESLint({ cwd: REPO });
  const sqlFindings = async (filePath: string, text: string) => {
    const [result] = await eslint.lintText(text, { filePath: join(REPO, filePath) });
    return result!.messages.filter((m) => m.ruleId === 'no-restricted-syntax').map((m) => m.message);
  };
  const db = 'export async function f(db: { query(sql: string, p?: unknown[]): Promise<unknown> }, id: string) {\n';

  it('keeps SQL out of routes.ts and service.ts, in any call form', async () => {
    for (const file of ['services/content-bridge/auth/routes.ts', 'services/ml-server/insights/service.ts']) {
      expect(await sqlFindings(file, `${db}  await db.query('DELETE FROM users.users WHERE id = $1', [id]);\n}\n`)).toEqual([
        expect.stringContaining('repository.ts'),
      ]);
      expect(await sqlFindings(file, `${db}  const query = db.query.bind(db);\n  await query(\`SELECT ${'$'}{id}\`);\n}\n`)).toHaveLength(
        1,
      );
    }
  });

  it('keeps routes.ts away from the repository, without losing the rule between the two APIs', async () => {
    const restricted = async (filePath: string, text: string) => {
      const [result] = await eslint.lintText(text, { filePath: join(REPO, filePath) });
      return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
    };
    const repo = "import { usersRepository } from './repository.ts';\nexport const r = usersRepository;\n";
    expect(await restricted('services/content-bridge/users/routes.ts', repo)).toEqual([expect.stringContaining('service.ts')]);
    expect(await restricted('services/ml-server/registry/routes.ts', repo)).toHaveLength(1);
    expect(await restricted('services/content-bridge/users/service.ts', repo)).toEqual([]);
    const otherApi = "import { SERVICE_NAME } from '../../ml-server/app.ts';\nexport const n = SERVICE_NAME;\n";
    expect(await restricted('services/content-bridge/users/routes.ts', otherApi)).toEqual([expect.stringContaining('ML Server')]);
    const otherApiBack = "import type { AppContext } from '../../content-bridge/context.ts';\nexport type A = AppContext;\n";
    expect(await restricted('services/ml-server/registry/routes.ts', otherApiBack)).toEqual([expect.stringContaining('Content Bridge')]);
  });

  it('lets repositories and other components hold SQL', async () => {
    const sql = `${db}  await db.query('SELECT 1', [id]);\n}\n`;
    expect(await sqlFindings('services/content-bridge/auth/repository.ts', sql)).toEqual([]);
    expect(await sqlFindings('services/content-bridge/analytics/writer.ts', sql)).toEqual([]);
    expect(await sqlFindings('services/content-bridge/auth/routes.ts', `${db}  await db.query(id);\n}\n`)).toEqual([]);
  });
});

describe('local/no-import-cycle', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cycle-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const linter = new Linter({ configType: 'flat', cwd: dir });
  const config = [
    {
      files: ['**/*.ts'],
      languageOptions: { parser: tseslint.parser as Linter.Parser },
      plugins: { local },
      rules: { 'local/no-import-cycle': 'error' as const },
    },
  ];
  /** Writes the files, then lints the first one (the rule reads the others from disk). */
  const lint = (files: Record<string, string>) => {
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    const [name, text] = Object.entries(files)[0]!;
    return linter.verify(text, config, { filename: join(dir, name) }).map((m) => m.message);
  };

  it('reports a cycle made only of type imports, naming the path', () => {
    const messages = lint({
      'a.ts': "import type { B } from './b.ts';\nexport type A = { b?: B };\n",
      'b.ts': "import type { A } from './a.ts';\nexport type B = A[];\n",
    });
    expect(messages).toEqual([expect.stringMatching(/^Import cycle: .*a\.ts → .*b\.ts → .*a\.ts$/)]);
  });

  it('reports a cycle through a re-export and a longer path', () => {
    const messages = lint({
      'c.ts': "import { e } from './d.ts';\nexport const c = 1;\nexport const f = () => e;\n",
      'd.ts': "export * from './e.ts';\n",
      'e.ts': "import { c } from './c.ts';\nexport const e = c;\n",
    });
    expect(messages).toEqual([expect.stringMatching(/c\.ts → .*d\.ts → .*e\.ts → .*c\.ts$/)]);
  });

  it('accepts a graph without cycles', () => {
    const messages = lint({
      'top.ts': "import { leaf } from './leaf.ts';\nimport { mid } from './mid.ts';\nexport const top = leaf + mid;\n",
      'mid.ts': "import { leaf } from './leaf.ts';\nexport const mid = leaf;\n",
      'leaf.ts': 'export const leaf = 1;\n',
    });
    expect(messages).toEqual([]);
  });
});
