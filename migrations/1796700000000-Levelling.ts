import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Levelling as a preference: 'balanced' makes the engine prefer, among the times a day allows, the
 * one when the fewest chairs are occupied; 'off' (the default) plans as before.
 */
export class Levelling1796700000000 implements MigrationInterface {
  name = 'Levelling1796700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE clinics ADD COLUMN levelling text NOT NULL DEFAULT 'off'
        CONSTRAINT clinics_levelling_ck CHECK (levelling IN ('off', 'balanced'))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE clinics DROP COLUMN levelling`);
  }
}
