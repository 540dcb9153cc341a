import type { EntityManager } from 'typeorm';

/** TypeORM answers UPDATE and DELETE with [rows, affected], anything else with rows. */
export async function queryRows<T>(m: EntityManager, sql: string, params: unknown[]): Promise<T[]> {
  const raw: unknown = await m.query(sql, params);
  if (Array.isArray(raw) && raw.length === 2 && Array.isArray(raw[0]) && typeof raw[1] === 'number')
    return raw[0] as T[];
  return raw as T[];
}
