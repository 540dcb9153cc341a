import type { EntityManager } from 'typeorm';
import { raw, runSql, sql, type Sql } from './sql.js';

/** The namespace of the two-key advisory locks below (one-key locks live in another key space). */
const SCHEDULE_LOCK_NAMESPACE = raw(String(0x43_48_53)); // "CHS"

/**
 * Serializes the writers of one clinic's schedule (bookings, committed adjustments) for the rest
 * of the transaction. The exclusion constraints stay the guarantee; the lock only orders writers,
 * because two transactions inserting sessions that overlap each other's would otherwise wait on
 * one another until PostgreSQL's deadlock detector (after `deadlock_timeout`, 1 s by default)
 * aborts one. Writers of other clinics are not affected.
 */
export async function lockClinicSchedule(m: EntityManager, clinicId: string): Promise<void> {
  await runSql(m, sql`SELECT ${scheduleLock(clinicId)}`);
}

/** The same lock as an SQL expression on the clinic id (a value or a `param`), to be taken inside a larger statement. */
export function scheduleLock(clinicId: unknown): Sql {
  return sql`pg_advisory_xact_lock(${SCHEDULE_LOCK_NAMESPACE}, hashtext(${clinicId}::uuid::text))`;
}
