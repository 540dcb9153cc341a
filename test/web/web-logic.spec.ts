import { DateTime } from 'luxon';
import { diffRows, formatInstant } from '../../web/src/lib/diff.js';
import {
  fieldErrors,
  pendingWeightText,
  problemMessage,
  rowErrors,
  weightRefusal,
} from '../../web/src/lib/problems.js';
import { dayAxis, layoutRows, minutesOn } from '../../web/src/lib/timeline.js';

// The web app's logic without a browser: the day board's time axis and lanes, the adjustment
// preview's before/after rows, and problem+json field errors mapped onto forms.

const NY = 'America/New_York';
const at = (local: string, zone = NY) => DateTime.fromISO(local, { zone }).toISO()!;
const session = (id: string, start: string, minutes: number, recovery = 0) => ({
  id,
  start: at(start),
  end: DateTime.fromISO(at(start)).plus({ minutes }).toISO()!,
  occupiedUntil: DateTime.fromISO(at(start))
    .plus({ minutes: minutes + recovery })
    .toISO()!,
});

describe('day board axis', () => {
  it('spans the opening hours on an ordinary day, hour ticks without zone names', () => {
    const axis = dayAxis('2026-12-07', NY, [{ start: '08:00', end: '18:00' }]);
    expect(axis.span).toBe(600);
    expect(axis.dayMinutes).toBe(1440);
    expect(axis.dstChange).toBe(false);
    expect(axis.ticks.map((t) => t.label)).toEqual([
      '08:00',
      '09:00',
      '10:00',
      '11:00',
      '12:00',
      '13:00',
      '14:00',
      '15:00',
      '16:00',
      '17:00',
      '18:00',
    ]);
    expect(axis.open).toEqual([{ from: 0, to: 600 }]);
  });

  it('draws the autumn DST day as 25 hours: the repeated 01:00 twice, each tick labelled with its zone', () => {
    const axis = dayAxis('2026-11-01', NY, [{ start: '00:00', end: '04:00' }]);
    expect(axis.dayMinutes).toBe(1500);
    expect(axis.dstChange).toBe(true);
    expect(axis.span).toBe(300); // 00:00 EDT → 04:00 EST is five real hours
    expect(axis.ticks.map((t) => t.label)).toEqual([
      '00:00 EDT',
      '01:00 EDT',
      '01:00 EST',
      '02:00 EST',
      '03:00 EST',
      '04:00 EST',
    ]);
    expect(axis.ticks.map((t) => t.at)).toEqual([0, 60, 120, 180, 240, 300]);
  });

  it('draws the spring DST day as 23 hours: 02:00 does not exist, a session after it sits at its real distance', () => {
    const axis = dayAxis('2026-03-08', NY, [{ start: '00:00', end: '06:00' }]);
    expect(axis.dayMinutes).toBe(1380);
    expect(axis.span).toBe(300);
    expect(axis.ticks.map((t) => t.label)).toEqual([
      '00:00 EST',
      '01:00 EST',
      '03:00 EDT',
      '04:00 EDT',
      '05:00 EDT',
      '06:00 EDT',
    ]);
    // 03:30 EDT is 2 h 30 min after midnight, not 3 h 30 min.
    expect(minutesOn(axis, at('2026-03-08T03:30'))).toBe(150);
  });

  it('widens the window to sessions outside the opening hours, and to the whole day when closed', () => {
    const axis = dayAxis(
      '2026-12-07',
      NY,
      [{ start: '08:00', end: '18:00' }],
      [session('a', '2026-12-07T19:10', 30, 30)],
    );
    expect(axis.ticks.at(-1)!.label).toBe('21:00'); // ends 20:10: whole hours on both sides
    const closed = dayAxis('2026-12-06', NY, []);
    expect(closed.open).toEqual([]);
    expect(closed.span).toBe(600); // the fallback 08:00–18:00
  });
});

