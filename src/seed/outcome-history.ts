import { DateTime } from 'luxon';
import type { ProtocolStep } from '../protocols/domain/protocol-step.js';

/**
 * Past treatment, written directly (not through the booking and lifecycle services, which only
 * deal with the future): plans with their sessions as they went — completed with the dose given,
 * missed, skipped, or cancelled when the plan was ended early — their observations, and the
 * adjustments that skipped a session or ended a plan. Used by the demo seed (so the outcomes
 * report has something to show), the outcomes benchmark and the outcomes tests.
 */

export interface HistoryObservation {
  craving?: number;
  cows?: number;
  phq9?: number;
  gad7?: number;
  adverseEvents?: { term: string; severity: 'mild' | 'moderate' | 'severe' }[];
}

export interface HistorySession {
  ref: string;
  stepKey: string;
  occurrence: number;
  kind: string;
  label: string;
  startsAt: DateTime;
  durationMinutes: number;
  recoveryMinutes: number;
  chairId: string | null;
  staffId: string | null;
  staffSeat: number | null;
  status: 'scheduled' | 'completed' | 'no_show' | 'cancelled';
  statusReason: string | null;
  plannedDose: { drug: string; amount: number; unit: string; infusionMinutes: number; totalMg: number } | null;
  doseGiven: { amount: number; unit: string; totalMg: number | null } | null;
  observations: HistoryObservation[];
}

export interface HistoryPlan {
  patientId: string;
  protocolId: string;
  version: number;
  tailoring: Record<string, unknown>;
  status: 'active' | 'completed' | 'ended_early';
  bookedAt: DateTime;
  /** With a reason: the plan was ended early (a `cancel_remaining` adjustment) at `endedAt`. */
  endReason?: string;
  endedAt?: DateTime;
  /** Skips (adjustments of type `skip`) with when they were decided. */
  skips?: { ref: string; at: DateTime; reason: string }[];
  sessions: HistorySession[];
}

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

/** A small deterministic generator (mulberry32), so the demo history is the same on every fresh start. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface HistoryOptions {
  timezone: string;
  protocolId: string;
  /** Steps of each version, by version number. */
  steps: Record<number, ProtocolStep[]>;
  /** One plan per entry, in order: its patient, version, weight and the local date of its first session. */
  plans: { patientId: string; version: number; weightKg: number; firstDate: string }[];
  /** Chairs and their nurse (and seat) for chair sessions; `null`: no chair or staff (benchmark data). */
  chairs: { chairId: string; staffId: string; staffSeat: number }[] | null;
  /** How each version tends to go (craving fall per infusion, share ended early). */
  profile: Record<number, { cravingFallPerInfusion: number; endedEarlyEvery: number }>;
  endReason: string;
  seed: number;
}

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, Math.round(x)));
const round1 = (x: number) => Math.round(x * 10) / 10;

/**
 * Plausible past series: sessions on the template's target gaps (a day later when the target falls
 * on a day the step may not take place), a few missed or skipped infusions, some plans ended early
 * after two or three infusions, doses as planned (now and then lowered), and craving, COWS, PHQ-9
 * and GAD-7 falling over the infusions with noise, some scores missing, common adverse events.
 */
