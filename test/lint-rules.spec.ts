import { ESLint } from 'eslint';

/*
 * The architecture as lint rules (eslint.config.js): each rule fails on a deliberate violation,
 * so a config change that silently drops one shows here. ESLint's Node API lints the text as if it
 * were the named file (the imported files are real, so the import resolver finds them).
 */
const eslint = new ESLint({ cwd: process.cwd() });

async function ruleIds(code: string, filePath: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return result.messages.map((m) => m.ruleId ?? `fatal: ${m.message}`);
}

describe('architecture lint rules', () => {
  it('common imports no feature', async () => {
    expect(await ruleIds(`export { PlanError } from '../plans/plans.errors.js';\n`, 'src/common/x.ts')).toContain(
      'import-x/no-restricted-paths',
    );
    expect(
      await ruleIds(`export { ClinicError } from '../../clinics/clinics.errors.js';\n`, 'src/common/auth/x.ts'),
    ).toContain('import-x/no-restricted-paths');
  });

  it('common may import common', async () => {
    expect(await ruleIds(`export { DomainError } from './errors/domain-error.js';\n`, 'src/common/x.ts')).toEqual([]);
  });

  it('the engine imports nothing of the app', async () => {
    for (const from of [
      '../../common/weekly-interval.js',
      '../../protocols/domain/tailor.js',
      '../../plans/plans.errors.js',
    ]) {
      expect(await ruleIds(`export * from '${from}';\n`, 'src/scheduling/engine/x.ts')).toContain(
        'import-x/no-restricted-paths',
      );
    }
  });

  it('the engine may import itself and luxon', async () => {
    expect(
      await ruleIds(`export { DateTime } from 'luxon';\nexport * from './types.js';\n`, 'src/scheduling/engine/x.ts'),
    ).toEqual([]);
  });

  it("the engine's tests may use the protocol model, nothing else of the app", async () => {
    expect(
      await ruleIds(`export * from '../../protocols/domain/tailor.js';\n`, 'src/scheduling/engine/x.spec.ts'),
    ).toEqual([]);
    expect(
      await ruleIds(`export * from '../../common/weekly-interval.js';\n`, 'src/scheduling/engine/x.spec.ts'),
    ).toContain('import-x/no-restricted-paths');
  });

  it('controllers import neither DataSource nor a repository', async () => {
    expect(
      await ruleIds(
        `import { DataSource } from 'typeorm';\nexport const d = DataSource;\n`,
        'src/plans/x.controller.ts',
      ),
    ).toContain('no-restricted-imports');
    expect(
      await ruleIds(
        `import { EntityManager } from 'typeorm';\nexport const d = EntityManager;\n`,
        'src/plans/x.controller.ts',
      ),
    ).toContain('no-restricted-imports');
    expect(await ruleIds(`export * from './plans.repository.js';\n`, 'src/plans/x.controller.ts')).toContain(
      'no-restricted-imports',
    );
    // A service may.
    expect(
      await ruleIds(`import { DataSource } from 'typeorm';\nexport const d = DataSource;\n`, 'src/plans/x.service.ts'),
    ).toEqual([]);
  });

  it('no SQL outside repositories', async () => {
    const query = `import type { EntityManager } from 'typeorm';\nexport const f = (m: EntityManager) => m.query('SELECT 1 FROM clinics');\n`;
    const tagged = `import { runSql, sql } from '../common/database/sql.js';\nimport type { EntityManager } from 'typeorm';\nexport const f = (m: EntityManager) => runSql(m, sql\`SELECT 1\`);\n`;
    const builder = `import type { DataSource } from 'typeorm';\nexport const f = (d: DataSource) => d.createQueryBuilder().select('1');\n`;
    for (const file of ['src/plans/x.service.ts', 'src/plans/bookings-cache.ts', 'src/clinics/clinic-scope.ts']) {
      for (const code of [query, tagged, builder]) expect(await ruleIds(code, file)).toContain('no-restricted-syntax');
    }
    // A repository may, and so may the database's own code.
    for (const file of ['src/plans/x.repository.ts', 'src/database/x.ts', 'src/common/database/x.ts']) {
      for (const code of [query, tagged, builder]) expect(await ruleIds(code, file)).toEqual([]);
    }
  });

  it('no source file over 400 lines, blank lines and comments counted; tests exempt', async () => {
    // One statement, then blank lines and comments: they count like code.
    const lines = (n: number) =>
      ['export const x = 1;', ...Array.from({ length: n - 1 }, (_, i) => (i % 2 ? '' : '// a comment'))].join('\n') +
      '\n';
    for (const file of ['src/plans/x.ts', 'bench/x.ts', 'migrations/x.ts', 'web/src/x.ts', 'web/src/screens/x.tsx']) {
      expect(await ruleIds(lines(401), file)).toContain('max-lines');
      expect(await ruleIds(lines(400), file)).toEqual([]);
    }
    for (const file of ['src/plans/x.spec.ts', 'test/api/x.spec.ts', 'test/support/x.ts', 'test/engine-frozen/x.ts'])
      expect(await ruleIds(lines(401), file)).not.toContain('max-lines');
  });
});
