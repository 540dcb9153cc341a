import { ZoneCalendar } from './zone-calendar.js';

/**
 * The zone calendar turns local wall-clock times into instants and back. The expected values
 * below are written out by hand from the zones' published rules (and checked against an
 * Intl-based brute force at the end of the file), not computed with luxon: luxon itself resolves
 * an ambiguous local time to its *second* occurrence, where the engine promises the first.
 *
 * Transitions used (2026):
 * - America/New_York: 03-08 02:00 EST → 03:00 EDT (07:00Z); 11-01 02:00 EDT → 01:00 EST (06:00Z).
 * - America/Havana (at midnight): 03-08 00:00 CST → 01:00 CDT (05:00Z); 11-01 01:00 CDT → 00:00 CST (05:00Z).
 * - America/Santiago (at midnight): 04-04 24:00 → 23:00 (-03 → -04, 03:00Z on 04-05);
 *   09-06 00:00 → 01:00 (-04 → -03, 04:00Z).
 * - Australia/Lord_Howe (30-minute shift): 04-05 02:00 +11 → 01:30 +10:30 (15:00Z on 04-04);
 *   10-04 02:00 +10:30 → 02:30 +11 (15:30Z on 10-03).
 * - Asia/Kolkata: +05:30 all year.
 */

const utcMinute = (iso: string) => Date.parse(iso) / 60000;
const minuteOf = (hhmm: string) => {
  const [h, m] = hhmm.split(':').map(Number);
  return h * 60 + m;
};
const isoOf = (epochMinute: number | null) =>
  epochMinute === null ? null : new Date(epochMinute * 60000).toISOString().replace(':00.000Z', 'Z');

/** A calendar of a few days around `date`, and the index of `date` in it. */
function around(zone: string, date: string, before = 2, after = 2): { cal: ZoneCalendar; i: number } {
  const first = new Date(Date.parse(`${date}T00:00:00Z`) - before * 86_400_000).toISOString().slice(0, 10);
  const cal = new ZoneCalendar(zone, first, before + 1 + after);
  const i = cal.indexOfDate(date);
  expect(i).toBe(before);
  return { cal, i };
}

