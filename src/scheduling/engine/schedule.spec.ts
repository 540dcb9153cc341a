import { DateTime } from 'luxon';
import type { ProtocolStep } from '../../protocols/domain/protocol-step.js';
import { epochMinute, makeRequest, weekly } from './fixtures.js';
import { horizonDaysFor, schedule } from './schedule.js';
import type { BookedSession, PlacedSession, ScheduleRequest, ScheduleResult } from './types.js';

/*
 * Hand-written cases for the scheduling engine. Dates used (America/New_York unless said):
 * 2026-12-01 is a Tuesday, 2026-12-04 a Friday, 2026-12-07 a Monday, 2026-10-26 a Monday;
 * clocks go back on Sunday 2026-11-01 (EDT → EST) and forward on Sunday 2026-03-08.
 */

const NY = 'America/New_York';
const ALL_WEEK = [1, 2, 3, 4, 5, 6, 7];
const MON_FRI = [1, 2, 3, 4, 5];
const MON_SAT = [1, 2, 3, 4, 5, 6];

function planOf(result: ScheduleResult): PlacedSession[] {
  if (result.kind !== 'planned') throw new Error(`expected a plan, got ${JSON.stringify(result)}`);
  return result.sessions;
}

function refusalOf(result: ScheduleResult): Extract<ScheduleResult, { kind: 'infeasible' }> {
  if (result.kind !== 'infeasible')
    throw new Error(
      `expected a refusal, got ${JSON.stringify(result.sessions.map((s) => `${s.ref} ${s.localDate} ${s.localTime}`))}`,
    );
  return result;
}

const byRef = (plan: PlacedSession[], ref: string): PlacedSession => {
  const s = plan.find((p) => p.ref === ref);
  if (!s) throw new Error(`no ${ref} in ${plan.map((p) => p.ref).join(', ')}`);
  return s;
};
const ofStep = (plan: PlacedSession[], key: string) =>
  plan.filter((p) => p.stepKey === key).sort((a, b) => a.occurrence - b.occurrence);
const utc = (m: number) => new Date(m * 60000).toISOString().slice(0, 16) + 'Z';
/** The local date and time of an instant, computed here rather than trusted from the plan. */
const localOf = (m: number, zone = NY) => DateTime.fromMillis(m * 60000, { zone }).toFormat('yyyy-MM-dd HH:mm');
const at = (p: PlacedSession) => `${p.localDate} ${p.localTime}`;
const daysBetween = (a: string, b: string) =>
  Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / 86_400_000);
const weekdayOf = (date: string) => DateTime.fromISO(date, { zone: 'utc' }).weekday;

/** A one-step template; everything overridable. */
function step(o: Partial<ProtocolStep> & { key: string }): ProtocolStep {
  return {
    kind: 'infusion',
    label: o.key,
    durationMinutes: 60,
    recoveryMinutes: 0,
    needsChair: true,
    staffRole: 'nurse',
    repeat: 1,
    ...o,
  };
}

/** A request for `steps` in a simple clinic: open `days` from `open` to `close`, two nurses there all that time. */
function clinic(
  steps: ProtocolStep[],
  o: Partial<ScheduleRequest> & { days?: number[]; open?: string; close?: string } = {},
): ScheduleRequest {
  const { days = MON_FRI, open = '08:00', close = '18:00', ...rest } = o;
  const hours = weekly(days, open, close);
  return makeRequest({
    steps,
    openingHours: hours,
    staff: [
      { id: 'nurse-a', name: 'Nurse A', role: 'nurse', availability: hours, maxConcurrentPatients: 2 },
      { id: 'nurse-b', name: 'Nurse B', role: 'nurse', availability: hours, maxConcurrentPatients: 2 },
    ],
    ...rest,
  });
}

/** Every session inside its local opening interval, staff and chair present, no overlaps: a sanity net for each case. */
function expectBasicRules(req: ScheduleRequest, plan: PlacedSession[]): void {
  for (const p of plan) {
    expect(localOf(p.start, req.timezone)).toBe(at(p));
    expect(p.start).toBeGreaterThanOrEqual(req.now);
    const weekday = weekdayOf(p.localDate);
    const startWall = DateTime.fromMillis(p.start * 60000, { zone: req.timezone });
    const endWall = DateTime.fromMillis(p.occupiedUntil * 60000, { zone: req.timezone });
    const within = (list: { weekday: number; start: string; end: string }[]) =>
      list.some(
        (w) =>
          w.weekday === weekday &&
          w.start <= startWall.toFormat('HH:mm') &&
          (endWall.toISODate() === p.localDate
            ? endWall.toFormat('HH:mm') <= w.end
            : w.end === '24:00' && endWall.toFormat('HH:mm') === '00:00'),
      );
    expect({ ref: p.ref, insideOpening: within(req.openingHours) }).toEqual({ ref: p.ref, insideOpening: true });
    if (p.staffId)
      expect({ ref: p.ref, staffPresent: within(req.staff.find((s) => s.id === p.staffId)!.availability) }).toEqual({
        ref: p.ref,
        staffPresent: true,
      });
  }
  const sorted = [...plan].sort((a, b) => a.start - b.start);
  for (let i = 1; i < sorted.length; i++) expect(sorted[i].start).toBeGreaterThanOrEqual(sorted[i - 1].occupiedUntil);
}