export function generateHistory(o: HistoryOptions): HistoryPlan[] {
  const rnd = mulberry32(o.seed);
  const hours = [8, 11, 14];
  return o.plans.map((p, k) => {
    const steps = o.steps[p.version];
    const profile = o.profile[p.version];
    const endEarly = profile.endedEarlyEvery > 0 && k % profile.endedEarlyEvery === profile.endedEarlyEvery - 1;
    const stopAfter = endEarly ? 2 + (k % 2) : Infinity;
    const slot = o.chairs ? o.chairs[k % o.chairs.length] : null;
    const hour = hours[k % hours.length];
    const at = (date: DateTime, h: number) => date.set({ hour: h, minute: 0, second: 0, millisecond: 0 });
    const allowed = (date: DateTime, s: ProtocolStep) => (s.weekdays ? s.weekdays.includes(date.weekday) : true);
    const onAllowed = (date: DateTime, s: ProtocolStep) => {
      let d = date;
      while (!allowed(d, s)) d = d.plus({ days: 1 });
      return d;
    };

    const sessions: HistorySession[] = [];
    const lastDateOf = new Map<string, DateTime>();
    let infusionsDone = 0;
    let ended = false;
    const skipInfusion = k % 5 === 2 ? 3 : 0;
    const missInfusion = k % 3 === 1 ? 2 : 0;
    const craving0 = 6 + Math.floor(rnd() * 4);
    const cows0 = 10 + Math.floor(rnd() * 8);
    const phq0 = 12 + Math.floor(rnd() * 8);
    const gad0 = 9 + Math.floor(rnd() * 7);
    const skips: HistoryPlan['skips'] = [];
    let endedAt: DateTime | undefined;

    for (const step of steps) {
      if (step.attachedTo) continue;
      for (let n = 1; n <= step.repeat; n++) {
        let date: DateTime;
        if (n === 1 && !step.after) date = DateTime.fromISO(p.firstDate, { zone: o.timezone });
        else if (n === 1 && step.after) date = lastDateOf.get(step.after.step)!.plus({ days: step.after.gap.target });
        else date = lastDateOf.get(step.key)!.plus({ days: step.spacing!.target + (k % 7 === 3 && n === 4 ? 1 : 0) });
        date = onAllowed(date, step);
        lastDateOf.set(step.key, date);
        const start = at(date, step.needsChair ? hour : 9 + (k % 3));
        const isInfusion = step.kind === 'infusion';
        let status: HistorySession['status'] = 'completed';
        let statusReason: string | null = null;
        if (ended) {
          status = 'cancelled';
          statusReason = `plan ended early: ${o.endReason}`;
        } else if (isInfusion && n === skipInfusion) {
          status = 'cancelled';
          statusReason = 'skipped: Patient unwell (cold); next infusion as planned';
          skips.push({
            ref: `${step.key}#${n}`,
            at: start.minus({ days: 1 }),
            reason: 'Patient unwell (cold); next infusion as planned',
          });
        } else if (isInfusion && n === missInfusion) {
          status = 'no_show';
        }
        const amount = step.dose ? step.dose.amount : 0;
        const planned = step.dose
          ? {
              drug: step.dose.drug,
              amount,
              unit: step.dose.unit,
              infusionMinutes: step.dose.infusionMinutes,
              totalMg: step.dose.unit === 'mg/kg' ? round1(amount * p.weightKg) : amount,
            }
          : null;
        const givenAmount = step.dose ? (k % 4 === 3 && n >= 3 ? round1(amount - 0.1) : amount) : 0;
        const observations: HistoryObservation[] = [];
        if (status === 'completed' && isInfusion) {
          infusionsDone++;
          const i = infusionsDone - 1;
          const noise = () => (rnd() - 0.5) * 2;
          const obs: HistoryObservation = {
            craving: clamp(craving0 - profile.cravingFallPerInfusion * i + noise(), 0, 10),
            cows: clamp(cows0 - 2.2 * i + noise() * 2, 0, 48),
          };
          // PHQ-9 and GAD-7 at the first, third and last infusions (some missing: not every form comes back).
          if ((i === 0 || i === 2 || n === step.repeat) && !(k % 6 === 4 && i === 2)) {
            obs.phq9 = clamp(phq0 - 1.3 * i + noise(), 0, 27);
            obs.gad7 = clamp(gad0 - 1.0 * i + noise(), 0, 21);
          }
          const adverse: NonNullable<HistoryObservation['adverseEvents']> = [];
          if (rnd() < 0.45) adverse.push({ term: 'Dissociation', severity: 'mild' });
          if (rnd() < 0.3) adverse.push({ term: 'Nausea', severity: rnd() < 0.8 ? 'mild' : 'moderate' });
          if (rnd() < 0.15) adverse.push({ term: 'Elevated blood pressure', severity: 'moderate' });
          if (adverse.length) obs.adverseEvents = adverse;
          observations.push(obs);
          if (infusionsDone >= stopAfter) {
            ended = true;
            endedAt = start.plus({ days: 1 });
          }
        }
        const chair = step.needsChair && slot ? slot : null;
        sessions.push({
          ref: `${step.key}#${n}`,
          stepKey: step.key,
          occurrence: n,
          kind: step.kind,
          label: step.repeat > 1 ? `${step.label} ${n}/${step.repeat}` : step.label,
          startsAt: start,
          durationMinutes: step.durationMinutes,
          recoveryMinutes: step.recoveryMinutes,
          chairId: chair?.chairId ?? null,
          staffId: chair?.staffId ?? null,
          staffSeat: chair?.staffSeat ?? null,
          status,
          statusReason,
          plannedDose: planned,
          doseGiven:
            status === 'completed' && step.dose
              ? {
                  amount: givenAmount,
                  unit: step.dose.unit,
                  totalMg: step.dose.unit === 'mg/kg' ? round1(givenAmount * p.weightKg) : givenAmount,
                }
              : null,
          observations,
        });
        // Attached steps (therapy after each infusion) follow the session they are attached to.
        for (const att of steps.filter((s) => s.attachedTo?.step === step.key)) {
          const tStart = start.plus({ minutes: step.durationMinutes + step.recoveryMinutes + 20 });
          sessions.push({
            ref: `${att.key}#${n}`,
            stepKey: att.key,
            occurrence: n,
            kind: att.kind,
            label: step.repeat > 1 ? `${att.label} ${n}/${step.repeat}` : att.label,
            startsAt: tStart,
            durationMinutes: att.durationMinutes,
            recoveryMinutes: att.recoveryMinutes,
            chairId: null,
            staffId: null,
            staffSeat: null,
            status: status === 'completed' ? 'completed' : 'cancelled',
            statusReason: status === 'completed' ? null : (statusReason ?? 'infusion missed'),
            plannedDose: null,
            doseGiven: null,
            observations: [],
          });
        }
      }
    }
    const firstStart = sessions.reduce((a, s) => (s.startsAt < a ? s.startsAt : a), sessions[0].startsAt);
    return {
      patientId: p.patientId,
      protocolId: o.protocolId,
      version: p.version,
      tailoring: { weightKg: p.weightKg, steps: {} },
      status: endEarly ? 'ended_early' : 'completed',
      bookedAt: firstStart.minus({ days: 3 + (k % 8), hours: 2 }),
      endReason: endEarly ? o.endReason : undefined,
      endedAt,
      skips,
      sessions: sessions.sort((a, b) => a.startsAt.toMillis() - b.startsAt.toMillis()),
    };
  });
}