describe('ZoneCalendar.toEpoch: local wall time → instant', () => {
  // [zone, local date, local time, expected instant (UTC) or null when the time does not exist]
  const rows: [string, string, string, string | null][] = [
    // New York, ordinary days (EST in winter, EDT in summer)
    ['America/New_York', '2026-01-15', '00:00', '2026-01-15T05:00Z'],
    ['America/New_York', '2026-01-15', '10:00', '2026-01-15T15:00Z'],
    ['America/New_York', '2026-01-15', '23:45', '2026-01-16T04:45Z'],
    ['America/New_York', '2026-01-15', '24:00', '2026-01-16T05:00Z'],
    ['America/New_York', '2026-06-15', '10:00', '2026-06-15T14:00Z'],
    ['America/New_York', '2026-03-07', '10:00', '2026-03-07T15:00Z'],
    ['America/New_York', '2026-03-09', '10:00', '2026-03-09T14:00Z'],
    // New York spring forward: 02:00–02:59 does not exist
    ['America/New_York', '2026-03-08', '00:00', '2026-03-08T05:00Z'],
    ['America/New_York', '2026-03-08', '01:45', '2026-03-08T06:45Z'],
    ['America/New_York', '2026-03-08', '01:59', '2026-03-08T06:59Z'],
    ['America/New_York', '2026-03-08', '02:00', null],
    ['America/New_York', '2026-03-08', '02:30', null],
    ['America/New_York', '2026-03-08', '02:59', null],
    ['America/New_York', '2026-03-08', '03:00', '2026-03-08T07:00Z'],
    ['America/New_York', '2026-03-08', '10:00', '2026-03-08T14:00Z'],
    ['America/New_York', '2026-03-08', '24:00', '2026-03-09T04:00Z'],
    // New York fall back: 01:00–01:59 happens twice; the first (EDT) occurrence wins
    ['America/New_York', '2026-11-01', '00:00', '2026-11-01T04:00Z'],
    ['America/New_York', '2026-11-01', '00:59', '2026-11-01T04:59Z'],
    ['America/New_York', '2026-11-01', '01:00', '2026-11-01T05:00Z'],
    ['America/New_York', '2026-11-01', '01:30', '2026-11-01T05:30Z'],
    ['America/New_York', '2026-11-01', '01:59', '2026-11-01T05:59Z'],
    ['America/New_York', '2026-11-01', '02:00', '2026-11-01T07:00Z'],
    ['America/New_York', '2026-11-01', '10:00', '2026-11-01T15:00Z'],
    ['America/New_York', '2026-11-01', '24:00', '2026-11-02T05:00Z'],
    ['America/New_York', '2026-10-31', '10:00', '2026-10-31T14:00Z'],
    ['America/New_York', '2026-11-02', '10:00', '2026-11-02T15:00Z'],
    // Kolkata: a 30-minute offset, no DST
    ['Asia/Kolkata', '2026-06-15', '00:00', '2026-06-14T18:30Z'],
    ['Asia/Kolkata', '2026-06-15', '10:00', '2026-06-15T04:30Z'],
    ['Asia/Kolkata', '2026-06-15', '23:45', '2026-06-15T18:15Z'],
    ['Asia/Kolkata', '2026-12-15', '10:00', '2026-12-15T04:30Z'],
    // Lord Howe: DST shifts the clock by 30 minutes only
    ['Australia/Lord_Howe', '2026-10-04', '01:59', '2026-10-03T15:29Z'], // still +10:30
    ['Australia/Lord_Howe', '2026-10-04', '02:00', null],
    ['Australia/Lord_Howe', '2026-10-04', '02:15', null],
    ['Australia/Lord_Howe', '2026-10-04', '02:29', null],
    ['Australia/Lord_Howe', '2026-10-04', '02:30', '2026-10-03T15:30Z'],
    ['Australia/Lord_Howe', '2026-10-04', '10:00', '2026-10-03T23:00Z'],
    ['Australia/Lord_Howe', '2026-04-05', '01:29', '2026-04-04T14:29Z'],
    ['Australia/Lord_Howe', '2026-04-05', '01:30', '2026-04-04T14:30Z'], // first of two (+11:00)
    ['Australia/Lord_Howe', '2026-04-05', '01:45', '2026-04-04T14:45Z'], // first of two (+11:00)
    ['Australia/Lord_Howe', '2026-04-05', '02:00', '2026-04-04T15:30Z'],
    ['Australia/Lord_Howe', '2026-04-05', '10:00', '2026-04-04T23:30Z'],
    // Santiago fall back at midnight: 23:00–23:59 on 04-04 happens twice (-03 first, then -04)
    ['America/Santiago', '2026-04-04', '10:00', '2026-04-04T13:00Z'],
    ['America/Santiago', '2026-04-04', '22:59', '2026-04-05T01:59Z'],
    ['America/Santiago', '2026-04-04', '23:00', '2026-04-05T02:00Z'],
    ['America/Santiago', '2026-04-04', '23:30', '2026-04-05T02:30Z'],
    ['America/Santiago', '2026-04-04', '24:00', '2026-04-05T04:00Z'],
    ['America/Santiago', '2026-04-05', '00:00', '2026-04-05T04:00Z'],
    ['America/Santiago', '2026-04-05', '10:00', '2026-04-05T14:00Z'],
    // Havana fall back: 00:00–00:59 on 11-01 happens twice (CDT first, then CST) — midnight included
    ['America/Havana', '2026-10-31', '23:30', '2026-11-01T03:30Z'],
    ['America/Havana', '2026-10-31', '24:00', '2026-11-01T04:00Z'],
    ['America/Havana', '2026-11-01', '01:00', '2026-11-01T06:00Z'],
    ['America/Havana', '2026-11-01', '10:00', '2026-11-01T15:00Z'],
    ['America/Havana', '2026-11-02', '00:00', '2026-11-02T05:00Z'],
    // Havana spring forward: the day has no 00:00–00:59 (the day begins at 01:00 CDT)
    ['America/Havana', '2026-03-07', '23:30', '2026-03-08T04:30Z'],
    ['America/Havana', '2026-03-08', '01:00', '2026-03-08T05:00Z'],
    ['America/Havana', '2026-03-08', '10:00', '2026-03-08T14:00Z'],
    // Santiago spring forward at midnight: 09-06 has no 00:00–00:59
    ['America/Santiago', '2026-09-05', '23:59', '2026-09-06T03:59Z'],
    ['America/Santiago', '2026-09-06', '01:00', '2026-09-06T04:00Z'],
    ['America/Santiago', '2026-09-06', '10:00', '2026-09-06T13:00Z'],
  ];

  it.each(rows)('%s %s %s → %s', (zone, date, time, expected) => {
    const { cal, i } = around(zone, date);
    expect(isoOf(cal.toEpoch(i, minuteOf(time)))).toBe(expected);
  });

  // The transition happens at local midnight: the calendar must still see that day's missing
  // or repeated hour (the day's own midnight does not exist, or exists twice).
  const midnightRows: [string, string, string, string | null][] = [
    ['America/Havana', '2026-03-08', '00:00', null],
    ['America/Havana', '2026-03-08', '00:30', null],
    ['America/Havana', '2026-03-08', '00:45', null],
    ['America/Santiago', '2026-09-06', '00:00', null],
    ['America/Santiago', '2026-09-06', '00:30', null],
    ['America/Havana', '2026-11-01', '00:00', '2026-11-01T04:00Z'], // first of two (CDT)
    ['America/Havana', '2026-11-01', '00:30', '2026-11-01T04:30Z'], // first of two (CDT)
  ];

  it.each(midnightRows)('DST at midnight: %s %s %s → %s', (zone, date, time, expected) => {
    const { cal, i } = around(zone, date);
    expect(isoOf(cal.toEpoch(i, minuteOf(time)))).toBe(expected);
  });
});