/** The most occupancies of `staffId` at once during the plan's sessions, bookings and plan together. */
function peakLoad(staffId: string, booked: BookedSession[], plan: PlacedSession[]): number {
  const mine = plan.filter((p) => p.staffId === staffId).map((p) => [p.start, p.occupiedUntil]);
  const spans = [...booked.filter((b) => b.staffId === staffId).map((b) => [b.start, b.end]), ...mine];
  const instants = mine.flatMap(([a, b]) => [a, ...spans.map(([t]) => t).filter((t) => t > a && t < b)]);
  return Math.max(0, ...instants.map((t) => spans.filter(([a, b]) => a <= t && t < b).length));
}

describe('schedule: the demo protocol', () => {
  const req = makeRequest();
  const result = schedule(req);
  const plan = planOf(result);

  it('plans all 15 sessions, each once, sorted by start', () => {
    expect(plan).toHaveLength(15);
    expect(new Set(plan.map((p) => p.ref)).size).toBe(15);
    expect(plan.map((p) => p.start)).toEqual([...plan.map((p) => p.start)].sort((a, b) => a - b));
    expectBasicRules(req, plan);
  });

  it('starts as early as it can: the intake on the first day when the physician starts, the first infusion at its 2-day target', () => {
    expect(at(byRef(plan, 'intake#1'))).toBe('2026-12-01 09:00');
    expect(byRef(plan, 'infusion#1').localDate).toBe('2026-12-03');
  });

  it('keeps every gap of the protocol', () => {
    const infusions = ofStep(plan, 'infusion');
    expect(infusions).toHaveLength(6);
    expect(daysBetween(byRef(plan, 'intake#1').localDate, infusions[0].localDate)).toBeGreaterThanOrEqual(1);
    for (let i = 1; i < infusions.length; i++) {
      const gap = daysBetween(infusions[i - 1].localDate, infusions[i].localDate);
      expect(gap).toBeGreaterThanOrEqual(1);
      expect(gap).toBeLessThanOrEqual(4);
    }
    for (const inf of infusions) {
      expect(weekdayOf(inf.localDate)).toBeLessThanOrEqual(6);
      expect(inf.occupiedUntil - inf.end).toBe(60);
      expect(inf.end - inf.start).toBe(40);
      expect(inf.chairId).toMatch(/^chair-/);
      expect(['nurse-a', 'nurse-b']).toContain(inf.staffId);
      expect(inf.dose).toEqual({ drug: 'ketamine', amount: 0.5, unit: 'mg/kg', infusionMinutes: 40, totalMg: 40 });
    }
    const followUp = byRef(plan, 'follow_up#1');
    const gapFollowUp = daysBetween(infusions[5].localDate, followUp.localDate);
    expect(gapFollowUp).toBeGreaterThanOrEqual(7);
    expect(gapFollowUp).toBeLessThanOrEqual(10);
    expect(followUp.staffId).toBe('doc');
    const gapBooster = daysBetween(followUp.localDate, byRef(plan, 'booster#1').localDate);
    expect(gapBooster).toBeGreaterThanOrEqual(28);
    expect(gapBooster).toBeLessThanOrEqual(35);
  });

  it('puts each therapy 0–24 h after its infusion’s recovery ends, near the 1-hour target', () => {
    for (let n = 1; n <= 6; n++) {
      const inf = byRef(plan, `infusion#${n}`);
      const therapy = byRef(plan, `therapy#${n}`);
      const gap = therapy.start - inf.occupiedUntil;
      expect(gap).toBeGreaterThanOrEqual(0);
      expect(gap).toBeLessThanOrEqual(24 * 60);
      // The therapist is free in this empty clinic: the first quarter-hour at or after the target.
      expect(gap).toBeGreaterThanOrEqual(60);
      expect(gap).toBeLessThan(75);
      expect(therapy.staffId).toBe('ther');
      expect(therapy.chairId).toBeNull();
    }
  });

  it('is deterministic: the same input twice (and a deep copy) gives the same plan', () => {
    expect(schedule(makeRequest())).toEqual(result);
    expect(schedule(structuredClone(req))).toEqual(result);
  });

  it('prefers the same chair and nurse for the series when they are free', () => {
    const infusions = ofStep(plan, 'infusion');
    expect(new Set(infusions.map((i) => i.chairId)).size).toBe(1);
    expect(new Set(infusions.map((i) => i.staffId)).size).toBe(1);
  });
});