describe('day board rows', () => {
  const axis = dayAxis('2026-12-07', NY, [{ start: '08:00', end: '18:00' }]);
  const chairs = [
    { id: 'c1', label: 'Chair 1' },
    { id: 'c2', label: 'Chair 2' },
  ];

  it('places each session by its start, treatment end and recovery end, in its chair', () => {
    const s = { ...session('s1', '2026-12-07T09:00', 40, 60), chair: 'c2' };
    const rows = layoutRows(axis, chairs, [s], (x) => ({ id: x.chair, label: x.chair }));
    expect(rows.map((r) => r.blocks.length)).toEqual([0, 1]);
    expect(rows[1].blocks[0]).toMatchObject({ from: 60, end: 100, until: 160, lane: 0 });
  });

  it('stacks overlapping sessions of one row on lanes (recovery counts), reusing a lane once free', () => {
    const list = [
      session('a', '2026-12-07T09:00', 40, 60),
      session('b', '2026-12-07T10:00', 40),
      session('c', '2026-12-07T10:40', 30),
      session('d', '2026-12-07T10:45', 30),
    ];
    const [row] = layoutRows(axis, [{ id: 'n', label: 'Nurse' }], list, () => ({ id: 'n', label: 'Nurse' }));
    expect(row.blocks.map((b) => [b.session.id, b.lane])).toEqual([
      ['a', 0],
      ['b', 1],
      ['c', 0], // a (with its recovery) is over at 10:40
      ['d', 1],
    ]);
    expect(row.lanes).toBe(2);
  });

  it('adds a row on demand for sessions whose row is not listed (no chair: by staff)', () => {
    const rows = layoutRows(axis, chairs, [{ ...session('x', '2026-12-07T11:00', 60), staff: 'Dr G' }], (x) => ({
      id: `staff:${x.staff}`,
      label: `${x.staff} (no chair)`,
    }));
    expect(rows.map((r) => r.label)).toEqual(['Chair 1', 'Chair 2', 'Dr G (no chair)']);
  });
});

describe('adjustment preview diff', () => {
  const names = { chairA: 'Infusion chair 1', chairB: 'Infusion chair 2', nurse: 'Maria Lopez, RN' };
  it('lists moved sessions first in their new order, only the fields that differ, in the clinic zone with names', () => {
    const rows = diffRows(
      [
        {
          sessionId: 's3',
          ref: 'therapy#2',
          before: { start: '2026-12-11T14:45:00.000Z', chairId: null, staffId: 'nurse' },
          after: { start: '2026-12-12T14:45:00.000Z', chairId: null, staffId: 'nurse' },
        },
        {
          sessionId: 's2',
          ref: 'infusion#2',
          before: { start: '2026-12-11T13:00:00.000Z', chairId: 'chairA', staffId: 'nurse' },
          after: { start: '2026-12-12T13:00:00.000Z', chairId: 'chairB', staffId: 'nurse' },
        },
        {
          sessionId: 's9',
          ref: 'booster#1',
          before: { status: 'scheduled' },
          after: { status: 'cancelled', statusReason: 'Ended early' },
        },
      ],
      NY,
      names,
    );
    expect(rows.map((r) => [r.ref, r.kind])).toEqual([
      ['infusion#2', 'moved'],
      ['therapy#2', 'moved'],
      ['booster#1', 'cancelled'],
    ]);
    expect(rows[0].fields).toEqual([
      { field: 'start', before: 'Fri 11 Dec, 08:00 EST', after: 'Sat 12 Dec, 08:00 EST' },
      { field: 'chair', before: 'Infusion chair 1', after: 'Infusion chair 2' },
    ]);
    expect(rows[2].fields).toEqual([
      { field: 'status', before: 'scheduled', after: 'cancelled' },
      { field: 'reason', before: '—', after: 'Ended early' },
    ]);
  });

  it('shows a dose change and an added session', () => {
    const rows = diffRows(
      [
        {
          sessionId: 's4',
          ref: 'infusion#4',
          before: { dose: { amount: 0.5, unit: 'mg/kg', totalMg: 39.3 } },
          after: { dose: { amount: 0.6, unit: 'mg/kg', totalMg: 47.1 } },
        },
        {
          sessionId: null,
          ref: 'infusion#7',
          before: null,
          after: { start: '2026-12-21T13:00:00.000Z', chairId: 'chairA', staffId: 'nurse' },
        },
      ],
      NY,
      names,
    );
    expect(rows.map((r) => r.kind)).toEqual(['added', 'changed']);
    expect(rows[1].fields).toEqual([{ field: 'dose', before: '0.5 mg/kg (39.3 mg)', after: '0.6 mg/kg (47.1 mg)' }]);
    expect(rows[0].fields[0]).toEqual({ field: 'start', before: '—', after: 'Mon 21 Dec, 08:00 EST' });
  });

  it('formats instants in the clinic zone across DST, labelled', () => {
    expect(formatInstant('2026-11-01T05:30:00Z', NY)).toBe('Sun 1 Nov, 01:30 EDT');
    expect(formatInstant('2026-11-01T06:30:00Z', NY)).toBe('Sun 1 Nov, 01:30 EST');
  });
});

