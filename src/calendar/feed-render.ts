import ical, { escape, ICalEventStatus, type ICalEventData } from 'ical-generator';
import { DateTime } from 'luxon';

/**
 * The iCalendar feed as a pure function: sessions and their context in, the exact body out. No
 * framework, database or wall clock here ("now" comes in), so renders are reproducible and testable.
 *
 * Rules (RFC 5545 and what calendar clients do with subscribed feeds):
 * - one VEVENT per session, no RRULE/RDATE/EXDATE/RECURRENCE-ID; UID `session-<uuid>@chairside`;
 * - SEQUENCE = revision − 1 (revisions start at 1 and rise on every change of the session);
 * - DTSTAMP = LAST-MODIFIED = the session's last change, never "now": unchanged data renders to
 *   identical bytes, so the ETag (a hash of the body) only changes when something did;
 * - times in UTC (`Z`), so no VTIMEZONE is needed; X-WR-TIMEZONE tells clients the clinic's zone;
 * - LOCATION and the calendar name join the clinic's, chair's and staff member's current names: a
 *   rename changes the body (and the ETag); renaming a chair or staff member also raises the
 *   revision (so SEQUENCE) of their sessions to come (ClinicsService), so clients take the new name;
 * - no METHOD (a subscription, not an iTIP invitation);
 * - calendar properties (NAME, X-WR-*, REFRESH-INTERVAL…) before the first VEVENT, and the body
 *   ends with CRLF after END:VCALENDAR (RFC 5545 §3.1: every content line ends with CRLF);
 * - a chair feed's events cover the chair's whole occupancy (treatment and recovery), so a chair
 *   in recovery never looks free; other feeds show the treatment;
 * - a cancelled session's SUMMARY starts with "Cancelled: " (clients that ignore STATUS would
 *   otherwise show it as booked);
 * - cancelled sessions stay as STATUS:CANCELLED for {@link CANCELLED_GRACE_DAYS} days after the
 *   cancellation, then leave the feed (clients that show cancelled events do not pile them up);
 * - a window of {@link FEED_PAST_DAYS} days back to {@link FEED_FUTURE_DAYS} days ahead, at most
 *   {@link MAX_FEED_EVENTS} events and {@link FEED_BYTE_BUDGET} bytes (Google drops events of feeds
 *   over about 1 MB); when over budget the sessions nearest ahead are kept first, then the most recent.
 */

export const FEED_PAST_DAYS = 30;
export const FEED_FUTURE_DAYS = 365;
export const CANCELLED_GRACE_DAYS = 14;
export const MAX_FEED_EVENTS = 3000;
export const FEED_BYTE_BUDGET = 900_000;
/**
 * Suggested refresh (REFRESH-INTERVAL / X-PUBLISHED-TTL) for the clients that honour it. Refresh
 * timing is the client's: Google polls every 8–24 h, cannot be hurried and ignores both; Outlook.com
 * polls about every 3 h; Apple lets the user choose (5 minutes or more).
 */
export const FEED_TTL_SECONDS = 3600;
export const UID_DOMAIN = 'chairside';

export type FeedSessionStatus = 'scheduled' | 'checked_in' | 'completed' | 'no_show' | 'cancelled';

export interface FeedSession {
  id: string;
  /** The session's label as booked, e.g. "Ketamine infusion 3/6" (repeated steps carry their number). */
  label: string;
  startsAt: Date;
  endsAt: Date;
  /** The end of recovery: until then the chair (and staff seat) stays held. */
  occupiedUntil: Date;
  status: FeedSessionStatus;
  /** The session's revision: 1 when booked, raised by every change. */
  version: number;
  updatedAt: Date;
  chairName: string | null;
  staffName: string | null;
}

