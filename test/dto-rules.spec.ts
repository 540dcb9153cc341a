import { getMetadataStorage } from 'class-validator';
import type { ValidationMetadata } from 'class-validator/types/metadata/ValidationMetadata.js';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

// class-validator's @ValidateNested() passes a missing (undefined) value without a word: a required nested object
// needs its own @IsObject()/@IsArray()/@IsDefined(), or the handler receives undefined where its type promises an
// object (the fuzz found `after: { step }` without `gap` giving a 500). This checks every DTO for the pattern.

const files = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? files(path.join(dir, e.name))
      : e.name.endsWith('.ts') && !e.name.endsWith('.spec.ts')
        ? [path.join(dir, e.name)]
        : [],
  );
const DTO_FILES = files('src').filter((f) => /from 'class-validator'/.test(readFileSync(f, 'utf8')));

const SHAPE_CHECKS = new Set(['isObject', 'isArray', 'isDefined']);

describe('validation rules of every DTO', () => {
  let byTarget: Map<{ readonly name: string }, ValidationMetadata[]>;

  beforeAll(async () => {
    for (const f of DTO_FILES) await import(pathToFileURL(path.resolve(f)).href);
    byTarget = (
      getMetadataStorage() as unknown as { validationMetadatas: Map<{ readonly name: string }, ValidationMetadata[]> }
    ).validationMetadatas;
  });

  it('finds the DTOs', () => {
    expect(DTO_FILES.length).toBeGreaterThanOrEqual(10);
    expect([...byTarget.keys()].map((c) => c.name)).toEqual(
      expect.arrayContaining(['DraftDto', 'StepAfterDto', 'StepAttachmentDto', 'PlanRequestDto', 'WeeklyIntervalDto']),
    );
  });

  it('a nested object or array is either optional or checked for presence and shape, never left to @ValidateNested alone', () => {
    const unguarded: string[] = [];
    for (const [target, metas] of byTarget) {
      const nested = metas.filter((m) => m.type === 'nestedValidation');
      for (const n of nested) {
        const same = metas.filter((m) => m.propertyName === n.propertyName);
        const optional = same.some((m) => m.type === 'conditionalValidation');
        const shaped = same.some((m) => m.type === 'isDefined' || SHAPE_CHECKS.has(m.name ?? ''));
        if (!optional && !shaped) unguarded.push(`${target.name}.${n.propertyName}`);
      }
    }
    expect(unguarded).toEqual([]);
  });

  // @ValidateNested() on a single object also accepts an array (it validates each element): `after: []`
  // passed validation with nothing in it (the fuzz found a 500). A single nested object needs
  // @IsObject() (which refuses arrays), a list of them @IsArray().
  it('a single nested object is checked to be an object (not an array), a list of them to be an array', () => {
    const wrong: string[] = [];
    for (const [target, metas] of byTarget) {
      for (const n of metas.filter((m) => m.type === 'nestedValidation')) {
        const same = metas.filter((m) => m.propertyName === n.propertyName);
        const needed = n.each ? 'isArray' : 'isObject';
        if (!same.some((m) => m.name === needed))
          wrong.push(`${target.name}.${n.propertyName} needs @${needed === 'isArray' ? 'IsArray' : 'IsObject'}()`);
      }
    }
    expect(wrong).toEqual([]);
  });
});
