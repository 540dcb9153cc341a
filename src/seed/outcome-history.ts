import { DateTime } from 'luxon';
import type { ProtocolStep } from '../protocols/domain/protocol-step.js';
import { mulberry32 } from './random.js';

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