export interface FeedContext {
  /** X-WR-CALNAME / NAME. */
  calendarName: string;
  clinicName: string;
  /** The clinic's IANA zone (X-WR-TIMEZONE); the events themselves are in UTC. */
  timezone: string;
  now: DateTime;
  /** Only in a patient's own feed: appended to each title. */
  patientName?: string | null;
  /** Other changes the body depends on (clinic, chair, staff, patient records): for Last-Modified. */
  contextUpdatedAt?: Date[];
  /**
   * A chair's feed: each event lasts until the chair is free again (recovery included), and the
   * description says when the treatment ends and the recovery does. Elsewhere events end with the treatment.
   */
  occupancy?: boolean;
}

export interface RenderedFeed {
  body: string;
  /** Sessions in the body, and those dropped to stay within the size budget. */
  included: number;
  omitted: number;
  lastModified: Date;
}

/** The instants a feed covers, by session start: [from, to). */
export function feedWindow(now: DateTime): { from: Date; to: Date; cancelledSince: Date } {
  return {
    from: now.minus({ days: FEED_PAST_DAYS }).toJSDate(),
    to: now.plus({ days: FEED_FUTURE_DAYS }).toJSDate(),
    cancelledSince: now.minus({ days: CANCELLED_GRACE_DAYS }).toJSDate(),
  };
}

/** Whether a session belongs in a feed rendered at `now`. */
export function inFeed(s: Pick<FeedSession, 'startsAt' | 'status' | 'updatedAt'>, now: DateTime): boolean {
  return inWindow(s, feedWindow(now));
}

function inWindow(
  s: Pick<FeedSession, 'startsAt' | 'status' | 'updatedAt'>,
  w: ReturnType<typeof feedWindow>,
): boolean {
  if (s.startsAt < w.from || s.startsAt >= w.to) return false;
  return s.status !== 'cancelled' || s.updatedAt >= w.cancelledSince;
}

/**
 * The order in which sessions earn a place when the feed is over budget: upcoming ones first
 * (soonest first), then past ones (most recent first).
 */
export function byFeedPriority(now: DateTime): (a: FeedSession, b: FeedSession) => number {
  const t = now.toMillis();
  return (a, b) => {
    const af = a.startsAt.getTime() >= t;
    const bf = b.startsAt.getTime() >= t;
    if (af !== bf) return af ? -1 : 1;
    const d = af ? a.startsAt.getTime() - b.startsAt.getTime() : b.startsAt.getTime() - a.startsAt.getTime();
    return d || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  };
}

const byStart = (a: FeedSession, b: FeedSession) =>
  a.startsAt.getTime() - b.startsAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

const STATUS_TEXT: Record<FeedSessionStatus, string> = {
  scheduled: 'scheduled',
  checked_in: 'checked in',
  completed: 'completed',
  // A no-show keeps its place in the calendar (it happened, as booked); the description says so.
  no_show: 'no-show (the patient did not attend)',
  cancelled: 'cancelled',
};

export function sessionUid(id: string): string {
  return `session-${id}@${UID_DOMAIN}`;
}

/**
 * The event title: the session's label, never a patient's name except in that patient's own feed;
 * "Cancelled: " first when cancelled.
 */
export function sessionTitle(
  s: Pick<FeedSession, 'label'> & Partial<Pick<FeedSession, 'status'>>,
  patientName?: string | null,
): string {
  const title = patientName ? `${s.label} – ${patientName}` : s.label;
  return s.status === 'cancelled' ? `Cancelled: ${title}` : title;
}

/** TEXT may not hold control characters other than tab and line breaks (which are escaped). */
// eslint-disable-next-line no-control-regex -- RFC 5545 forbids control characters in TEXT: strip them
const text = (s: string) => s.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g, '');

