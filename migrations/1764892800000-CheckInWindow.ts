import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * How many days before a session's local day the clinic lets patients check in: 0 (the default)
 * is the session's own day only.
 */
export class CheckInWindow1764892800000 implements MigrationInterface {
  name = 'CheckInWindow1764892800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE clinics ADD COLUMN check_in_opens_days_before smallint NOT NULL DEFAULT 0
        CONSTRAINT clinics_check_in_opens_days_before_ck CHECK (check_in_opens_days_before BETWEEN 0 AND 7)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE clinics DROP COLUMN check_in_opens_days_before`);
  }
}
