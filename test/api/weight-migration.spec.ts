import { DataSource } from 'typeorm';
import { runMigrations } from '../../src/database/database-bootstrap.js';
import { dataSourceOptions } from '../../src/database/data-source-options.js';
import { persistClinicWithKeys } from '../factories/clinic.factory.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

// ---------------------------------------------------------------------------------------------
// Migration ConfirmedWeight: weights stored before confirmations were kept count as confirmed,
// except those the audit trail shows the front desk set last, which become pending (no dose is
// computed from them until a clinician confirms).
// ---------------------------------------------------------------------------------------------

type Json = Record<string, any>;

describe('migration ConfirmedWeight1764979200000', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('keeps weights a clinician (or the seed) set as confirmed and makes those the front desk set last pending', async () => {
    const { clinicId } = await persistClinicWithKeys(t.app);
    const [{ id: keyId }] = await t.dataSource.query(
      `SELECT id FROM api_keys WHERE clinic_id = $1 AND role = 'front_desk'`,
      [clinicId],
    );

    // Back to the schema before the migration (and the one after it).
    const ds = new DataSource(dataSourceOptions(t.ownerUrl, 2));
    await ds.initialize();
    try {
      const undone: string[] = [];
      for (;;) {
        const [last] = await ds.query(`SELECT name FROM migrations ORDER BY id DESC LIMIT 1`);
        if (last.name === 'MultiClinicAdminKeys1764720000000') break;
        await ds.undoLastMigration({ transaction: 'each' });
        undone.push(last.name);
      }
      expect(undone).toContain('ConfirmedWeight1764979200000');

      const patient = async (name: string, weight: number | null): Promise<string> =>
        (
          await ds.query(
            `INSERT INTO patients (clinic_id, full_name, date_of_birth, weight_kg) VALUES ($1, $2, '1980-01-01', $3) RETURNING id`,
            [clinicId, name, weight],
          )
        )[0].id;
      const audit = (patientId: string, role: string, action: string, at: string, changes: Json | null) =>
        ds.query(
          `INSERT INTO audit_events (clinic_id, occurred_at, actor_key_id, actor_role, action, entity_type, entity_id, patient_id, changes)
           VALUES ($1, $2, $3, $4, $5, 'patient', $6, $6, $7)`,
          [
            clinicId,
            at,
            role === 'front_desk' ? keyId : null,
            role,
            action,
            patientId,
            changes === null ? null : JSON.stringify(changes),
          ],
        );
      const createdByDesk = await patient('Desk Created', 65);
      await audit(createdByDesk, 'front_desk', 'patient.create', '2026-11-01T10:00:00Z', null);
      const changedByDesk = await patient('Desk Changed', 400);
      await audit(changedByDesk, 'clinician', 'patient.create', '2026-11-01T10:00:00Z', null);
      await audit(changedByDesk, 'front_desk', 'patient.update', '2026-11-02T10:00:00Z', {
        before: { weightKg: 70 },
        after: { weightKg: 400 },
      });
      const fixedByClinician = await patient('Clinician Fixed', 62);
      await audit(fixedByClinician, 'front_desk', 'patient.create', '2026-11-01T10:00:00Z', null);
      await audit(fixedByClinician, 'clinician', 'patient.update', '2026-11-02T10:00:00Z', {
        before: { weightKg: 60 },
        after: { weightKg: 62 },
      });
      const deskPhoneOnly = await patient('Desk Phone', 80);
      await audit(deskPhoneOnly, 'admin', 'patient.create', '2026-11-01T10:00:00Z', null);
      await audit(deskPhoneOnly, 'front_desk', 'patient.update', '2026-11-02T10:00:00Z', {
        before: { phone: null },
        after: { phone: '+1 555 0100' },
      });
      const seeded = await patient('Seeded', 75);
      const noWeight = await patient('No Weight', null);
      await audit(noWeight, 'front_desk', 'patient.create', '2026-11-01T10:00:00Z', null);

      await ds.destroy();
      await runMigrations(t.ownerUrl);

      const rows: Json[] = await t.dataSource.query(
        `SELECT id, weight_kg::float8 AS weight, weight_confirmed_at IS NOT NULL AS confirmed, pending_weight_kg::float8 AS pending,
                pending_weight_at, pending_weight_by
           FROM patients WHERE clinic_id = $1`,
        [clinicId],
      );
      const of = (id: string) => rows.find((r) => r.id === id);
      expect(of(createdByDesk)).toMatchObject({
        weight: null,
        confirmed: false,
        pending: 65,
        pending_weight_by: keyId,
      });
      expect(of(createdByDesk)!.pending_weight_at.toISOString()).toBe('2026-11-01T10:00:00.000Z');
      expect(of(changedByDesk)).toMatchObject({ weight: null, confirmed: false, pending: 400 });
      expect(of(changedByDesk)!.pending_weight_at.toISOString()).toBe('2026-11-02T10:00:00.000Z');
      expect(of(fixedByClinician)).toMatchObject({ weight: 62, confirmed: true, pending: null });
      expect(of(deskPhoneOnly)).toMatchObject({ weight: 80, confirmed: true, pending: null });
      expect(of(seeded)).toMatchObject({ weight: 75, confirmed: true, pending: null });
      expect(of(noWeight)).toMatchObject({ weight: null, confirmed: false, pending: null });
    } finally {
      if (ds.isInitialized) await ds.destroy();
    }
  });
});