function eventData(s: FeedSession, ctx: FeedContext): ICalEventData {
  const lines = [`Status: ${STATUS_TEXT[s.status]}`];
  const recovery = ctx.occupancy === true && s.occupiedUntil > s.endsAt;
  if (recovery) {
    const local = (d: Date) => DateTime.fromJSDate(d, { zone: ctx.timezone }).toFormat('HH:mm');
    lines.push(`Treatment until ${local(s.endsAt)}, recovery until ${local(s.occupiedUntil)}`);
  }
  if (s.staffName) lines.push(`Staff: ${text(s.staffName)}`);
  return {
    id: sessionUid(s.id),
    sequence: Math.max(0, s.version - 1),
    stamp: s.updatedAt,
    lastModified: s.updatedAt,
    start: s.startsAt,
    end: recovery ? s.occupiedUntil : s.endsAt,
    summary: text(sessionTitle(s, ctx.patientName)),
    location: text(s.chairName ? `${ctx.clinicName}, ${s.chairName}` : ctx.clinicName),
    description: lines.join('\n'),
    status: s.status === 'cancelled' ? ICalEventStatus.CANCELLED : ICalEventStatus.CONFIRMED,
  };
}

function newCalendar(ctx: FeedContext) {
  const cal = ical({ prodId: { company: 'Chairside', product: 'Calendar feed', language: 'EN' } });
  // ical-generator writes NAME and X-WR-CALNAME verbatim: escape them as TEXT here.
  cal.name(escape(text(ctx.calendarName), false));
  cal.ttl(FEED_TTL_SECONDS);
  return cal;
}

/**
 * ical-generator's body made RFC 5545-shaped: X-WR-TIMEZONE among the calendar properties, before
 * the first VEVENT (ical-generator writes custom X- properties after the events, and `cal.timezone()`
 * would write local times with a TZID but no VTIMEZONE), and CRLF after END:VCALENDAR (it ends
 * the body without one). The zone is only a hint for clients; times stay in UTC. An IANA zone name
 * is short ASCII without TEXT specials, so the line needs neither folding nor escaping.
 */
function finish(body: string, ctx: FeedContext): string {
  const zone = `X-WR-TIMEZONE:${ctx.timezone.replace(/[^A-Za-z0-9_+\-/]/g, '')}\r\n`;
  // The first line that is a component's start: a line start is right after a CRLF, and content
  // lines cannot hold a bare CRLF (TEXT escapes line breaks, folds start with a space).
  const first = body.search(/\r\n(BEGIN:VEVENT|END:VCALENDAR)(\r\n|$)/);
  const at = first + 2;
  return `${body.slice(0, at)}${zone}${body.slice(at)}${body.endsWith('\r\n') ? '' : '\r\n'}`;
}

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

/**
 * An upper bound of the folded size of unfolded lines of `n` octets: a fold comes after at least 71
 * octets (74 less a character of up to 4 octets) and adds 3 (CRLF and a space). Folding is the
 * costly part of rendering, so it is done once, for the final body.
 */
const foldedAtMost = (n: number) => n + 3 * Math.floor(n / 71);

/** Renders the feed: every session of `sessions` that belongs in it, within the size budget. */
export function renderFeed(ctx: FeedContext, sessions: FeedSession[]): RenderedFeed {
  const w = feedWindow(ctx.now);
  const candidates = sessions.filter((s) => inWindow(s, w)).sort(byFeedPriority(ctx.now));
  const scratch = newCalendar(ctx);
  let size = bytes(finish(scratch.toString(), ctx));
  const chosen: FeedSession[] = [];
  for (const s of candidates) {
    if (chosen.length >= MAX_FEED_EVENTS) break;
    const n = foldedAtMost(bytes(scratch.createEvent(eventData(s, ctx)).toString()));
    if (size + n > FEED_BYTE_BUDGET) break;
    size += n;
    chosen.push(s);
  }
  chosen.sort(byStart);
  const cal = newCalendar(ctx);
  for (const s of chosen) cal.createEvent(eventData(s, ctx));
  const body = finish(cal.toString(), ctx);
  const stamps = [...chosen.map((s) => s.updatedAt.getTime()), ...(ctx.contextUpdatedAt ?? []).map((d) => d.getTime())];
  // HTTP dates have whole seconds.
  const last = stamps.length > 0 ? Math.max(...stamps) : 0;
  return {
    body,
    included: chosen.length,
    omitted: candidates.length - chosen.length,
    lastModified: new Date(Math.floor(last / 1000) * 1000),
  };
}
