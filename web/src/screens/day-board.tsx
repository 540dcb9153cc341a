import { DateTime } from 'luxon';
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { get } from '../api.js';
import { formatDose } from '../lib/diff.js';
import { dayAxis, layoutRows, localInstant, minutesOn, type Row } from '../lib/timeline.js';
import { useApp } from '../state.js';
import type { Page, SessionView } from '../types.js';
import { ErrorBox, STATUS_LABEL } from '../ui/kit.js';
import { SessionDialog } from './session-dialog.js';

export type DaySession = SessionView & { patient?: { id: string; fullName: string } };

/** Every session of one local day (the day sheet, all pages). */
async function loadDay(date: string, signal?: AbortSignal): Promise<DaySession[]> {
  const out: DaySession[] = [];
  let cursor: string | null | undefined;
  do {
    const page = await get<Page<DaySession>>('/sessions', { from: date, to: date, limit: 200, cursor }, signal);
    out.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor && out.length < 5000);
  return out;
}

/** How often the board asks the sync API what changed (ms); the e2e run lowers it. */
const POLL_MS = Number((globalThis as { CHAIRSIDE_POLL_MS?: number }).CHAIRSIDE_POLL_MS ?? 5000);

/**
 * Keeps the board current: a full sync once for a token, then an incremental sync every few
 * seconds; any change of the clinic's sessions calls `onChange` (the board reloads its day).
 */
function useSessionChanges(onChange: () => void): void {
  const cb = useRef(onChange);
  cb.current = onChange;
  useEffect(() => {
    let token: string | null = null;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const syncAll = async (syncToken: string | null): Promise<{ token: string; changed: boolean }> => {
      let pageToken: string | undefined;
      let changed = false;
      for (let i = 0; i < 200; i++) {
        const r = await get<{ items: unknown[]; nextPageToken?: string; nextSyncToken?: string }>('/sync/sessions', {
          limit: 500,
          ...(pageToken ? { pageToken } : syncToken ? { syncToken } : {}),
        });
        if (r.items.length) changed = true;
        if (r.nextSyncToken) return { token: r.nextSyncToken, changed };
        if (!r.nextPageToken) break;
        pageToken = r.nextPageToken;
      }
      throw new Error('sync did not finish');
    };
    const tick = async () => {
      try {
        const r = await syncAll(token);
        if (token && r.changed && !stopped) cb.current();
        token = r.token;
      } catch {
        token = null; // an expired or rejected token: start over with a full sync
      }
      if (!stopped) timer = setTimeout(tick, POLL_MS);
    };
    void tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, []);
}

const PX_PER_LANE = 52;

/** HH:mm in the clinic's zone: one Intl formatter per zone (luxon per block is slow on a 300-session day). */
const formatters = new Map<string, Intl.DateTimeFormat>();
function hhmm(iso: string, zone: string): string {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', { timeZone: zone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formatters.set(zone, f);
  }
  return f.format(Date.parse(iso));
}