describe('schedule: a series across a daylight-saving change keeps its local time', () => {
  const series = step({
    key: 'infusion',
    durationMinutes: 40,
    recoveryMinutes: 60,
    repeat: 6,
    sameTimeOfDay: true,
    spacing: { min: 1, target: 2, max: 3, unit: 'days' },
  });

  it('a clinic opening at 10:00 every day: 10:00 local on both sides of 2026-11-01, 14:00Z before and 15:00Z after', () => {
    const req = clinic([series], {
      days: ALL_WEEK,
      open: '10:00',
      close: '18:00',
      earliestStart: '2026-10-26',
      now: epochMinute('2026-10-20T00:00'),
    });
    const plan = planOf(schedule(req));
    expect(plan.map(at)).toEqual([
      '2026-10-26 10:00',
      '2026-10-28 10:00',
      '2026-10-30 10:00',
      '2026-11-01 10:00',
      '2026-11-03 10:00',
      '2026-11-05 10:00',
    ]);
    expect(plan.map((p) => utc(p.start))).toEqual([
      '2026-10-26T14:00Z',
      '2026-10-28T14:00Z',
      '2026-10-30T14:00Z',
      '2026-11-01T15:00Z',
      '2026-11-03T15:00Z',
      '2026-11-05T15:00Z',
    ]);
    expectBasicRules(req, plan);
  });

  it('a patient who prefers 10:00–12:00 in a clinic open 08:00–18:00, Sunday closed: 10:00 local throughout', () => {
    const req = clinic([series], {
      days: MON_SAT,
      earliestStart: '2026-10-26',
      now: epochMinute('2026-10-20T00:00'),
      patient: {
        id: 'patient-1',
        unavailable: [],
        unavailableDates: [],
        preferredTimes: weekly(ALL_WEEK, '10:00', '12:00'),
      },
    });
    const plan = planOf(schedule(req));
    expect(plan.map((p) => p.localTime)).toEqual(Array(6).fill('10:00'));
    const dates = plan.map((p) => p.localDate);
    expect(dates.some((d) => d < '2026-11-01')).toBe(true);
    expect(dates.some((d) => d > '2026-11-01')).toBe(true);
    expect(dates).not.toContain('2026-11-01'); // a Sunday
    expect(new Set(plan.map((p) => new Date(p.start * 60000).getUTCHours()))).toEqual(new Set([14, 15]));
    for (const p of plan) expect(new Date(p.start * 60000).getUTCHours()).toBe(p.localDate < '2026-11-01' ? 14 : 15);
    expectBasicRules(req, plan);
  });

  it('spring forward too: 10:00 local across 2026-03-08 (15:00Z before, 14:00Z after)', () => {
    const req = clinic([series], {
      days: ALL_WEEK,
      open: '10:00',
      close: '18:00',
      earliestStart: '2026-03-04',
      now: epochMinute('2026-03-01T00:00'),
    });
    const plan = planOf(schedule(req));
    expect(plan.map((p) => p.localTime)).toEqual(Array(6).fill('10:00'));
    for (const p of plan) expect(utc(p.start).slice(11)).toBe(p.localDate < '2026-03-08' ? '15:00Z' : '14:00Z');
  });
});

