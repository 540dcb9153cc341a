import { canonicalTimeZone, findOverlap, isIanaTimeZone, isLocalDate, minutesOfDay } from './validators.js';

describe('isIanaTimeZone', () => {
  it.each(['America/New_York', 'Europe/Berlin', 'Asia/Kolkata', 'UTC', 'America/Argentina/Buenos_Aires'])(
    'accepts %s',
    (z) => {
      expect(isIanaTimeZone(z)).toBe(true);
    },
  );
  it.each(['Mars/Base', 'America/Springfield', '', 'new york', '+05:00', 'UTC+3', 'America/New_York ', 42, null])(
    'refuses %p',
    (z) => {
      expect(isIanaTimeZone(z)).toBe(false);
    },
  );
});

describe('isLocalDate', () => {
  it.each([
    ['2026-12-25', true],
    ['2028-02-29', true],
    ['2026-02-29', false],
    ['2026-13-01', false],
    ['2026-1-1', false],
    ['2026-12-25T10:00', false],
    [20261225, false],
  ])('%p → %p', (v, ok) => expect(isLocalDate(v)).toBe(ok));
});

describe('minutesOfDay', () => {
  it.each([
    ['00:00', 0],
    ['08:30', 510],
    ['23:59', 1439],
    ['24:00', 1440],
  ])('%s → %d', (t, m) => expect(minutesOfDay(t)).toBe(m));
});

describe('findOverlap', () => {
  it('accepts several intervals a day that touch but do not overlap', () => {
    expect(
      findOverlap([
        { weekday: 1, start: '08:00', end: '12:00' },
        { weekday: 1, start: '12:00', end: '18:00' },
        { weekday: 2, start: '08:00', end: '18:00' },
      ]),
    ).toBeUndefined();
  });
  it('names the overlapping pair and the weekday, whatever the input order', () => {
    expect(
      findOverlap([
        { weekday: 3, start: '13:00', end: '17:00' },
        { weekday: 1, start: '08:00', end: '12:00' },
        { weekday: 3, start: '09:00', end: '13:30' },
      ]),
    ).toBe('intervals overlap on Wednesday: 09:00–13:30 and 13:00–17:00');
  });
  it('catches an interval contained in another', () => {
    expect(
      findOverlap([
        { weekday: 7, start: '08:00', end: '18:00' },
        { weekday: 7, start: '10:00', end: '11:00' },
      ]),
    ).toMatch(/Sunday/);
  });
  it('leaves malformed entries to the per-field rules', () => {
    expect(findOverlap([null as never, { weekday: 'x' } as never])).toBeUndefined();
  });
});

describe('canonicalTimeZone', () => {
  it.each([
    ['america/new_york', 'America/New_York'],
    ['EUROPE/BERLIN', 'Europe/Berlin'],
    ['Asia/Kolkata', 'Asia/Kolkata'],
    ['America/Argentina/Buenos_Aires', 'America/Argentina/Buenos_Aires'],
    ['Mars/Base', 'Mars/Base'],
    [42, 42],
  ])('%p → %p (case fixed, aliases kept)', (given, expected) => expect(canonicalTimeZone(given)).toBe(expected));
});
