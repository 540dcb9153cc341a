import fc from 'fast-check';
import ICAL from 'ical.js';
import { DateTime } from 'luxon';
import { ifNoneMatchMatches } from './feed-http.js';
import {
  CANCELLED_GRACE_DAYS,
  FEED_BYTE_BUDGET,
  FEED_FUTURE_DAYS,
  FEED_PAST_DAYS,
  inFeed,
  MAX_FEED_EVENTS,
  renderFeed,
  type FeedContext,
  type FeedSession,
} from './feed-render.js';

ICAL.design.defaultSet.property['x-wr-calname'] = { defaultType: 'text' };

const NOW = DateTime.fromISO('2026-11-25T15:00:00Z', { zone: 'utc' });
const ctx = (over: Partial<FeedContext> = {}): FeedContext => ({
  calendarName: 'Harbor',
  clinicName: 'Harbor',
  timezone: 'America/New_York',
  now: NOW,
  ...over,
});

let seq = 0;
const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
function session(over: Partial<FeedSession> = {}): FeedSession {
  const n = ++seq;
  const startsAt = over.startsAt ?? NOW.plus({ hours: n }).toJSDate();
  return {
    id: uuid(n),
    label: 'Ketamine infusion 3/6',
    startsAt,
    endsAt: new Date(startsAt.getTime() + 40 * 60_000),
    occupiedUntil: new Date(startsAt.getTime() + 100 * 60_000),
    status: 'scheduled',
    version: 1,
    updatedAt: NOW.minus({ days: 2 }).toJSDate(),
    chairName: 'Chair 1',
    staffName: 'Nurse Ratched',
    ...over,
  } as FeedSession;
}

const lines = (body: string) => body.split('\r\n');
const vevents = (body: string) => new ICAL.Component(ICAL.parse(body)).getAllSubcomponents('vevent');

describe('which sessions a feed holds', () => {
  const at = (o: { days?: number; minutes?: number }) => NOW.plus(o).toJSDate();
  it.each([
    ['starting just inside the past edge', { startsAt: at({ days: -FEED_PAST_DAYS }) }, true],
    ['starting just before the past edge', { startsAt: at({ days: -FEED_PAST_DAYS, minutes: -1 }) }, false],
    ['starting just before the future edge', { startsAt: at({ days: FEED_FUTURE_DAYS, minutes: -1 }) }, true],
    ['starting at the future edge', { startsAt: at({ days: FEED_FUTURE_DAYS }) }, false],
    ['cancelled just now', { status: 'cancelled' as const, startsAt: at({ days: 3 }), updatedAt: at({}) }, true],
    [
      'cancelled 14 days ago to the minute',
      { status: 'cancelled' as const, startsAt: at({ days: 3 }), updatedAt: at({ days: -CANCELLED_GRACE_DAYS }) },
      true,
    ],
    [
      'cancelled more than 14 days ago',
      {
        status: 'cancelled' as const,
        startsAt: at({ days: 3 }),
        updatedAt: at({ days: -CANCELLED_GRACE_DAYS, minutes: -1 }),
      },
      false,
    ],
    [
      'a no-show long ago (still in the window)',
      { status: 'no_show' as const, startsAt: at({ days: -20 }), updatedAt: at({ days: -20 }) },
      true,
    ],
  ])('%s', (_what, over, expected) => {
    expect(inFeed(session(over), NOW)).toBe(expected);
  });
});