describe('schedule: opening hours, weekends and closures', () => {
  const daily = step({ key: 'infusion', repeat: 3, spacing: { min: 1, target: 1, max: 3, unit: 'days' } });

  it('skips a closed weekend: Friday, then Monday', () => {
    const req = clinic([daily], { earliestStart: '2026-12-04', now: epochMinute('2026-12-01T00:00') });
    const plan = planOf(schedule(req));
    expect(plan.map(at)).toEqual(['2026-12-04 08:00', '2026-12-07 08:00', '2026-12-08 08:00']);
    for (const p of plan) expect(weekdayOf(p.localDate)).toBeLessThanOrEqual(5);
  });

  it('skips a whole-day closure', () => {
    const req = clinic([daily], {
      earliestStart: '2026-12-07',
      now: epochMinute('2026-12-01T00:00'),
      closures: [
        { startDate: '2026-12-08', endDate: '2026-12-08', startTime: null, endTime: null, reason: 'staff training' },
      ],
    });
    const plan = planOf(schedule(req));
    expect(plan.map((p) => p.localDate)).toEqual(['2026-12-07', '2026-12-09', '2026-12-10']);
  });

  it('skips a multi-day closure spanning several days from a time to a time', () => {
    const req = clinic([step({ key: 'c' })], {
      earliestStart: '2026-12-07',
      now: epochMinute('2026-12-01T00:00'),
      closures: [
        { startDate: '2026-12-07', endDate: '2026-12-09', startTime: '07:00', endTime: '13:30', reason: 'move' },
      ],
    });
    expect(planOf(schedule(req)).map(at)).toEqual(['2026-12-09 13:30']);
  });

  it('works around a part-day closure', () => {
    const req = clinic([step({ key: 'c' })], {
      earliestStart: '2026-12-07',
      now: epochMinute('2026-12-01T00:00'),
      closures: [
        { startDate: '2026-12-07', endDate: '2026-12-07', startTime: '08:00', endTime: '12:00', reason: 'maintenance' },
      ],
    });
    expect(planOf(schedule(req)).map(at)).toEqual(['2026-12-07 12:00']);
  });

  it('counts recovery: a session whose recovery would run into a closure moves', () => {
    const long = step({ key: 'inf', durationMinutes: 40, recoveryMinutes: 60 });
    const closures = [
      { startDate: '2026-12-07', endDate: '2026-12-07', startTime: '09:30', endTime: '18:00', reason: 'afternoon off' },
    ];
    // 08:00 + 40 min fits before 09:30, but not with its 60 minutes of recovery.
    const req = clinic([long], { earliestStart: '2026-12-07', now: epochMinute('2026-12-01T00:00'), closures });
    expect(planOf(schedule(req)).map(at)).toEqual(['2026-12-08 08:00']);
    const short = clinic([step({ key: 'inf', durationMinutes: 40, recoveryMinutes: 30 })], {
      earliestStart: '2026-12-07',
      now: epochMinute('2026-12-01T00:00'),
      closures,
    });
    expect(planOf(schedule(short)).map(at)).toEqual(['2026-12-07 08:00']);
  });

  it('counts recovery against closing time', () => {
    const req = clinic([step({ key: 'inf', durationMinutes: 40, recoveryMinutes: 60 })], {
      earliestStart: '2026-12-07',
      now: epochMinute('2026-12-07T16:30'),
    });
    // 16:30 + 100 min is past 18:00: the next morning.
    expect(planOf(schedule(req)).map(at)).toEqual(['2026-12-08 08:00']);
  });

  it('keeps to the step’s allowed weekdays', () => {
    const req = clinic([step({ key: 'c', weekdays: [3] })], {
      earliestStart: '2026-12-07',
      now: epochMinute('2026-12-01T00:00'),
    });
    expect(planOf(schedule(req)).map(at)).toEqual(['2026-12-09 08:00']);
  });
});

