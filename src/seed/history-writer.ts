import type { DateTime } from 'luxon';
import type { HistoryPlan } from './outcome-history.js';

/** Writes generated past treatment (see `outcome-history.ts`) straight into the tables. */

const iso = (d: DateTime) => d.toUTC().toISO()!;

/** What the writer needs of a connection: a query returning rows (a TypeORM EntityManager, or a `pg` client wrapped). */
export interface Queryable {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- TypeORM's own signature
  query(sql: string, params?: unknown[]): Promise<any>;
}

/** Writes the plans in a handful of statements (rows as JSON, expanded by PostgreSQL); returns their ids in order. */
export async function insertHistory(m: Queryable, clinicId: string, plans: HistoryPlan[]): Promise<string[]> {
  if (plans.length === 0) return [];
  const planRows = plans.map((p, i) => ({
    i,
    patient_id: p.patientId,
    protocol_id: p.protocolId,
    protocol_version: p.version,
    tailoring: p.tailoring,
    earliest_start: p.sessions[0].startsAt.toISODate(),
    status: p.status,
    version: 1 + (p.skips?.length ?? 0) + (p.endReason ? 1 : 0),
    created_at: iso(p.bookedAt),
  }));
  const ids: { id: string }[] = await m.query(
    `INSERT INTO plans (clinic_id, patient_id, protocol_id, protocol_version, tailoring, earliest_start, status, version, created_at, updated_at)
     SELECT $1, r.patient_id, r.protocol_id, r.protocol_version, r.tailoring, r.earliest_start, r.status, r.version, r.created_at, r.created_at
       FROM jsonb_to_recordset($2::jsonb) AS r(i int, patient_id uuid, protocol_id uuid, protocol_version int, tailoring jsonb, earliest_start date, status text, version int, created_at timestamptz)
      ORDER BY r.i
     RETURNING id`,
    [clinicId, JSON.stringify(planRows)],
  );
  // RETURNING follows the insertion order of the ORDER BY above.
  const planIds = ids.map((r) => r.id);

  let order = 0;
  const sessionRows = plans.flatMap((p, i) =>
    p.sessions.map((s) => {
      const end = s.startsAt.plus({ minutes: s.durationMinutes });
      const done = s.status === 'completed';
      return {
        n: order++,
        plan_id: planIds[i],
        patient_id: p.patientId,
        ref: s.ref,
        step_key: s.stepKey,
        occurrence: s.occurrence,
        kind: s.kind,
        label: s.label,
        starts_at: iso(s.startsAt),
        ends_at: iso(end),
        occupied_until: iso(end.plus({ minutes: s.recoveryMinutes })),
        chair_id: s.chairId,
        staff_id: s.staffId,
        staff_seat: s.staffSeat,
        status: s.status,
        status_reason: s.statusReason,
        planned_dose: s.plannedDose,
        dose_given: s.doseGiven,
        checked_in_at: done ? iso(s.startsAt.minus({ minutes: 10 })) : null,
        actual_start: done ? iso(s.startsAt) : null,
        actual_end: done ? iso(end) : null,
        created_at: iso(p.bookedAt),
        updated_at: iso(done ? end : p.bookedAt),
      };
    }),
  );
  const sessionIds: { id: string }[] = await m.query(
    `INSERT INTO sessions (clinic_id, plan_id, patient_id, ref, step_key, occurrence, kind, label, starts_at, ends_at, occupied_until, chair_id, staff_id,
                           staff_seat, status, status_reason, planned_dose, dose_given, checked_in_at, actual_start, actual_end, created_at, updated_at)
     SELECT $1, r.plan_id, r.patient_id, r.ref, r.step_key, r.occurrence, r.kind, r.label, r.starts_at, r.ends_at, r.occupied_until, r.chair_id, r.staff_id,
            r.staff_seat, r.status, r.status_reason, r.planned_dose, r.dose_given, r.checked_in_at, r.actual_start, r.actual_end, r.created_at, r.updated_at
       FROM jsonb_to_recordset($2::jsonb) AS r(n int, plan_id uuid, patient_id uuid, ref text, step_key text, occurrence int, kind text, label text,
            starts_at timestamptz, ends_at timestamptz, occupied_until timestamptz, chair_id uuid, staff_id uuid, staff_seat int, status text, status_reason text,
            planned_dose jsonb, dose_given jsonb, checked_in_at timestamptz, actual_start timestamptz, actual_end timestamptz, created_at timestamptz, updated_at timestamptz)
      ORDER BY r.n
     RETURNING id`,
    [clinicId, JSON.stringify(sessionRows)],
  );

  const obsRows: Record<string, unknown>[] = [];
  let k = 0;
  plans.forEach((p, i) =>
    p.sessions.forEach((s) => {
      const sessionId = sessionIds[k++].id;
      s.observations.forEach((o, j) =>
        obsRows.push({
          session_id: sessionId,
          plan_id: planIds[i],
          patient_id: p.patientId,
          recorded_at: iso(s.startsAt.plus({ minutes: s.durationMinutes + j })),
          craving: o.craving ?? null,
          cows: o.cows ?? null,
          phq9: o.phq9 ?? null,
          gad7: o.gad7 ?? null,
          adverse_events: o.adverseEvents ?? [],
        }),
      );
    }),
  );
  if (obsRows.length > 0) {
    await m.query(
      `INSERT INTO session_observations (clinic_id, session_id, plan_id, patient_id, recorded_at, craving, cows, phq9, gad7, adverse_events)
       SELECT $1, r.session_id, r.plan_id, r.patient_id, r.recorded_at, r.craving, r.cows, r.phq9, r.gad7, r.adverse_events
         FROM jsonb_to_recordset($2::jsonb) AS r(session_id uuid, plan_id uuid, patient_id uuid, recorded_at timestamptz, craving int, cows int, phq9 int, gad7 int, adverse_events jsonb)`,
      [clinicId, JSON.stringify(obsRows)],
    );
  }

  const adjRows = plans.flatMap((p, i) => {
    const out: Record<string, unknown>[] = [];
    let version = 1;
    for (const s of p.skips ?? []) {
      out.push({
        plan_id: planIds[i],
        plan_version: ++version,
        type: 'skip',
        reason: s.reason,
        occurred_at: iso(s.at),
        changes: [
          {
            ref: s.ref,
            before: { status: 'scheduled' },
            after: { status: 'cancelled', statusReason: `skipped: ${s.reason}` },
          },
        ],
      });
    }
    if (p.endReason) {
      const ended = p.sessions.filter((s) => s.statusReason?.startsWith('plan ended early:'));
      out.push({
        plan_id: planIds[i],
        plan_version: version + 1,
        type: 'cancel_remaining',
        reason: p.endReason,
        occurred_at: iso(p.endedAt ?? p.bookedAt),
        changes: ended.map((s) => ({
          ref: s.ref,
          before: { status: 'scheduled' },
          after: { status: 'cancelled', statusReason: s.statusReason },
        })),
      });
    }
    return out;
  });
  if (adjRows.length > 0) {
    await m.query(
      `INSERT INTO plan_adjustments (clinic_id, plan_id, plan_version, type, reason, actor_role, occurred_at, changes)
       SELECT $1, r.plan_id, r.plan_version, r.type, r.reason, 'clinician', r.occurred_at, r.changes
         FROM jsonb_to_recordset($2::jsonb) AS r(plan_id uuid, plan_version int, type text, reason text, occurred_at timestamptz, changes jsonb)`,
      [clinicId, JSON.stringify(adjRows)],
    );
  }
  return planIds;
}