describe('ZoneCalendar.dayIndexOf and wallMinute: instant → local day and wall time', () => {
  // [zone, instant, expected local date, expected local time]
  const rows: [string, string, string, string][] = [
    ['America/New_York', '2026-06-15T14:00Z', '2026-06-15', '10:00'],
    ['America/New_York', '2026-06-16T03:59Z', '2026-06-15', '23:59'],
    ['America/New_York', '2026-06-16T04:00Z', '2026-06-16', '00:00'],
    ['America/New_York', '2026-03-08T06:59Z', '2026-03-08', '01:59'],
    ['America/New_York', '2026-03-08T07:00Z', '2026-03-08', '03:00'],
    ['America/New_York', '2026-03-08T14:00Z', '2026-03-08', '10:00'],
    ['America/New_York', '2026-03-09T03:59Z', '2026-03-08', '23:59'],
    ['America/New_York', '2026-03-09T04:00Z', '2026-03-09', '00:00'],
    ['America/New_York', '2026-11-01T05:30Z', '2026-11-01', '01:30'], // EDT
    ['America/New_York', '2026-11-01T06:30Z', '2026-11-01', '01:30'], // EST, the second 01:30
    ['America/New_York', '2026-11-01T07:00Z', '2026-11-01', '02:00'],
    ['America/New_York', '2026-11-01T15:00Z', '2026-11-01', '10:00'],
    ['America/New_York', '2026-11-02T04:59Z', '2026-11-01', '23:59'],
    ['America/New_York', '2026-11-02T05:00Z', '2026-11-02', '00:00'],
    ['Asia/Kolkata', '2026-06-14T18:29Z', '2026-06-14', '23:59'],
    ['Asia/Kolkata', '2026-06-14T18:30Z', '2026-06-15', '00:00'],
    ['Asia/Kolkata', '2026-06-15T04:30Z', '2026-06-15', '10:00'],
    ['Australia/Lord_Howe', '2026-10-03T15:29Z', '2026-10-04', '01:59'],
    ['Australia/Lord_Howe', '2026-10-03T15:30Z', '2026-10-04', '02:30'],
    ['Australia/Lord_Howe', '2026-04-04T14:45Z', '2026-04-05', '01:45'],
    ['Australia/Lord_Howe', '2026-04-04T15:15Z', '2026-04-05', '01:45'], // the second 01:45
    ['America/Santiago', '2026-04-05T02:30Z', '2026-04-04', '23:30'],
    ['America/Santiago', '2026-04-05T03:30Z', '2026-04-04', '23:30'], // the second 23:30
    ['America/Santiago', '2026-04-05T04:00Z', '2026-04-05', '00:00'],
    ['America/Havana', '2026-03-08T05:00Z', '2026-03-08', '01:00'],
    ['America/Havana', '2026-03-08T14:00Z', '2026-03-08', '10:00'],
    ['America/Havana', '2026-11-01T05:30Z', '2026-11-01', '00:30'], // CST, the second 00:30
  ];

  it.each(rows)('%s %s is %s %s', (zone, instant, date, time) => {
    const { cal } = around(zone, date);
    const u = utcMinute(instant);
    const i = cal.dayIndexOf(u);
    expect(cal.days[i]?.date).toBe(date);
    expect(cal.wallMinute(i, u)).toBe(minuteOf(time));
  });

  // Instants just before a midnight transition belong to the day before, those just after to the
  // day of the transition — also where that day's midnight does not exist or happens twice.
  const midnightRows: [string, string, string, string][] = [
    ['America/Havana', '2026-03-08T04:30Z', '2026-03-07', '23:30'],
    ['America/Havana', '2026-11-01T03:59Z', '2026-10-31', '23:59'],
    ['America/Havana', '2026-11-01T04:00Z', '2026-11-01', '00:00'], // CDT, the first midnight
    ['America/Havana', '2026-11-01T04:30Z', '2026-11-01', '00:30'], // CDT, the first 00:30
    ['America/Santiago', '2026-09-06T03:59Z', '2026-09-05', '23:59'],
    ['America/Santiago', '2026-09-06T04:00Z', '2026-09-06', '01:00'],
  ];

  it.each(midnightRows)('DST at midnight: %s %s is %s %s', (zone, instant, date, time) => {
    const { cal } = around(zone, date);
    const u = utcMinute(instant);
    const i = cal.dayIndexOf(u);
    expect(cal.days[i]?.date).toBe(date);
    expect(cal.wallMinute(i, u)).toBe(minuteOf(time));
  });

  it('is -1 before the first day and after the last', () => {
    const cal = new ZoneCalendar('America/New_York', '2026-06-15', 3); // 06-15, 06-16, 06-17 (EDT)
    expect(cal.dayIndexOf(utcMinute('2026-06-15T03:59Z'))).toBe(-1);
    expect(cal.dayIndexOf(utcMinute('2026-06-15T04:00Z'))).toBe(0);
    expect(cal.dayIndexOf(utcMinute('2026-06-18T03:59Z'))).toBe(2);
    expect(cal.dayIndexOf(utcMinute('2026-06-18T04:00Z'))).toBe(-1);
    expect(cal.dayIndexOf(utcMinute('2026-06-18T04:30Z'))).toBe(-1);
    expect(cal.dayIndexOf(utcMinute('2026-06-18T05:00Z'))).toBe(-1);
    expect(cal.dayIndexOf(utcMinute('2026-06-20T12:00Z'))).toBe(-1);
  });

  it('is -1 after the last day when that day is 25 hours long', () => {
    const cal = new ZoneCalendar('America/New_York', '2026-10-31', 2); // 10-31, 11-01 (25 h)
    expect(cal.dayIndexOf(utcMinute('2026-11-02T04:59Z'))).toBe(1);
    expect(cal.dayIndexOf(utcMinute('2026-11-02T05:00Z'))).toBe(-1);
    expect(cal.dayIndexOf(utcMinute('2026-11-02T05:30Z'))).toBe(-1);
  });
});

