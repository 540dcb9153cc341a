import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

// The pure parts (the scheduling engine, the protocol and adjustment domains, the feed renderer, sync tokens) stay free of the framework, the
// database, validation, the environment and the wall clock, so that they can be tested exhaustively.
const PURE = [
  'src/scheduling/engine',
  'src/protocols/domain',
  'src/adjustments/domain',
  'src/outcomes/domain',
  'src/calendar/feed-render.ts',
  'src/sync/sync-token.ts',
];
const FORBIDDEN: [RegExp, string][] = [
  [/from '@nestjs\//, 'a NestJS import'],
  [/from 'typeorm'/, 'a TypeORM import'],
  [/from 'class-validator'|from 'class-transformer'/, 'a validation import'],
  [/from 'pg'/, 'a database driver import'],
  [/process\.env/, 'process.env'],
  [/Date\.now\(|new Date\(\)/, 'the wall clock'],
];

const sources = (dir: string): string[] =>
  dir.endsWith('.ts')
    ? [dir]
    : readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory()
          ? sources(path.join(dir, e.name))
          : e.name.endsWith('.ts') && !e.name.endsWith('.spec.ts')
            ? [path.join(dir, e.name)]
            : [],
      );

describe('pure modules', () => {
  const files = PURE.flatMap((d) => sources(d));

  it('exist', () => {
    expect(files.length).toBeGreaterThanOrEqual(6);
  });

  it.each(files)('%s imports nothing impure', (file) => {
    const text = readFileSync(file, 'utf8');
    const found = FORBIDDEN.filter(([re]) => re.test(text)).map(([, what]) => what);
    expect(found).toEqual([]);
    // Relative imports stay inside the pure folders (or are type-only).
    for (const m of text.matchAll(/^import (type )?[^;]*? from '(\.[^']+)';$/gms)) {
      const target = path.normalize(path.join(path.dirname(file), m[2]));
      const pure =
        PURE.some((d) => target.startsWith(d)) ||
        target.startsWith('src/common/weekly-interval') ||
        target.startsWith('src/seed/demo-protocol');
      expect({ file, import: m[2], allowed: pure || m[1] === 'type ' }).toEqual({ file, import: m[2], allowed: true });
    }
  });
});

// "Controllers are one call to a service" (docs/architecture.md): none reaches the database itself
// (issue 14, item 22: the audit controller ran its SQL).
describe('controllers', () => {
  const controllers = sources('src').filter((f) => f.endsWith('.controller.ts'));

  it('exist', () => {
    expect(controllers.length).toBeGreaterThanOrEqual(10);
  });

  it.each(controllers)('%s leaves the database to services and repositories', (file) => {
    const text = readFileSync(file, 'utf8');
    expect({ file, typeorm: /from 'typeorm'|from 'pg'/.test(text), sql: /\.query\(/.test(text) }).toEqual({
      file,
      typeorm: false,
      sql: false,
    });
  });
});

// One repository per aggregate, registered once by the module that owns its tables and exported
// to the modules that read them (imported, never registered again: a second registration is a
// second instance, and hides who owns what).
describe('repositories', () => {
  const modules = sources('src').filter((f) => f.endsWith('.module.ts'));
  /** Each class a module lists in `providers` that it imports from a `*.repository.ts` file, with that file. */
  const registered = modules.flatMap((file) => {
    const text = readFileSync(file, 'utf8');
    const from = new Map<string, string>();
    for (const m of text.matchAll(/import \{([^}]*)\} from '([^']*\.repository)\.js'/g)) {
      for (const name of m[1].split(',').map((n) => n.replace(/^type\s+/, '').trim()))
        if (name) from.set(name, path.join(path.dirname(file), `${m[2]}.ts`));
    }
    const providers = /providers:\s*\[([^\]]*)\]/.exec(text)?.[1] ?? '';
    return providers
      .split(',')
      .map((n) => n.trim())
      .filter((n) => from.has(n))
      .map((name) => ({ module: file, name, repository: from.get(name)! }));
  });

  it('are found', () => {
    expect(registered.map((r) => r.name)).toEqual(
      expect.arrayContaining(['PlansRepository', 'ClinicsRepository', 'PatientsRepository', 'BookingsRepository']),
    );
  });

  it('are registered once, by the module of their own folder', () => {
    const wrong = registered.filter(
      (r) =>
        path.dirname(r.repository) !== path.dirname(r.module) ||
        registered.filter((o) => o.name === r.name).length !== 1,
    );
    expect(wrong).toEqual([]);
  });
});
