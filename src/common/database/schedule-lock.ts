import type { EntityManager } from 'typeorm';

/** The namespace of the two-key advisory locks below (one-key locks live in another key space). */
const SCHEDULE_LOCK_NAMESPACE = 0x43_48_53; // "CHS"

/**
 * Serializes the writers of one clinic's schedule (bookings, committed adjustments) for the rest
 * of the transaction. The exclusion constraints stay the guarantee; the lock only orders writers,
 * because two transactions inserting sessions that overlap each other's would otherwise wait on
 * one another until PostgreSQL's deadlock detector (after `deadlock_timeout`, 1 s by default)
 * aborts one. Writers of other clinics are not affected.
 */
export async function lockClinicSchedule(m: EntityManager, clinicId: string): Promise<void> {
  await m.query(`SELECT ${scheduleLockSql('$1')}`, [clinicId]);
}

/** The same lock as an SQL expression on a parameter holding the clinic id (to be taken inside a larger statement). */
export function scheduleLockSql(clinicParam: string): string {
  return `pg_advisory_xact_lock(${SCHEDULE_LOCK_NAMESPACE}, hashtext(${clinicParam}::uuid::text))`;
}