describe('renderFeed', () => {
  it('writes one VEVENT per session in start order, SEQUENCE = revision − 1, DTSTAMP = LAST-MODIFIED = the last change, identical on re-render', () => {
    const a = session({
      startsAt: NOW.plus({ days: 2 }).toJSDate(),
      version: 4,
      updatedAt: new Date('2026-11-20T08:09:10.987Z'),
    });
    const b = session({
      startsAt: NOW.plus({ days: 1 }).toJSDate(),
      status: 'cancelled',
      version: 2,
      updatedAt: NOW.minus({ hours: 1 }).toJSDate(),
    });
    const c = session({ startsAt: NOW.minus({ days: 1 }).toJSDate(), status: 'no_show', chairName: null });
    const out = renderFeed(ctx(), [a, b, c]);
    expect(renderFeed(ctx(), [c, a, b]).body).toBe(out.body);
    const evs = vevents(out.body);
    expect(evs.map((v) => v.getFirstPropertyValue('uid'))).toEqual([c, b, a].map((s) => `session-${s.id}@chairside`));
    expect(evs.map((v) => v.getFirstPropertyValue('sequence'))).toEqual([0, 1, 3]);
    expect(evs.map((v) => v.getFirstPropertyValue('status'))).toEqual(['CONFIRMED', 'CANCELLED', 'CONFIRMED']);
    expect(lines(out.body).filter((l) => l.startsWith('DTSTAMP:') || l.startsWith('LAST-MODIFIED:'))).toContain(
      'DTSTAMP:20261120T080910Z',
    );
    expect(lines(out.body)).toContain('LAST-MODIFIED:20261120T080910Z');
    expect(evs[0].getFirstPropertyValue('location')).toBe('Harbor');
    expect(evs[0].getFirstPropertyValue('description')).toBe(
      'Status: no-show (the patient did not attend)\nStaff: Nurse Ratched',
    );
    expect(evs[2].getFirstPropertyValue('location')).toBe('Harbor, Chair 1');
    expect(out.lastModified.toISOString()).toBe(NOW.minus({ hours: 1 }).toJSDate().toISOString());
    expect(out).toMatchObject({ included: 3, omitted: 0 });
  });

  it('puts every calendar property before the first component and ends the body with CRLF after END:VCALENDAR (RFC 5545 §3.1, §3.4)', () => {
    for (const sessions of [[session(), session()], []]) {
      const body = renderFeed(ctx(), sessions).body;
      expect(body.endsWith('END:VCALENDAR\r\n')).toBe(true);
      expect(body.endsWith('\r\n\r\n')).toBe(false);
      const all = lines(body).slice(0, -1); // the empty string after the final CRLF
      const firstComponent = all.findIndex((l, i) => i > 0 && (l.startsWith('BEGIN:') || l === 'END:VCALENDAR'));
      const calendarProps = all.slice(1, firstComponent).map((l) => l.split(/[:;]/)[0]);
      expect(calendarProps).toEqual(
        expect.arrayContaining([
          'VERSION',
          'PRODID',
          'NAME',
          'X-WR-CALNAME',
          'X-WR-TIMEZONE',
          'REFRESH-INTERVAL',
          'X-PUBLISHED-TTL',
        ]),
      );
      // From the first component on, no line stands outside a component but END:VCALENDAR.
      let depth = 0;
      const outside: string[] = [];
      for (const l of all.slice(firstComponent)) {
        if (l.startsWith('BEGIN:')) depth++;
        else if (l.startsWith('END:') && l !== 'END:VCALENDAR') depth--;
        else if (depth === 0 && l !== 'END:VCALENDAR') outside.push(l);
      }
      expect(outside).toEqual([]);
      expect(all.filter((l) => l.startsWith('X-WR-TIMEZONE'))).toEqual(['X-WR-TIMEZONE:America/New_York']);
      expect(new ICAL.Component(ICAL.parse(body)).getFirstPropertyValue('x-wr-timezone')).toBe('America/New_York');
    }
  });

  it('starts a cancelled session\'s SUMMARY with "Cancelled: " (patient feeds too); other statuses keep the label', () => {
    const cancelled = session({ status: 'cancelled', updatedAt: NOW.minus({ hours: 1 }).toJSDate() });
    const noShow = session({ status: 'no_show' });
    const [c, n] = vevents(renderFeed(ctx(), [cancelled, noShow]).body);
    expect(c.getFirstPropertyValue('summary')).toBe('Cancelled: Ketamine infusion 3/6');
    expect(c.getFirstPropertyValue('status')).toBe('CANCELLED');
    expect(n.getFirstPropertyValue('summary')).toBe('Ketamine infusion 3/6');
    const [p] = vevents(renderFeed(ctx({ patientName: 'Pat Example' }), [cancelled]).body);
    expect(p.getFirstPropertyValue('summary')).toBe('Cancelled: Ketamine infusion 3/6 – Pat Example');
  });

  it("covers the chair's whole occupancy in a chair feed (recovery included, said in the description); other feeds end with the treatment", () => {
    // 08:00 New York: 40 minutes of infusion, then 60 of recovery in the chair.
    const startsAt = DateTime.fromISO('2026-11-30T08:00', { zone: 'America/New_York' });
    const s = session({
      startsAt: startsAt.toJSDate(),
      endsAt: startsAt.plus({ minutes: 40 }).toJSDate(),
      occupiedUntil: startsAt.plus({ minutes: 100 }).toJSDate(),
    });
    const noRecovery = session({
      startsAt: startsAt.plus({ days: 1 }).toJSDate(),
      endsAt: startsAt.plus({ days: 1, minutes: 30 }).toJSDate(),
      occupiedUntil: startsAt.plus({ days: 1, minutes: 30 }).toJSDate(),
    });
    const [chair, chairPlain] = vevents(renderFeed(ctx({ occupancy: true }), [s, noRecovery]).body);
    const ev = new ICAL.Event(chair);
    expect(ev.startDate.toJSDate().getTime()).toBe(startsAt.toMillis());
    expect(ev.endDate.toJSDate().getTime()).toBe(startsAt.plus({ minutes: 100 }).toMillis());
    expect(chair.getFirstPropertyValue('description')).toBe(
      'Status: scheduled\nTreatment until 08:40, recovery until 09:40\nStaff: Nurse Ratched',
    );
    expect(new ICAL.Event(chairPlain).endDate.toJSDate().getTime()).toBe(noRecovery.endsAt.getTime());
    expect(chairPlain.getFirstPropertyValue('description')).not.toMatch(/recovery/);

    const [other] = vevents(renderFeed(ctx(), [s]).body);
    expect(new ICAL.Event(other).endDate.toJSDate().getTime()).toBe(startsAt.plus({ minutes: 40 }).toMillis());
    expect(other.getFirstPropertyValue('description')).not.toMatch(/recovery/i);
  });

  it("names a patient only when given one (the patient's own feed)", () => {
    const s = session();
    expect(vevents(renderFeed(ctx(), [s]).body)[0].getFirstPropertyValue('summary')).toBe('Ketamine infusion 3/6');
    expect(vevents(renderFeed(ctx({ patientName: 'Pat Example' }), [s]).body)[0].getFirstPropertyValue('summary')).toBe(
      'Ketamine infusion 3/6 – Pat Example',
    );
  });

  it('takes Last-Modified from the joined records too, in whole seconds', () => {
    const out = renderFeed(ctx({ contextUpdatedAt: [new Date('2026-11-25T14:59:59.900Z')] }), [session()]);
    expect(out.lastModified.toISOString()).toBe('2026-11-25T14:59:59.000Z');
  });

  it('renders a 2,000-session feed whole in under 1 MB', () => {
    const sessions = Array.from({ length: 2000 }, (_, i) =>
      session({
        startsAt: NOW.minus({ days: 29 })
          .plus({ hours: 4 * i })
          .toJSDate(),
        label: `Ketamine infusion ${(i % 6) + 1}/6`,
        chairName: `Infusion chair ${(i % 12) + 1} (east wing)`,
        staffName: `Nurse Practitioner Number ${(i % 9) + 1}`,
        version: (i % 5) + 1,
      }),
    );
    const out = renderFeed(
      ctx({ calendarName: 'Harbor Integrative Psychiatry – all chairs', clinicName: 'Harbor Integrative Psychiatry' }),
      sessions,
    );
    expect(out).toMatchObject({ included: 2000, omitted: 0 });
    expect(Buffer.byteLength(out.body, 'utf8')).toBeLessThan(1_000_000);
    expect(vevents(out.body)).toHaveLength(2000);
  });

  it('stays within its byte budget when over it, keeping upcoming sessions (soonest first) before past ones', () => {
    const long = 'Ü'.repeat(90);
    const sessions = Array.from({ length: 6000 }, (_, i) =>
      session({
        startsAt: NOW.minus({ days: 29 })
          .plus({ minutes: 90 * i })
          .toJSDate(),
        label: `${long} ${i}`,
        chairName: long,
        staffName: long,
      }),
    );
    const out = renderFeed(ctx(), sessions);
    const size = Buffer.byteLength(out.body, 'utf8');
    expect(size).toBeLessThanOrEqual(FEED_BYTE_BUDGET);
    expect(out.omitted).toBeGreaterThan(0);
    expect(out.included + out.omitted).toBe(6000);
    expect(out.included).toBeLessThanOrEqual(MAX_FEED_EVENTS);
    const kept = new Set(vevents(out.body).map((v) => String(v.getFirstPropertyValue('uid'))));
    expect(kept.size).toBe(out.included);
    const upcoming = sessions
      .filter((s) => s.startsAt >= NOW.toJSDate())
      .sort((x, y) => x.startsAt.getTime() - y.startsAt.getTime());
    expect(upcoming.length).toBeGreaterThan(out.included); // so no past session may be in
    expect([...kept].sort()).toEqual(
      upcoming
        .slice(0, out.included)
        .map((s) => `session-${s.id}@chairside`)
        .sort(),
    );
  });

  it('caps the number of events', () => {
    const sessions = Array.from({ length: MAX_FEED_EVENTS + 10 }, (_, i) =>
      session({ startsAt: NOW.plus({ minutes: 60 * i }).toJSDate(), label: 'I', chairName: null, staffName: null }),
    );
    const out = renderFeed(ctx({ calendarName: 'H', clinicName: 'H' }), sessions);
    expect(out).toMatchObject({ included: MAX_FEED_EVENTS, omitted: 10 });
  });

  // Any text: lines of at most 75 octets (CRLF not counted), folds that never split a character,
  // and ical.js gives back exactly what went in (line breaks become \n; control characters are dropped).
  const tricky = fc.constantFrom(
    '😀',
    '👩🏽‍⚕️',
    '👨‍👩‍👧‍👦',
    'é',
    'e\u0301',
    '日本',
    ',',
    ';',
    ':',
    '\\',
    '"',
    '\n',
    '\r\n',
    ' ',
    'a',
    '\t',
    '\u0007',
  );
  // U+FFFD itself is left out of the input: its presence in the output is what a split character looks like.
  const text = fc
    .oneof(fc.string({ unit: 'grapheme', maxLength: 120 }), fc.string({ unit: tricky, maxLength: 120 }))
    .filter((x) => !x.includes('\uFFFD'));
  const expected = (s: string) =>
    // eslint-disable-next-line no-control-regex -- the same control characters the renderer strips
    s.replace(/\r\n|\r/g, '\n').replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g, '');
  it('folds by octets and escapes TEXT so that any text comes back exactly', () => {
    fc.assert(
      fc.property(text, text, text, text, text, (label, chair, staff, clinic, name) => {
        const calendarName = `C ${name}`;
        const out = renderFeed(ctx({ calendarName, clinicName: clinic }), [
          session({
            startsAt: NOW.plus({ days: 1 }).toJSDate(),
            label,
            chairName: `c${chair}`,
            staffName: `s${staff}`,
          }),
        ]);
        expect(out.body.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
        for (const l of lines(out.body)) expect(Buffer.byteLength(l, 'utf8')).toBeLessThanOrEqual(75);
        expect(out.body).not.toContain('\uFFFD');
        const cal = new ICAL.Component(ICAL.parse(out.body));
        const [v] = cal.getAllSubcomponents('vevent');
        expect(cal.getFirstPropertyValue('x-wr-calname')).toBe(expected(calendarName));
        expect(v.getFirstPropertyValue('summary')).toBe(expected(label));
        expect(v.getFirstPropertyValue('location')).toBe(expected(`${clinic}, c${chair}`));
        expect(v.getFirstPropertyValue('description')).toBe(
          expected(`Status: scheduled\ns${staff}`.replace('\ns', '\nStaff: s')),
        );
      }),
      { numRuns: 300 },
    );
  });
});

describe('If-None-Match', () => {
  const etag = '"abc_-123"';
  it.each([
    [undefined, false],
    ['', false],
    [etag, true],
    [`W/${etag}`, true],
    [`"x", ${etag}`, true],
    [`"x",W/${etag}`, true],
    ['*', true],
    ['"abc_-12"', false],
    ['"x", "y"', false],
    ['abc_-123', false],
  ])('%s → %s', (header, match) => {
    expect(ifNoneMatchMatches(header, etag)).toBe(match);
  });
});