describe('problem+json in forms', () => {
  it('keys field errors by field, says each once without repeating the property name, joins several', () => {
    const errs = fieldErrors({
      errors: [
        { field: 'fullName', message: 'fullName must be longer than or equal to 1 characters' },
        { field: 'phone', message: 'phone must be a phone number' },
        { field: 'phone', message: 'phone must be shorter than 30 characters' },
      ],
    });
    expect(errs).toEqual({
      fullName: 'Must be longer than or equal to 1 characters',
      phone: 'Must be a phone number; Must be shorter than 30 characters',
    });
  });

  it('strips a prefix the form does not show and maps aliases', () => {
    expect(
      fieldErrors(
        { errors: [{ field: 'tailoring.weightKg', message: 'weightKg must not be greater than 400' }] },
        { prefix: 'tailoring.', aliases: { weightKg: 'weight' } },
      ),
    ).toEqual({ weight: 'Must not be greater than 400' });
  });

  it('puts a table’s errors on their rows and cells (steps.<row>.<path>), whole-row errors under ""', () => {
    const rows = rowErrors(
      {
        'steps.1.recoveryMinutes': 'Must not be greater than 720',
        'steps.1.dose.min': 'Must be at most the amount',
        'steps.3': 'Refers to a later step',
        name: 'x',
      },
      'steps',
    );
    expect([...rows.keys()]).toEqual([1, 3]);
    expect(rows.get(1)).toEqual({
      recoveryMinutes: 'Must not be greater than 720',
      'dose.min': 'Must be at most the amount',
    });
    expect(rows.get(3)).toEqual({ '': 'Refers to a later step' });
  });

  it('says what happened in one sentence: detail, else title, else the status', () => {
    expect(problemMessage({ title: 'Conflict', detail: 'The session is already checked in.' }, 409)).toBe(
      'The session is already checked in.',
    );
    expect(problemMessage({ title: 'Precondition Failed' }, 412)).toBe('Precondition Failed');
    expect(problemMessage(undefined, 503)).toBe('The server answered 503.');
  });
});

describe('a weight awaiting confirmation', () => {
  const problem = {
    status: 409,
    code: 'WEIGHT_UNCONFIRMED',
    title: 'Conflict',
    detail: 'A clinician or admin confirms it with PATCH /v1/patients/{id} {"weightKg": …}.',
  };
  const riley = { fullName: 'Riley Park', pendingWeightKg: 72 };

  it('is shown as entered by the front desk, awaiting confirmation', () => {
    expect(pendingWeightText(72)).toBe('72 kg entered by front desk, awaiting clinician confirmation');
  });

  it('a WEIGHT_UNCONFIRMED refusal is put in plain words: the front desk is told a clinician must confirm, a clinician how to', () => {
    const desk = weightRefusal(problem, true, riley)!;
    expect(desk.title).toBe('Weight not confirmed');
    expect(desk.message).toMatch(
      /^Riley Park's weight \(72 kg\) was entered by the front desk .* A clinician must confirm the weight on the patient page/,
    );
    expect(desk.message).not.toMatch(/PATCH|\/v1|\{/);
    expect(weightRefusal(problem, false, riley)!.message).toMatch(
      /Confirm the weight on the patient page, or give a weight for this plan under Tailoring\.$/,
    );
    expect(weightRefusal(problem, true)!.message).toMatch(/^The patient's weight was entered/);
  });

  it("leaves every other problem to the server's words", () => {
    expect(weightRefusal({ status: 409, code: 'NO_FEASIBLE_SCHEDULE', detail: 'x' }, true, riley)).toBeNull();
    expect(weightRefusal(undefined, true)).toBeNull();
  });
});