export function DayBoard({ initialDate }: { initialDate?: string }) {
  const { me, go } = useApp();
  const zone = me.clinic.timezone;
  const [date, setDate] = useState(initialDate ?? DateTime.now().setZone(zone).toISODate()!);
  const [sessions, setSessions] = useState<DaySession[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [view, setView] = useState<'chair' | 'staff'>('chair');
  const [open, setOpen] = useState<DaySession | null>(null);
  const [reloads, setReloads] = useState(0);
  const rendered = useRef<number | null>(null);

  useEffect(() => {
    const ctl = new AbortController();
    setError(null);
    loadDay(date, ctl.signal)
      .then((s) => {
        rendered.current = performance.now();
        setSessions(s);
      })
      .catch((e) => {
        if ((e as Error).name !== 'AbortError') setError(e);
      });
    return () => ctl.abort();
  }, [date, reloads]);
  useSessionChanges(() => setReloads((n) => n + 1));

  // Render time after the data arrived (read by the e2e performance check).
  useLayoutEffect(() => {
    if (rendered.current !== null && sessions) {
      const ms = performance.now() - rendered.current;
      rendered.current = null;
      document.body.dataset.dayboardRenderMs = ms.toFixed(1);
    }
  }, [sessions]);

  const weekday = DateTime.fromISO(date, { zone }).weekday;
  const hours = me.clinic.openingHours.filter((h) => h.weekday === weekday);
  const closures = me.closures.filter((c) => c.startDate <= date && c.endDate >= date);
  const fullClosure = closures.find((c) => !c.startTime);
  const axis = useMemo(() => dayAxis(date, zone, hours, sessions ?? []), [date, zone, sessions, me.clinic]);

  const rows: Row<DaySession>[] = useMemo(() => {
    const list = sessions ?? [];
    if (view === 'staff') {
      return layoutRows(
        axis,
        me.staff.map((s) => ({ id: s.id, label: s.name })),
        list,
        (s) => (s.staff ? { id: s.staff.id, label: s.staff.name } : { id: 'none', label: 'No staff' }),
      );
    }
    return layoutRows(
      axis,
      me.chairs.map((c) => ({ id: c.id, label: c.name })),
      list,
      (s) =>
        s.chair
          ? { id: s.chair.id, label: s.chair.name }
          : s.staff
            ? { id: `staff:${s.staff.id}`, label: `${s.staff.name} (no chair)` }
            : { id: 'none', label: 'No chair' },
    );
  }, [axis, sessions, view, me.chairs, me.staff]);

  const shift = (days: number) => setDate(DateTime.fromISO(date).plus({ days }).toISODate()!);
  const pct = (m: number) => `${(m / axis.span) * 100}%`;
  const counts = (sessions ?? []).reduce<Record<string, number>>(
    (acc, s) => ((acc[s.status] = (acc[s.status] ?? 0) + 1), acc),
    {},
  );
  const partial = closures.filter((c) => c.startTime && c.endTime);

  return (
    <section aria-labelledby="board-title">
      <div class="toolbar">
        <h1 id="board-title">
          {DateTime.fromISO(date, { zone }).toFormat('cccc d LLLL yyyy')}{' '}
          <span class="muted small">times in {zone}</span>
        </h1>
        <div class="controls">
          <button type="button" onClick={() => shift(-1)} aria-label="Previous day">
            ◀ Prev
          </button>
          <label>
            <span class="sr-only">Date</span>
            <input
              type="date"
              value={date}
              data-testid="board-date"
              onChange={(e) => (e.target as HTMLInputElement).value && setDate((e.target as HTMLInputElement).value)}
            />
          </label>
          <button type="button" onClick={() => shift(1)} aria-label="Next day">
            Next ▶
          </button>
          <button type="button" onClick={() => setDate(DateTime.now().setZone(zone).toISODate()!)}>
            Today
          </button>
          <fieldset class="toggle">
            <legend class="sr-only">View by</legend>
            <label>
              <input type="radio" name="view" checked={view === 'chair'} onChange={() => setView('chair')} /> Chairs
            </label>
            <label>
              <input type="radio" name="view" checked={view === 'staff'} onChange={() => setView('staff')} /> Staff
            </label>
          </fieldset>
        </div>
      </div>
      <p class="legend" aria-label="Legend">
        {(['scheduled', 'checked_in', 'completed', 'no_show', 'cancelled'] as const).map((s) => (
          <span key={s} class={`chip st-${s}`}>
            {STATUS_LABEL[s]} {counts[s] ?? 0}
          </span>
        ))}
        <span class="chip recovery-chip">Recovery</span>
        <span class="muted small">
          Open {hours.length ? hours.map((h) => `${h.start}–${h.end}`).join(', ') : 'closed'}
          {axis.dstChange ? ` · clocks change today (${axis.dayMinutes / 60} h day)` : ''}
        </span>
      </p>
      {fullClosure ? (
        <p class="closure-banner" role="note">
          Closed all day: {fullClosure.reason ?? 'closure'}
        </p>
      ) : null}
      {!hours.length && !fullClosure ? (
        <p class="closure-banner">The clinic has no opening hours on {DateTime.fromISO(date).toFormat('cccc')}s.</p>
      ) : null}
      <ErrorBox error={error} />
      {!sessions && !error ? <p class="muted">Loading the day…</p> : null}
      <div class="board" data-testid="day-board" role="table" aria-label={`Sessions by ${view}`}>
        <div class="board-head" role="row">
          <div class="row-label" role="columnheader">
            {view === 'chair' ? 'Chair' : 'Staff'}
          </div>
          <div class="track ticks" role="columnheader" aria-label="Hours">
            {axis.ticks.map((t) => (
              <span key={t.at} class="tick" style={{ left: pct(t.at) }}>
                {t.label}
              </span>
            ))}
          </div>
        </div>
        <div class="board-body">
          <div class="underlay" aria-hidden="true">
            {axis.ticks.map((t) => (
              <span key={t.at} class="gridline" style={{ left: pct(t.at) }} />
            ))}
            {closedBands(axis, hours.length ? axis.open : []).map((b, i) => (
              <span key={`c${i}`} class="shut" style={{ left: pct(b.from), width: pct(b.to - b.from) }} />
            ))}
            {partial.map((c) => {
              const a = minutesOn(axis, localInstant(date, c.startTime!, zone).toISO()!);
              const b = minutesOn(axis, localInstant(date, c.endTime!, zone).toISO()!);
              return (
                <span
                  key={c.id}
                  class="shut closure"
                  title={c.reason ?? 'Closed'}
                  style={{ left: pct(Math.max(0, a)), width: pct(Math.min(axis.span, b) - Math.max(0, a)) }}
                />
              );
            })}
          </div>
          {rows.map((row) => (
            <div class="board-row" role="row" key={row.id}>
              <div class="row-label" role="rowheader">
                {row.label}
              </div>
              <div class="track" role="cell" style={{ height: `${row.lanes * PX_PER_LANE + 4}px` }}>
                {row.blocks.map((b) => {
                  const s = b.session;
                  const time = `${hhmm(s.start, zone)}–${hhmm(s.end, zone)}`;
                  const who = s.patient?.fullName ?? 'Patient';
                  return (
                    <button
                      type="button"
                      key={s.id}
                      class={`block st-${s.status}`}
                      data-session={s.id}
                      style={{
                        left: pct(b.from),
                        width: pct(b.until - b.from),
                        top: `${b.lane * PX_PER_LANE + 2}px`,
                        height: `${PX_PER_LANE - 4}px`,
                      }}
                      aria-label={`${who}, ${s.label}, ${time}, ${STATUS_LABEL[s.status]}${s.dose ? `, dose ${formatDose(s.dose)}` : ''}${view === 'chair' && s.staff ? `, with ${s.staff.name}` : ''}${view === 'staff' && s.chair ? `, ${s.chair.name}` : ''}`}
                      onClick={() => setOpen(s)}
                    >
                      <span
                        class="treat"
                        style={{ width: `${((b.end - b.from) / Math.max(1, b.until - b.from)) * 100}%` }}
                      />
                      <span class="text">
                        <strong>{who}</strong> {s.label}
                        <br />
                        <span class="small">
                          {time}
                          {s.dose ? ` · ${formatDose(s.dose)}` : ''}
                          {view === 'chair' && s.staff ? ` · ${s.staff.name}` : ''}
                          {view === 'staff' && s.chair ? ` · ${s.chair.name}` : ''}
                        </span>
                      </span>
                    </button>
                  );
                })}
              </div>
            </div>
          ))}
        </div>
      </div>
      {sessions && !sessions.length ? <p class="muted">No sessions on this day.</p> : null}
      {open ? (
        <SessionDialog
          session={open}
          onClose={() => setOpen(null)}
          onChanged={(s) => {
            setOpen(s);
            setReloads((n) => n + 1);
          }}
          onAdjust={() => go({ name: 'adjust', planId: open.planId, sessionId: open.id })}
          onPatient={() => go({ name: 'patient', patientId: open.patientId })}
        />
      ) : null}
    </section>
  );
}

function closedBands(
  axis: ReturnType<typeof dayAxis>,
  open: { from: number; to: number }[],
): { from: number; to: number }[] {
  if (!open.length) return [{ from: 0, to: axis.span }];
  const sorted = [...open].sort((a, b) => a.from - b.from);
  const out: { from: number; to: number }[] = [];
  let at = 0;
  for (const o of sorted) {
    if (o.from > at) out.push({ from: at, to: o.from });
    at = Math.max(at, o.to);
  }
  if (at < axis.span) out.push({ from: at, to: axis.span });
  return out;
}
