import { DateTime } from 'luxon';
import type { ProtocolStep } from '../../protocols/domain/protocol-step.js';
import { epochMinute, makeRequest, weekly } from './fixtures.js';
import { horizonDaysFor, schedule } from './schedule.js';
import type { FixedPlacement, PlacedSession, ScheduleRequest } from './types.js';

// Rescheduling with the engine: earlier sessions kept as they are, the moved one pinned, later
// ones preferring where they were and moving only as far as their gaps require.
function planned(req: ScheduleRequest): PlacedSession[] {
  const r = schedule(req);
  if (r.kind !== 'planned') throw new Error(`expected a plan: ${JSON.stringify(r.binding)}`);
  return r.sessions;
}

function reschedule(req: ScheduleRequest, plan: PlacedSession[], ref: string, start: number): ScheduleRequest {
  const target = plan.find((p) => p.ref === ref)!;
  const fixed: Record<string, FixedPlacement> = {};
  const prefer: Record<string, number> = {};
  for (const p of plan) {
    if (p.ref === ref) fixed[p.ref] = { start, chairId: null, staffId: null, check: true };
    else if (p.start < target.start)
      fixed[p.ref] = { start: p.start, chairId: p.chairId, staffId: p.staffId, staffSeat: p.staffSeat, check: false };
    else prefer[p.ref] = p.start;
  }
  return { ...req, fixed, prefer, startWindowDays: req.horizonDays, probeDays: req.horizonDays };
}

const local = (p: PlacedSession) => `${p.localDate} ${p.localTime}`;

describe('schedule with fixed and preferred placements', () => {
  it('moves one infusion a day later; earlier sessions stay, later ones move only as far as needed', () => {
    const req = makeRequest({ earliestStart: '2026-12-01' });
    const before = planned(req);
    const target = before.find((p) => p.ref === 'infusion#3')!;
    const newStart =
      DateTime.fromMillis(target.start * 60000)
        .plus({ days: 1 })
        .toMillis() / 60000;
    const after = planned(reschedule(req, before, 'infusion#3', newStart));
    const byRef = (list: PlacedSession[]) => new Map(list.map((p) => [p.ref, p]));
    const a = byRef(after);
    for (const p of before.filter((x) => x.start < target.start)) expect(local(a.get(p.ref)!)).toBe(local(p));
    expect(a.get('infusion#3')!.start).toBe(newStart);
    // The therapy attached within 24 h follows its infusion; nothing moves earlier than it was.
    expect(a.get('therapy#3')!.start).toBeGreaterThanOrEqual(a.get('infusion#3')!.occupiedUntil);
    for (const p of before.filter((x) => x.start > target.start))
      expect(a.get(p.ref)!.start).toBeGreaterThanOrEqual(p.start);
    // Sessions whose gaps still hold did not move (the booster stays where it was if the follow-up did).
    if (local(a.get('follow_up#1')!) === local(before.find((p) => p.ref === 'follow_up#1')!)) {
      expect(local(a.get('booster#1')!)).toBe(local(before.find((p) => p.ref === 'booster#1')!));
    }
  });

  it('refuses a pinned time outside opening hours, naming the session', () => {
    const req = makeRequest({ earliestStart: '2026-12-01' });
    const before = planned(req);
    const target = before.find((p) => p.ref === 'infusion#2')!;
    const r = schedule(reschedule(req, before, 'infusion#2', epochMinute(`${target.localDate}T20:00`)));
    expect(r.kind).toBe('infeasible');
    if (r.kind === 'infeasible') expect(r.binding.ref).toBe('infusion#2');
  });

  it('keeps 10:00 local for the sessions that shift across a daylight-saving change', () => {
    // Infusions every 1–2 days at 10:00 (the patient's preference; the clinic opens at 08:00); move the first by two days
    // so that the later ones shift across 2026-11-01.
    const steps: ProtocolStep[] = [
      {
        key: 'infusion',
        kind: 'infusion',
        label: 'Infusion',
        durationMinutes: 40,
        recoveryMinutes: 60,
        needsChair: true,
        staffRole: 'nurse',
        repeat: 4,
        spacing: { min: 1, target: 1, max: 2, unit: 'days' },
        sameTimeOfDay: true,
      },
    ];
    const base = makeRequest({
      steps,
      tailoring: {},
      openingHours: weekly([1, 2, 3, 4, 5, 6, 7], '08:00', '18:00'),
      staff: [
        {
          id: 'nurse',
          name: 'N',
          role: 'nurse',
          availability: weekly([1, 2, 3, 4, 5, 6, 7], '08:00', '18:00'),
          maxConcurrentPatients: 1,
        },
      ],
      patient: {
        id: 'patient-1',
        unavailable: [],
        unavailableDates: [],
        preferredTimes: weekly([1, 2, 3, 4, 5, 6, 7], '10:00', '11:45'),
      },
      earliestStart: '2026-10-28',
      now: epochMinute('2026-10-01T00:00'),
    });
    const req = { ...base, horizonDays: horizonDaysFor(base.sessions, 30) };
    const before = planned(req);
    expect(before.map((p) => p.localTime)).toEqual(['10:00', '10:00', '10:00', '10:00']);
    const first = before[0];
    const moved = epochMinute(
      `${DateTime.fromMillis(first.start * 60000, { zone: 'America/New_York' })
        .plus({ days: 2 })
        .toISODate()}T10:00`,
    );
    const after = planned(reschedule(req, before, 'infusion#1', moved));
    expect(after.map((p) => p.localTime)).toEqual(['10:00', '10:00', '10:00', '10:00']);
    expect(after.some((p) => p.localDate >= '2026-11-01')).toBe(true);
    // Gaps kept: consecutive infusions 1–2 days apart.
    for (let i = 1; i < after.length; i++) {
      const gap = DateTime.fromISO(after[i].localDate).diff(DateTime.fromISO(after[i - 1].localDate), 'days').days;
      expect(gap).toBeGreaterThanOrEqual(1);
      expect(gap).toBeLessThanOrEqual(2);
    }
  });
});