describe('ZoneCalendar.days', () => {
  it('lists consecutive local dates with ISO weekdays and the first instant of each', () => {
    const cal = new ZoneCalendar('America/New_York', '2026-03-06', 5);
    expect(cal.days.map((d) => [d.date, d.weekday, isoOf(d.startMinute)])).toEqual([
      ['2026-03-06', 5, '2026-03-06T05:00Z'],
      ['2026-03-07', 6, '2026-03-07T05:00Z'],
      ['2026-03-08', 7, '2026-03-08T05:00Z'],
      ['2026-03-09', 1, '2026-03-09T04:00Z'],
      ['2026-03-10', 2, '2026-03-10T04:00Z'],
    ]);
  });

  it('crosses month and year ends', () => {
    const cal = new ZoneCalendar('Asia/Kolkata', '2026-12-30', 4);
    expect(cal.days.map((d) => d.date)).toEqual(['2026-12-30', '2026-12-31', '2027-01-01', '2027-01-02']);
    expect(cal.indexOfDate('2027-01-01')).toBe(2);
    expect(cal.indexOfDate('2026-12-29')).toBe(-1);
    expect(cal.indexOfDate('2027-01-03')).toBe(-1);
  });

  it('starts a day at its first instant, also when midnight does not exist or happens twice', () => {
    expect(isoOf(around('America/Havana', '2026-03-08').cal.days[2].startMinute)).toBe('2026-03-08T05:00Z'); // 01:00 CDT
    expect(isoOf(around('America/Santiago', '2026-09-06').cal.days[2].startMinute)).toBe('2026-09-06T04:00Z'); // 01:00 -03
    expect(isoOf(around('America/Havana', '2026-11-01').cal.days[2].startMinute)).toBe('2026-11-01T04:00Z'); // the first 00:00 (CDT)
  });

  it('formats instants with the offset in force', () => {
    const cal = new ZoneCalendar('America/New_York', '2026-11-01', 1);
    expect(cal.iso(utcMinute('2026-11-01T05:30Z'))).toBe('2026-11-01T01:30:00-04:00');
    expect(cal.iso(utcMinute('2026-11-01T06:30Z'))).toBe('2026-11-01T01:30:00-05:00');
  });
});

