import { DateTime } from 'luxon';
import { checkInWindow } from './session-timing.js';

describe('checkInWindow', () => {
  const at = (iso: string) => DateTime.fromISO(iso, { setZone: true }).toJSDate();
  it.each([
    // session start, zone, days before, opens, closes (local)
    ['2026-11-27T13:00:00Z', 'America/New_York', 0, '2026-11-27T00:00:00.000-05:00', '2026-11-28T00:00:00.000-05:00'],
    ['2026-11-27T13:00:00Z', 'America/New_York', 2, '2026-11-25T00:00:00.000-05:00', '2026-11-28T00:00:00.000-05:00'],
    // 04:30 UTC is still the evening before in New York
    ['2026-11-27T04:30:00Z', 'America/New_York', 0, '2026-11-26T00:00:00.000-05:00', '2026-11-27T00:00:00.000-05:00'],
    // The day daylight-saving time ends is 25 hours long; the window is that local day.
    ['2026-11-01T14:00:00Z', 'America/New_York', 0, '2026-11-01T00:00:00.000-04:00', '2026-11-02T00:00:00.000-05:00'],
    // Opening the day before the spring change (23-hour day in between).
    ['2027-03-15T13:00:00Z', 'America/New_York', 1, '2027-03-14T00:00:00.000-05:00', '2027-03-16T00:00:00.000-04:00'],
  ])('a session at %s in %s, opening %i days before: %s to %s', (start, zone, before, opens, closes) => {
    const w = checkInWindow(at(start), zone, before);
    expect([w.opensAt.toISO(), w.closesAt.toISO()]).toEqual([opens, closes]);
  });
});
