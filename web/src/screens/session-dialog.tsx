import { DateTime } from 'luxon';
import { useState } from 'preact/hooks';
import { call } from '../api.js';
import { formatDose } from '../lib/diff.js';
import { localInstant } from '../lib/timeline.js';
import { can, useApp } from '../state.js';
import { Dialog, ErrorBox, Field, STATUS_LABEL } from '../ui/kit.js';
import type { DaySession } from './day-board.js';

/** One session of the day board: its details, and the changes the front desk and clinicians make from there. */
export function SessionDialog({
  session,
  onClose,
  onChanged,
  onAdjust,
  onPatient,
}: {
  session: DaySession;
  onClose: () => void;
  onChanged: (s: DaySession) => void;
  onAdjust: () => void;
  onPatient: () => void;
}) {
  const { me } = useApp();
  const zone = me.clinic.timezone;
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [mode, setMode] = useState<'none' | 'complete' | 'cancel' | 'no-show'>('none');
  const [reason, setReason] = useState('');
  const day = DateTime.fromISO(session.start).setZone(zone);
  const [amount, setAmount] = useState(session.dose ? String(session.dose.amount) : '');
  const [startT, setStartT] = useState(day.toFormat('HH:mm'));
  const [endT, setEndT] = useState(DateTime.fromISO(session.end).setZone(zone).toFormat('HH:mm'));

  const act = async (path: string, body: unknown) => {
    setBusy(true);
    setError(null);
    try {
      const r = await call<DaySession>('POST', `/sessions/${session.id}/${path}`, { body });
      setMode('none');
      onChanged({ ...session, ...r.data, patient: session.patient });
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const iso = (t: string) => localInstant(day.toISODate()!, t, zone).toISO({ suppressMilliseconds: true })!;
  const s = session;
  return (
    <Dialog title={`${s.patient?.fullName ?? 'Patient'} · ${s.label}`} onClose={onClose}>
      <dl class="facts">
        <dt>When</dt>
        <dd>
          {day.toFormat('ccc d LLL, HH:mm')}–{DateTime.fromISO(s.end).setZone(zone).toFormat('HH:mm ZZZZ')}
          {s.occupiedUntil !== s.end
            ? `, recovery until ${DateTime.fromISO(s.occupiedUntil).setZone(zone).toFormat('HH:mm')}`
            : ''}
        </dd>
        <dt>Status</dt>
        <dd>
          <span class={`chip st-${s.status}`} data-testid="session-status">
            {STATUS_LABEL[s.status]}
          </span>
          {s.statusReason ? ` — ${s.statusReason}` : ''}
        </dd>
        <dt>Chair</dt>
        <dd>{s.chair?.name ?? '—'}</dd>
        <dt>Staff</dt>
        <dd>{s.staff?.name ?? '—'}</dd>
        <dt>Dose</dt>
        <dd>
          {formatDose(s.dose)}
          {s.doseGiven ? ` (given ${s.doseGiven.amount} ${s.doseGiven.unit})` : ''}
        </dd>
      </dl>
      <ErrorBox error={error} />
      <div class="actions">
        {s.status === 'scheduled' ? (
          <button type="button" class="primary" disabled={busy} onClick={() => void act('check-in', {})}>
            Check in
          </button>
        ) : null}
        {s.status === 'checked_in' && can.complete(me.role) ? (
          <button type="button" class="primary" disabled={busy} onClick={() => setMode('complete')}>
            Complete…
          </button>
        ) : null}
        {s.status === 'scheduled' ? (
          <button type="button" disabled={busy} onClick={() => setMode('no-show')}>
            No-show…
          </button>
        ) : null}
        {s.status === 'scheduled' || s.status === 'checked_in' ? (
          <button type="button" disabled={busy} onClick={() => setMode('cancel')}>
            Cancel session…
          </button>
        ) : null}
        <button type="button" onClick={onAdjust}>
          Adjust plan…
        </button>
        <button type="button" onClick={onPatient}>
          Patient page
        </button>
      </div>
      {mode === 'complete' ? (
        <form
          class="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            void act('complete', {
              ...(s.dose ? { doseGiven: { amount: Number(amount), unit: s.dose.unit } } : {}),
              actualStart: iso(startT),
              actualEnd: iso(endT),
            });
          }}
        >
          {s.dose ? (
            <Field label={`Dose given (${s.dose.unit})`}>
              {(id) => (
                <input
                  id={id}
                  type="number"
                  step="0.001"
                  min="0"
                  required
                  value={amount}
                  onInput={(e) => setAmount((e.target as HTMLInputElement).value)}
                />
              )}
            </Field>
          ) : null}
          <Field label={`Started (${day.toFormat('ZZZZ')})`}>
            {(id) => (
              <input
                id={id}
                type="time"
                required
                value={startT}
                onInput={(e) => setStartT((e.target as HTMLInputElement).value)}
              />
            )}
          </Field>
          <Field label={`Ended (${day.toFormat('ZZZZ')})`}>
            {(id) => (
              <input
                id={id}
                type="time"
                required
                value={endT}
                onInput={(e) => setEndT((e.target as HTMLInputElement).value)}
              />
            )}
          </Field>
          <button type="submit" class="primary" disabled={busy}>
            Mark completed
          </button>
        </form>
      ) : null}
      {mode === 'cancel' || mode === 'no-show' ? (
        <form
          class="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            void act(mode === 'cancel' ? 'cancel' : 'no-show', reason.trim() ? { reason: reason.trim() } : {});
          }}
        >
          <Field label={mode === 'cancel' ? 'Reason (required)' : 'Note (optional)'}>
            {(id) => (
              <input
                id={id}
                value={reason}
                required={mode === 'cancel'}
                onInput={(e) => setReason((e.target as HTMLInputElement).value)}
              />
            )}
          </Field>
          <button type="submit" class="primary" disabled={busy}>
            {mode === 'cancel' ? 'Cancel the session' : 'Record no-show'}
          </button>
        </form>
      ) : null}
    </Dialog>
  );
}
