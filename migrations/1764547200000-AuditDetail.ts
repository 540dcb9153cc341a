import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Audit detail: the route that caused each event (method and route pattern, never the URL: no ids
 * or query strings) and, for writes where it means something, what changed (before/after), plus
 * the indexes behind `GET /v1/audit`.
 */
export class AuditDetail1764547200000 implements MigrationInterface {
  name = 'AuditDetail1764547200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE audit_events ADD COLUMN route text, ADD COLUMN changes jsonb`);
    await q.query(`CREATE INDEX audit_events_actor_idx ON audit_events (actor_key_id, occurred_at)`);
    await q.query(`CREATE INDEX audit_events_time_idx ON audit_events (occurred_at, id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX audit_events_time_idx`);
    await q.query(`DROP INDEX audit_events_actor_idx`);
    await q.query(`ALTER TABLE audit_events DROP COLUMN changes, DROP COLUMN route`);
  }
}