describe('schedule: refusals name the binding constraint', () => {
  it('a maximum gap that can never be kept: infeasible, naming the session and the maximum gap, no workable start', () => {
    // Two sessions exactly one day apart, in a clinic open Monday, Wednesday and Friday only.
    const req = clinic([step({ key: 'infusion', repeat: 2, spacing: { min: 1, target: 1, max: 1, unit: 'days' } })], {
      days: [1, 3, 5],
      earliestStart: '2026-12-07',
      now: epochMinute('2026-12-01T00:00'),
    });
    const refusal = refusalOf(schedule(req));
    expect(refusal.binding.ref).toBe('infusion#2');
    expect(['GAP', 'CLOSED']).toContain(refusal.binding.code);
    expect(refusal.binding.message).toMatch(/1-day maximum gap after infusion #1/);
    expect(refusal.earliestStart).toBeNull();
  });

  it('an hours gap that can never be kept: the follow-up must come 0–2 hours after, but the physician comes in only in the afternoon', () => {
    const steps = [
      step({ key: 'infusion', staffRole: 'nurse' }),
      step({
        key: 'check',
        kind: 'assessment',
        needsChair: false,
        staffRole: 'physician',
        durationMinutes: 30,
        attachedTo: { step: 'infusion', position: 'after', gap: { min: 0, target: 0, max: 2, unit: 'hours' } },
      }),
    ];
    const hours = weekly(MON_FRI, '08:00', '18:00');
    const req = makeRequest({
      steps,
      openingHours: hours,
      staff: [
        {
          id: 'nurse-a',
          name: 'Nurse A',
          role: 'nurse',
          availability: weekly(MON_FRI, '08:00', '11:00'),
          maxConcurrentPatients: 1,
        },
        {
          id: 'doc',
          name: 'Dr. D',
          role: 'physician',
          availability: weekly(MON_FRI, '14:00', '18:00'),
          maxConcurrentPatients: 1,
        },
      ],
      earliestStart: '2026-12-07',
      now: epochMinute('2026-12-01T00:00'),
    });
    const refusal = refusalOf(schedule(req));
    expect(refusal.binding.ref).toBe('check#1');
    expect(refusal.binding.message).toMatch(/2-hour maximum gap after infusion #1/);
    // The clinic is open every weekday: what binds is the gap (or the physician's hours), not closing days.
    expect(['GAP', 'NO_STAFF']).toContain(refusal.binding.code);
    expect(refusal.earliestStart).toBeNull();
  });

  it('reports the earliest start that would work when a long closure covers the start window', () => {
    const req = clinic([step({ key: 'c' })], {
      earliestStart: '2026-12-01',
      now: epochMinute('2026-11-25T10:00'),
      closures: [
        { startDate: '2026-12-01', endDate: '2026-12-20', startTime: null, endTime: null, reason: 'renovation' },
      ],
    });
    const refusal = refusalOf(schedule(req));
    expect(refusal.binding.code).toBe('CLOSURE');
    expect(refusal.binding.ref).toBe('c#1');
    expect(refusal.binding.message).toContain('renovation');
    expect(refusal.earliestStart).toBe('2026-12-21'); // the Monday after
    // …and asking from that date does give a plan starting then.
    expect(planOf(schedule({ ...req, earliestStart: '2026-12-21' }))[0].localDate).toBe('2026-12-21');
  });

  it('reports no earliest start when nothing could ever work: no chairs', () => {
    const refusal = refusalOf(schedule(makeRequest({ chairs: [] })));
    expect(refusal.binding.code).toBe('NO_CHAIR');
    expect(refusal.binding.ref).toBe('infusion#1');
    expect(refusal.earliestStart).toBeNull();
  });

  it('reports no earliest start when the role is missing', () => {
    const req = makeRequest();
    const refusal = refusalOf(schedule({ ...req, staff: req.staff.filter((s) => s.role !== 'therapist') }));
    expect(refusal.binding.code).toBe('NO_STAFF');
    expect(refusal.binding.ref).toMatch(/^therapy#[1-6]$/);
    expect(refusal.binding.message).toContain('therapist');
    expect(refusal.earliestStart).toBeNull();
  });

  it("reports an earliest start from which a plan works, also when a 'before' attachment precedes its anchor by a day", () => {
    // An evening prep session up to 16 hours before a morning infusion: Wed evening → Thu morning.
    const steps = [
      step({ key: 'infusion', weekdays: [4] }),
      step({
        key: 'prep',
        kind: 'assessment',
        needsChair: false,
        staffRole: null,
        durationMinutes: 30,
        attachedTo: { step: 'infusion', position: 'before', gap: { min: 12, target: 12, max: 16, unit: 'hours' } },
      }),
    ];
    // The window bounds the plan's start, i.e. its first session: the prep on Wednesday 12-09.
    const req = clinic(steps, {
      days: ALL_WEEK,
      earliestStart: '2026-12-07',
      startWindowDays: 2,
      probeDays: 10,
      now: epochMinute('2026-12-01T00:00'),
    });
    req.horizonDays = horizonDaysFor(req.sessions, 10);
    const refusal = refusalOf(schedule(req)); // the plan could start Wednesday 12-09 at the earliest, outside 12-07…12-08
    expect(refusal.earliestStart).toBe('2026-12-09');
    // With a 3-day window the same plan starts inside it.
    expect(schedule({ ...req, startWindowDays: 3 }).kind).toBe('planned');
    const again = schedule({ ...req, earliestStart: refusal.earliestStart! });
    expect(again.kind).toBe('planned');
  });

  it('reports an earliest start for a template with two independent first steps that cannot share a day', () => {
    // Two 8-hour sessions with no constraint between them; the clinic is open 10 hours a day and
    // closed for the whole 2-day start window. From 2026-12-09 they fit: one on the 9th, one on the 10th.
    const eightHours = (key: string) =>
      step({ key, kind: 'consult', durationMinutes: 480, needsChair: false, staffRole: null });
    const req = clinic([eightHours('a'), eightHours('b')], {
      days: ALL_WEEK,
      earliestStart: '2026-12-07',
      now: epochMinute('2026-12-01T00:00'),
      startWindowDays: 2,
      probeDays: 6,
      closures: [{ startDate: '2026-12-07', endDate: '2026-12-08', startTime: null, endTime: null, reason: 'holiday' }],
    });
    req.horizonDays = horizonDaysFor(req.sessions, 6);
    expect(planOf(schedule({ ...req, earliestStart: '2026-12-09' })).map((p) => p.localDate)).toEqual([
      '2026-12-09',
      '2026-12-10',
    ]);
    const refusal = refusalOf(schedule(req));
    expect(refusal.binding.code).toBe('CLOSURE');
    expect(refusal.earliestStart).toBe('2026-12-09');
  });
});

describe('schedule: resources and the patient', () => {
  const one = step({ key: 'c', durationMinutes: 60 });
  const base = { earliestStart: '2026-12-07', now: epochMinute('2026-12-01T00:00') };

  it('honours a staff limit: a nurse at capacity from bookings is not given more patients', () => {
    const booked: BookedSession[] = [
      {
        start: epochMinute('2026-12-07T08:00'),
        end: epochMinute('2026-12-07T12:00'),
        chairId: null,
        staffId: 'nurse-a',
        patientId: 'p2',
      },
      {
        start: epochMinute('2026-12-07T08:00'),
        end: epochMinute('2026-12-07T10:00'),
        chairId: null,
        staffId: 'nurse-a',
        patientId: 'p3',
      },
    ];
    const onlyA = clinic([one], { ...base, booked });
    onlyA.staff = onlyA.staff.filter((s) => s.id === 'nurse-a'); // limit 2
    const plan = planOf(schedule(onlyA));
    expect(at(plan[0])).toBe('2026-12-07 10:00'); // one booking left at 10:00: 2 at once is within the limit
    expect(plan[0].staffId).toBe('nurse-a');
    expect(peakLoad('nurse-a', booked, plan)).toBeLessThanOrEqual(2);

    // Limit 1: the nurse is busy until 12:00.
    onlyA.staff = [{ ...onlyA.staff[0], maxConcurrentPatients: 1 }];
    const plan1 = planOf(schedule(onlyA));
    expect(at(plan1[0])).toBe('2026-12-07 12:00');
    expect(peakLoad('nurse-a', booked, plan1)).toBe(1);

    // With both nurses: nurse-b is free at 08:00.
    const both = planOf(schedule(clinic([one], { ...base, booked: booked.map((b) => ({ ...b })) })));
    expect(both[0].staffId).toBe('nurse-b');
    expect(at(both[0])).toBe('2026-12-07 08:00');
  });

  it('refuses with STAFF_AT_CAPACITY when every nurse is full all the time', () => {
    const booked: BookedSession[] = [];
    for (let d = 7; d <= 31; d++) {
      const date = `2026-12-${String(d).padStart(2, '0')}`;
      for (const nurse of ['nurse-a', 'nurse-b']) {
        for (const p of ['p2', 'p3'])
          booked.push({
            start: epochMinute(`${date}T08:00`),
            end: epochMinute(`${date}T18:00`),
            chairId: null,
            staffId: nurse,
            patientId: p,
          });
      }
    }
    const req = clinic([one], {
      ...base,
      booked,
      probeDays: 20,
      horizonDays: horizonDaysFor(makeRequest({ steps: [one] }).sessions, 20),
    });
    const refusal = refusalOf(schedule(req));
    expect(refusal.binding.code).toBe('STAFF_AT_CAPACITY');
    expect(refusal.binding.message).toMatch(/limit/);
    expect(refusal.earliestStart).toBeNull();
  });

  it('never gives the plan’s own sessions beyond the limit: a series at a nurse with room for one more', () => {
    // nurse-a (limit 2) has one patient all day every day; the plan's sessions add one at a time.
    const booked: BookedSession[] = [];
    for (let d = 7; d <= 18; d++)
      booked.push({
        start: epochMinute(`2026-12-${String(d).padStart(2, '0')}T08:00`),
        end: epochMinute(`2026-12-${String(d).padStart(2, '0')}T18:00`),
        chairId: null,
        staffId: 'nurse-a',
        patientId: 'p2',
      });
    const req = clinic([step({ key: 'inf', repeat: 4, spacing: { min: 1, target: 1, max: 2, unit: 'days' } })], {
      ...base,
      booked,
    });
    req.staff = req.staff.filter((s) => s.id === 'nurse-a');
    const plan = planOf(schedule(req));
    expect(plan).toHaveLength(4);
    expect(peakLoad('nurse-a', booked, plan)).toBe(2);
  });

  it('does not use a chair taken by a booking', () => {
    const booked: BookedSession[] = [
      {
        start: epochMinute('2026-12-07T08:00'),
        end: epochMinute('2026-12-07T12:00'),
        chairId: 'chair-1',
        staffId: null,
        patientId: 'p2',
      },
    ];
    const twoChairs = clinic([one], {
      ...base,
      booked,
      chairs: [
        { id: 'chair-1', name: 'Chair 1' },
        { id: 'chair-2', name: 'Chair 2' },
      ],
    });
    const plan = planOf(schedule(twoChairs));
    expect([at(plan[0]), plan[0].chairId]).toEqual(['2026-12-07 08:00', 'chair-2']);
    const oneChair = clinic([one], { ...base, booked, chairs: [{ id: 'chair-1', name: 'Chair 1' }] });
    const plan1 = planOf(schedule(oneChair));
    expect([at(plan1[0]), plan1[0].chairId]).toEqual(['2026-12-07 12:00', 'chair-1']);
  });

  it('treats a booking that ends when the session starts as no conflict (half-open intervals)', () => {
    const booked: BookedSession[] = [
      {
        start: epochMinute('2026-12-07T07:00'),
        end: epochMinute('2026-12-07T08:00'),
        chairId: 'chair-1',
        staffId: null,
        patientId: 'patient-1',
      },
    ];
    const plan = planOf(schedule(clinic([one], { ...base, booked, chairs: [{ id: 'chair-1', name: 'Chair 1' }] })));
    expect(at(plan[0])).toBe('2026-12-07 08:00');
  });

  it("avoids the patient's own existing booking elsewhere (no chair, no staff of ours)", () => {
    const booked: BookedSession[] = [
      {
        start: epochMinute('2026-12-07T07:30'),
        end: epochMinute('2026-12-07T10:10'),
        chairId: null,
        staffId: null,
        patientId: 'patient-1',
      },
    ];
    const plan = planOf(schedule(clinic([one], { ...base, booked })));
    expect(at(plan[0])).toBe('2026-12-07 10:15');
  });

  it('keeps the plan’s own sessions apart: the patient is never in two places', () => {
    const steps = [
      step({ key: 'a', durationMinutes: 120 }),
      step({
        key: 'b',
        needsChair: false,
        staffRole: null,
        durationMinutes: 30,
        attachedTo: { step: 'a', position: 'after', gap: { min: 0, target: 0, max: 4, unit: 'hours' } },
      }),
    ];
    const plan = planOf(schedule(clinic(steps, base)));
    expect(plan.map(at)).toEqual(['2026-12-07 08:00', '2026-12-07 10:00']);
  });

  it("respects the patient's weekly unavailable hours", () => {
    const patient = {
      id: 'patient-1',
      unavailable: [{ weekday: 1, start: '07:00', end: '12:00' }],
      unavailableDates: [],
      preferredTimes: [],
    };
    const plan = planOf(schedule(clinic([one], { ...base, patient })));
    expect(at(plan[0])).toBe('2026-12-07 12:00');
    // An interval that ends during the session counts too (11:30 + 60 min overlaps 12:00–12:15).
    const patient2 = {
      ...patient,
      unavailable: [
        { weekday: 1, start: '08:30', end: '09:00' },
        { weekday: 1, start: '09:30', end: '18:00' },
      ],
    };
    expect(planOf(schedule(clinic([one], { ...base, patient: patient2 })))[0].localDate).toBe('2026-12-08');
  });

  it("respects the patient's unavailable dates", () => {
    const patient = {
      id: 'patient-1',
      unavailable: [],
      unavailableDates: ['2026-12-07', '2026-12-08'],
      preferredTimes: [],
    };
    expect(planOf(schedule(clinic([one], { ...base, patient })))[0].localDate).toBe('2026-12-09');
  });

  it("honours the patient's preferred times when possible, and falls back to the earliest time when not", () => {
    const prefers = (preferredTimes: { weekday: number; start: string; end: string }[]) => ({
      id: 'patient-1',
      unavailable: [],
      unavailableDates: [],
      preferredTimes,
    });
    expect(
      at(planOf(schedule(clinic([one], { ...base, patient: prefers(weekly(MON_FRI, '14:00', '16:00')) })))[0]),
    ).toBe('2026-12-07 14:00');
    // A 60-minute session must fit in the preferred interval: 15:00–16:00 only.
    expect(
      at(planOf(schedule(clinic([one], { ...base, patient: prefers(weekly(MON_FRI, '14:30', '16:00')) })))[0]),
    ).toBe('2026-12-07 14:30');
    // Preferred on Sunday only, when the clinic is closed: earliest completion wins.
    expect(at(planOf(schedule(clinic([one], { ...base, patient: prefers(weekly([7], '10:00', '12:00')) })))[0])).toBe(
      '2026-12-07 08:00',
    );
  });

  it("places a 'before' attachment before its infusion on the same day, within 0–2 hours", () => {
    const steps = [
      step({
        key: 'infusion',
        repeat: 3,
        durationMinutes: 40,
        recoveryMinutes: 60,
        spacing: { min: 1, target: 2, max: 4, unit: 'days' },
      }),
      step({
        key: 'assessment',
        kind: 'assessment',
        needsChair: false,
        staffRole: null,
        durationMinutes: 30,
        attachedTo: {
          step: 'infusion',
          position: 'before',
          gap: { min: 0, target: 0, max: 2, unit: 'hours' },
          sameDay: true,
        },
      }),
    ];
    const req = clinic(steps, base);
    const plan = planOf(schedule(req));
    expect(plan).toHaveLength(6);
    for (let n = 1; n <= 3; n++) {
      const inf = byRef(plan, `infusion#${n}`);
      const a = byRef(plan, `assessment#${n}`);
      expect(a.localDate).toBe(inf.localDate);
      expect(a.occupiedUntil).toBeLessThanOrEqual(inf.start);
      expect(inf.start - a.occupiedUntil).toBeLessThanOrEqual(120);
      expect(inf.start - a.occupiedUntil).toBe(0); // target 0, nothing in the way
    }
    expect(at(byRef(plan, 'assessment#1'))).toBe('2026-12-07 08:00');
    expect(at(byRef(plan, 'infusion#1'))).toBe('2026-12-07 08:30');
    expectBasicRules(req, plan);
  });
});

describe('schedule: time', () => {
  it('places nothing before now', () => {
    const req = makeRequest({ earliestStart: '2026-12-01', now: epochMinute('2026-12-01T12:05') });
    const plan = planOf(schedule(req));
    for (const p of plan) expect(p.start).toBeGreaterThanOrEqual(req.now);
    expect(at(byRef(plan, 'intake#1'))).toBe('2026-12-01 12:15');
  });

  it('refuses with IN_THE_PAST when now is after the whole start window', () => {
    const req = clinic([step({ key: 'c' })], {
      earliestStart: '2026-12-07',
      now: epochMinute('2027-06-01T00:00'),
      startWindowDays: 3,
      probeDays: 5,
    });
    req.horizonDays = horizonDaysFor(req.sessions, 5);
    const refusal = refusalOf(schedule(req));
    expect(refusal.binding.code).toBe('IN_THE_PAST');
    expect(refusal.earliestStart).toBeNull();
  });

  it('a 24-hour clinic on 2026-03-08 never offers 02:xx local: the first start after 01:45 is 03:00 EDT', () => {
    const one = step({ key: 'c', durationMinutes: 15, needsChair: false, staffRole: null });
    const seen: string[] = [];
    for (let now = epochMinute('2026-03-08T00:00'); now <= epochMinute('2026-03-08T04:00'); now += 5) {
      const req = clinic([one], {
        days: ALL_WEEK,
        open: '00:00',
        close: '24:00',
        earliestStart: '2026-03-08',
        now,
        startWindowDays: 1,
        probeDays: 1,
      });
      req.horizonDays = horizonDaysFor(req.sessions, 1);
      const [p] = planOf(schedule(req));
      expect(p.localTime.startsWith('02:')).toBe(false);
      expect(localOf(p.start)).toBe(at(p));
      seen.push(p.localTime);
      // The first quarter-hour at or after now that exists.
      expect(p.start - now).toBeLessThan(15);
    }
    expect(seen).toContain('01:45');
    expect(seen).toContain('03:00');
    expect(seen.filter((t) => t.startsWith('02:'))).toEqual([]);
  });

  it('a 24-hour clinic on 2026-03-08 counts the session’s duration in elapsed time: 01:30 + 60 min ends 03:30 EDT', () => {
    const req = clinic([step({ key: 'c', durationMinutes: 60, needsChair: false, staffRole: null })], {
      days: ALL_WEEK,
      open: '00:00',
      close: '24:00',
      earliestStart: '2026-03-08',
      now: epochMinute('2026-03-08T01:30'),
    });
    const [p] = planOf(schedule(req));
    expect(at(p)).toBe('2026-03-08 01:30');
    expect(localOf(p.end)).toBe('2026-03-08 03:30');
  });

  it('on 2026-11-01 an ambiguous 01:30 means the first (EDT) occurrence', () => {
    const req = clinic([step({ key: 'c', durationMinutes: 15, needsChair: false, staffRole: null })], {
      days: ALL_WEEK,
      open: '01:30',
      close: '03:00',
      earliestStart: '2026-11-01',
      now: epochMinute('2026-10-31T00:00'),
    });
    const [p] = planOf(schedule(req));
    expect([at(p), utc(p.start)]).toEqual(['2026-11-01 01:30', '2026-11-01T05:30Z']);
  });

  it('Havana, whose clocks go forward at midnight: a 24-hour clinic’s first start on 2026-03-08 is 01:00 CDT (05:00Z), not an instant of the day before', () => {
    const zone = 'America/Havana';
    const req = clinic([step({ key: 'c', durationMinutes: 15, needsChair: false, staffRole: null })], {
      timezone: zone,
      days: ALL_WEEK,
      open: '00:00',
      close: '24:00',
      earliestStart: '2026-03-08',
      now: Date.parse('2026-03-07T00:00:00Z') / 60000,
      startWindowDays: 1,
      probeDays: 1,
    });
    req.horizonDays = horizonDaysFor(req.sessions, 1);
    const [p] = planOf(schedule(req));
    expect([at(p), utc(p.start), localOf(p.start, zone)]).toEqual([
      '2026-03-08 01:00',
      '2026-03-08T05:00Z',
      '2026-03-08 01:00',
    ]);
  });

  it('Lord Howe, where clocks go forward by 30 minutes at 02:00: a closing time of 02:15 (which does not exist) means 02:30 +11:00', () => {
    const zone = 'Australia/Lord_Howe';
    // 2026-10-04 (Sunday), open 01:00–02:15: 01:00 +10:30 is 14:30Z and 02:30 +11:00 is 15:30Z, one hour later.
    const req = (minutes: number) => {
      const r = clinic([step({ key: 'c', durationMinutes: minutes, needsChair: false, staffRole: null })], {
        timezone: zone,
        days: [7],
        open: '01:00',
        close: '02:15',
        earliestStart: '2026-10-04',
        now: 0,
        startWindowDays: 1,
        probeDays: 1,
      });
      r.horizonDays = horizonDaysFor(r.sessions, 1);
      return r;
    };
    const [p] = planOf(schedule(req(60)));
    expect([at(p), utc(p.start), utc(p.end)]).toEqual(['2026-10-04 01:00', '2026-10-03T14:30Z', '2026-10-03T15:30Z']);
    // 90 minutes from 01:00 runs until 03:00 +11:00, past closing.
    expect(schedule(req(90)).kind).toBe('infeasible');
  });
});
