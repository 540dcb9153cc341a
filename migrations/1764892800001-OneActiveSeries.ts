import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A patient has at most one active series of a protocol (any version), unless a clinician booked
 * another one on purpose (`concurrent_series`). Series that already run side by side are kept, the
 * later ones marked as booked on purpose, so that the index can be built.
 */
export class OneActiveSeries1764892800001 implements MigrationInterface {
  name = 'OneActiveSeries1764892800001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE plans ADD COLUMN concurrent_series boolean NOT NULL DEFAULT false`);
    await q.query(`
      UPDATE plans p SET concurrent_series = true
        FROM (SELECT clinic_id, id, row_number() OVER (PARTITION BY clinic_id, patient_id, protocol_id ORDER BY created_at, id) AS n
                FROM plans WHERE status = 'active') d
       WHERE p.clinic_id = d.clinic_id AND p.id = d.id AND d.n > 1`);
    await q.query(`
      CREATE UNIQUE INDEX plans_one_active_series_uq ON plans (clinic_id, patient_id, protocol_id)
        WHERE status = 'active' AND NOT concurrent_series`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX plans_one_active_series_uq`);
    await q.query(`ALTER TABLE plans DROP COLUMN concurrent_series`);
  }
}
