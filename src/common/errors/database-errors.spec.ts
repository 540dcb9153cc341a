import { QueryFailedError } from 'typeorm';
import { CommonErrorCode } from './common.errors.js';
import { translateDatabaseError } from './database-errors.js';

const pgError = (code: string, extra: Record<string, unknown> = {}) =>
  new QueryFailedError('SELECT 1', [], Object.assign(new Error('db error'), { code, ...extra }));

describe('translateDatabaseError', () => {
  it.each([
    ['23P01', CommonErrorCode.SLOT_TAKEN],
    ['23505', CommonErrorCode.CONFLICT],
    ['23503', CommonErrorCode.CONFLICT],
    ['23502', CommonErrorCode.VALIDATION_FAILED],
    ['22P02', CommonErrorCode.VALIDATION_FAILED],
    ['40001', CommonErrorCode.CONFLICT],
    ['57P01', CommonErrorCode.DATABASE_UNAVAILABLE],
    ['55P03', CommonErrorCode.DATABASE_UNAVAILABLE], // lock_timeout
    ['57014', CommonErrorCode.DATABASE_UNAVAILABLE], // statement_timeout
  ])('SQLSTATE %s → %s', (code, expected) => {
    expect(translateDatabaseError(pgError(code))?.code).toBe(expected);
  });

  it('names the column of a not-null violation in camelCase', () => {
    expect(translateDatabaseError(pgError('23502', { column: 'weight_kg' }))?.errors).toEqual([
      { field: 'weightKg', message: 'weightKg must not be null' },
    ]);
  });

  it('recognises a refused connection', () => {
    expect(
      translateDatabaseError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }))
        ?.code,
    ).toBe(CommonErrorCode.DATABASE_UNAVAILABLE);
    expect(translateDatabaseError(new Error('Connection terminated unexpectedly'))?.code).toBe(
      CommonErrorCode.DATABASE_UNAVAILABLE,
    );
  });

  it('leaves bugs alone (they become a 500)', () => {
    expect(translateDatabaseError(pgError('42P01'))).toBeUndefined();
    expect(translateDatabaseError(new TypeError('x is undefined'))).toBeUndefined();
  });
});
