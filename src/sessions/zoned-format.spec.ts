import fc from 'fast-check';
import { DateTime } from 'luxon';
import { zonedInstant } from './zoned-format.js';

const viaLuxon = (ms: number, zone: string) => {
  const dt = DateTime.fromMillis(ms, { zone });
  return { iso: dt.toISO({ suppressMilliseconds: true })!, date: dt.toISODate()!, time: dt.toFormat('HH:mm') };
};

const ZONES = [
  'America/New_York',
  'Europe/London',
  'Europe/Berlin',
  'Australia/Lord_Howe',
  'America/Havana',
  'America/Santiago',
  'Asia/Kolkata',
  'Pacific/Chatham',
  'Asia/Kathmandu',
  'America/St_Johns',
  'Pacific/Kiritimati',
  'Etc/UTC',
  'UTC',
  'utc',
  'Etc/GMT+5',
  'Africa/Casablanca',
];

describe('zonedInstant: what luxon would print, for less', () => {
  it('matches luxon on random instants in many zones, with and without milliseconds', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...ZONES),
        fc.integer({ min: Date.UTC(1900, 0, 1), max: Date.UTC(2100, 0, 1) }),
        fc.boolean(),
        (zone, ms, whole) => {
          const at = whole ? ms - (((ms % 60_000) + 60_000) % 60_000) : ms;
          expect(zonedInstant(at, zone)).toEqual(viaLuxon(at, zone));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('matches luxon minute by minute around DST changes (New York, Lord Howe half-hour, Chatham 45-minute offsets)', () => {
    const around = [
      ['America/New_York', '2027-03-14T06:00:00Z'],
      ['America/New_York', '2026-11-01T05:00:00Z'],
      ['Australia/Lord_Howe', '2026-10-03T15:00:00Z'],
      ['Australia/Lord_Howe', '2027-04-03T14:00:00Z'],
      ['Pacific/Chatham', '2026-09-26T13:00:00Z'],
      ['Europe/London', '2027-03-28T00:00:00Z'],
    ] as const;
    for (const [zone, iso] of around) {
      const start = DateTime.fromISO(iso).toMillis() - 3 * 3600_000;
      for (let m = 0; m <= 6 * 60; m++) {
        const at = start + m * 60_000;
        expect(zonedInstant(at, zone)).toEqual(viaLuxon(at, zone));
      }
    }
  });

  it('leaves zones luxon does not know as IANA to luxon itself', () => {
    expect(zonedInstant(Date.UTC(2026, 11, 1, 14), 'UTC+3')).toEqual(viaLuxon(Date.UTC(2026, 11, 1, 14), 'UTC+3'));
  });
});
