import { DateTime } from 'luxon';
import { tailor, type Tailoring } from '../../protocols/domain/tailor.js';
import type { ProtocolStep } from '../../protocols/domain/protocol-step.js';
import { KETAMINE_PROTOCOL } from '../../seed/demo-protocol.js';
import { horizonDaysFor } from './schedule.js';
import type { BookedSession, ScheduleRequest, ScheduleResult, WeeklyInterval } from './types.js';

/** Test helpers for the engine: plain objects with overrides. */
export const weekly = (days: number[], start: string, end: string): WeeklyInterval[] =>
  days.map((weekday) => ({ weekday, start, end }));

export const epochMinute = (iso: string, zone = 'America/New_York') =>
  DateTime.fromISO(iso, { zone }).toMillis() / 60000;

export function makeRequest(
  overrides: Partial<ScheduleRequest> & { steps?: ProtocolStep[]; tailoring?: Tailoring } = {},
): ScheduleRequest {
  const { steps = KETAMINE_PROTOCOL.steps, tailoring = { weightKg: 80 }, ...rest } = overrides;
  const tailored = tailor(steps, tailoring);
  if (!tailored.ok) throw new Error(JSON.stringify(tailored.errors));
  const sessions = rest.sessions ?? tailored.sessions;
  const mon_fri = [1, 2, 3, 4, 5];
  return {
    timezone: 'America/New_York',
    openingHours: [...weekly(mon_fri, '08:00', '18:00'), ...weekly([6], '09:00', '14:00')],
    closures: [],
    chairs: [1, 2, 3, 4].map((n) => ({ id: `chair-${n}`, name: `Chair ${n}` })),
    staff: [
      {
        id: 'nurse-a',
        name: 'Nurse A',
        role: 'nurse',
        availability: [...weekly(mon_fri, '08:00', '18:00'), ...weekly([6], '09:00', '14:00')],
        maxConcurrentPatients: 2,
      },
      {
        id: 'nurse-b',
        name: 'Nurse B',
        role: 'nurse',
        availability: weekly(mon_fri, '08:00', '18:00'),
        maxConcurrentPatients: 2,
      },
      {
        id: 'doc',
        name: 'Dr. D',
        role: 'physician',
        availability: weekly(mon_fri, '09:00', '17:00'),
        maxConcurrentPatients: 1,
      },
      {
        id: 'ther',
        name: 'Therapist T',
        role: 'therapist',
        availability: [...weekly(mon_fri, '09:00', '18:00'), ...weekly([6], '09:00', '13:00')],
        maxConcurrentPatients: 1,
      },
    ],
    booked: [],
    patient: { id: 'patient-1', unavailable: [], unavailableDates: [], preferredTimes: [] },
    earliestStart: '2026-12-01',
    now: epochMinute('2026-11-25T10:00'),
    horizonDays: horizonDaysFor(sessions),
    ...rest,
    sessions,
  };
}

/**
 * The differential oracle of levelling 'off' (issue 17): seeded requests whose plans were computed
 * once by the engine as it was before levelling and start staggering existed (commit d208fe5) and
 * frozen in `levelling-off.plans.json`. `levelling-off.spec.ts` plans them again with today's
 * engine ('off' and unset) and compares. The requests are built here, by a fixed PRNG, from the
 * same fixtures, so the frozen file holds results only.
 *
 * To regenerate (only ever from the old engine, never from today's): extract `git archive d208fe5
 * src` into a scratch folder inside the worktree, bundle a script calling its `schedule` on
 * `differentialCases()` with esbuild, and write `cases.map(compactResult)` as JSON.
 */

/**
 * mulberry32: a small seeded PRNG, so the cases never change. The same as src/seed/random.ts, copied
 * rather than imported: the engine's fixtures may import only the protocol model and the demo protocol.
 */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The demo protocol shortened: intake, three infusions with their therapy, the follow-up. */
const SHORT_STEPS = (() => {
  const steps = structuredClone(KETAMINE_PROTOCOL.steps) as ProtocolStep[];
  const {
    repeatMin: _min,
    repeatMax: _max,
    ...infusion
  } = steps[1] as ProtocolStep & { repeatMin?: number; repeatMax?: number };
  return [steps[0], { ...infusion, repeat: 3 }, steps[2], steps[3]] as ProtocolStep[];
})();

/** One infusion holding a chair and a nurse, nothing else. */
const SINGLE_STEPS = [
  {
    key: 'infusion',
    kind: 'infusion',
    label: 'Infusion',
    durationMinutes: 40,
    recoveryMinutes: 20,
    needsChair: true,
    staffRole: 'nurse',
    repeat: 1,
  },
] as ProtocolStep[];

export const DIFFERENTIAL_CASES = 150;

export function differentialCases(): ScheduleRequest[] {
  const rand = prng(20261203);
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const cases: ScheduleRequest[] = [];
  for (let n = 0; n < DIFFERENTIAL_CASES; n++) {
    const r = rand();
    const steps = r < 0.6 ? KETAMINE_PROTOCOL.steps : r < 0.85 ? SHORT_STEPS : SINGLE_STEPS;
    // Earliest starts from December to April: the March clock change falls inside some plans.
    const earliest = DateTime.fromISO('2026-12-07', { zone: 'utc' }).plus({ days: int(0, 120) });
    const earliestStart = earliest.toISODate()!;
    const booked: BookedSession[] = [];
    const count = rand() < 0.3 ? int(200, 700) : int(0, 90);
    for (let i = 0; i < count; i++) {
      const day = earliest.plus({ days: int(0, 27) }).toISODate()!;
      const start = epochMinute(`${day}T08:00`) + int(0, 36) * 15;
      const chair = int(1, 4);
      const nurse = rand() < 0.6 ? (rand() < 0.5 ? 'nurse-a' : 'nurse-b') : null;
      booked.push({
        start,
        end: start + int(2, 12) * 15,
        chairId: `chair-${chair}`,
        staffId: nurse,
        patientId: `other-${i}`,
      });
    }
    const unavailable = rand() < 0.4 ? weekly([int(1, 6)], `${10 + int(0, 5)}:00`, `${16 + int(0, 2)}:00`) : [];
    const preferredTimes =
      rand() < 0.3 ? weekly([1, 2, 3, 4, 5], '09:00', '12:00') : rand() < 0.3 ? weekly([2, 4], '13:00', '17:00') : [];
    const base = makeRequest({
      steps,
      earliestStart,
      booked,
      startWindowDays: int(1, 14),
      now: epochMinute(`${earliestStart}T00:00`) - 7 * 1440,
      patient: { id: 'patient-1', unavailable, unavailableDates: [], preferredTimes },
    });
    const prefer =
      rand() < 0.15
        ? { [base.sessions.find((s) => s.needsChair)!.ref]: epochMinute(`${earliestStart}T11:00`) + int(0, 5) * 1440 }
        : undefined;
    cases.push(prefer ? { ...base, prefer } : base);
  }
  return cases;
}

/** A result as one line per session (or the refusal), the shape the frozen file keeps. */
export function compactResult(r: ScheduleResult): string[] {
  if (r.kind === 'infeasible') return [`refused ${r.binding.code} ${r.binding.ref} earliest ${r.earliestStart}`];
  return r.sessions.map(
    (s) => `${s.ref} ${s.localDate} ${s.localTime} ${s.chairId ?? '-'} ${s.staffId ?? '-'} ${s.staffSeat ?? '-'}`,
  );
}