/**
 * Brute force, independent of luxon: for each local wall time of the transition days (and their
 * neighbours), every UTC instant within ±15 hours on a 15-minute grid is formatted with Intl; the
 * instants whose local date and time match are that wall time's occurrences.
 */
describe('ZoneCalendar against an Intl brute force around every 2026 transition', () => {
  const formatters = new Map<string, Intl.DateTimeFormat>();
  const local = (zone: string, u: number): [string, number] => {
    let f = formatters.get(zone);
    if (!f) {
      f = new Intl.DateTimeFormat('en-CA', {
        timeZone: zone,
        hourCycle: 'h23',
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
      });
      formatters.set(zone, f);
    }
    const p = Object.fromEntries(f.formatToParts(new Date(u * 60000)).map((x) => [x.type, x.value]));
    return [`${p.year}-${p.month}-${p.day}`, Number(p.hour) * 60 + Number(p.minute)];
  };

  const transitionDays: [string, string][] = [
    ['America/New_York', '2026-03-08'],
    ['America/New_York', '2026-11-01'],
    ['Australia/Lord_Howe', '2026-04-05'],
    ['Australia/Lord_Howe', '2026-10-04'],
    ['Asia/Kolkata', '2026-06-15'],
    ['America/Santiago', '2026-04-04'],
    ['America/Santiago', '2026-09-06'],
    ['America/Havana', '2026-03-08'],
    ['America/Havana', '2026-11-01'],
  ];

  it.each(transitionDays)(
    '%s around %s: toEpoch gives the first occurrence or null, wallMinute and dayIndexOf invert it',
    (zone, date) => {
      const { cal } = around(zone, date, 1, 1);
      const mismatches: string[] = [];
      for (let i = 0; i < cal.days.length; i++) {
        const d = cal.days[i];
        const wallOrigin = Date.parse(`${d.date}T00:00:00Z`) / 60000;
        for (let m = 0; m < 1440; m += 15) {
          const occurrences: number[] = [];
          for (let u = wallOrigin + m - 15 * 60; u <= wallOrigin + m + 15 * 60; u += 15) {
            const [ld, lm] = local(zone, u);
            if (ld === d.date && lm === m) occurrences.push(u);
          }
          const expected = occurrences.length ? Math.min(...occurrences) : null;
          const got = cal.toEpoch(i, m);
          if (got !== expected) mismatches.push(`toEpoch ${d.date} ${m}: ${isoOf(got)} ≠ ${isoOf(expected)}`);
          for (const u of occurrences) {
            const j = cal.dayIndexOf(u);
            if (cal.days[j]?.date !== d.date || cal.wallMinute(j, u) !== m) {
              mismatches.push(
                `${isoOf(u)}: day ${cal.days[j]?.date} minute ${j >= 0 ? cal.wallMinute(j, u) : '-'} ≠ ${d.date} ${m}`,
              );
            }
          }
        }
      }
      expect(mismatches).toEqual([]);
    },
  );
});
