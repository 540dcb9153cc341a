import { DateTime } from 'luxon';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, call } from '../api.js';
import { diffRows, type SessionChange } from '../lib/diff.js';
import { fieldErrors } from '../lib/problems.js';
import { localInstant } from '../lib/timeline.js';
import { can, useApp } from '../state.js';
import type { Patient, Plan } from '../types.js';
import { ErrorBox, Field, Spinner, STATUS_LABEL } from '../ui/kit.js';

type Kind = 'reschedule' | 'change_chair' | 'change_staff' | 'skip' | 'change_dose' | 'cancel_remaining';
const KINDS: { kind: Kind; label: string; clinical: boolean }[] = [
  { kind: 'reschedule', label: 'Reschedule (later sessions follow as their gaps need)', clinical: false },
  { kind: 'change_chair', label: 'Change chair', clinical: false },
  { kind: 'change_staff', label: 'Change staff', clinical: false },
  { kind: 'skip', label: 'Skip a session', clinical: true },
  { kind: 'change_dose', label: 'Change dose', clinical: true },
  { kind: 'cancel_remaining', label: 'End the plan early', clinical: true },
];

interface Result {
  preview: boolean;
  planVersion: number;
  planStatus: string;
  changes: SessionChange[];
}

export function AdjustPlan({ planId, sessionId }: { planId: string; sessionId?: string }) {
  const { me, go } = useApp();
  const zone = me.clinic.timezone;
  const [plan, setPlan] = useState<{ p: Plan; etag: string | null } | null>(null);
  const [patient, setPatient] = useState<Patient | null>(null);
  const [kind, setKind] = useState<Kind>('reschedule');
  const [sid, setSid] = useState(sessionId ?? '');
  const [date, setDate] = useState('');
  const [time, setTime] = useState('');
  const [chairId, setChairId] = useState('');
  const [staffId, setStaffId] = useState('');
  const [amount, setAmount] = useState('');
  const [reason, setReason] = useState('');
  const [shift, setShift] = useState(false);
  const [result, setResult] = useState<Result | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [committed, setCommitted] = useState<Result | null>(null);

  const load = async () => {
    const r = await call<Plan>('GET', `/plans/${planId}`);
    setPlan({ p: r.data, etag: r.etag });
    return r.data;
  };
  useEffect(() => {
    load()
      .then((p) => call<Patient>('GET', `/patients/${p.patientId}`))
      .then((r) => setPatient(r.data))
      .catch(setError);
  }, [planId]);
  const session = plan?.p.sessions.find((s) => s.id === sid);
  useEffect(() => {
    if (!session) return;
    const t = DateTime.fromISO(session.start).setZone(zone);
    setDate(t.toISODate()!);
    setTime(t.toFormat('HH:mm'));
    setChairId(session.chair?.id ?? '');
    setStaffId(session.staff?.id ?? '');
    setAmount(session.dose ? String(session.dose.amount) : '');
  }, [sid, plan?.p.version]);
  useEffect(() => setResult(null), [kind, sid, date, time, chairId, staffId, amount, reason, shift]);

  const body = (): Record<string, unknown> => {
    const b: Record<string, unknown> = { type: kind };
    if (kind !== 'cancel_remaining') b.sessionId = sid;
    if (kind === 'reschedule') {
      b.start = localInstant(date, time, zone).toISO({ suppressMilliseconds: true, includeOffset: true });
      if (chairId && chairId !== session?.chair?.id) b.chairId = chairId;
      if (staffId && staffId !== session?.staff?.id) b.staffId = staffId;
    }
    if (kind === 'change_chair') b.chairId = chairId;
    if (kind === 'change_staff') b.staffId = staffId;
    if (kind === 'change_dose') b.amount = Number(amount);
    if (kind === 'skip' && shift) b.shift = true;
    if (reason.trim()) b.reason = reason.trim();
    return b;
  };
  const send = async (preview: boolean) => {
    if (!plan) return;
    setBusy(true);
    setError(null);
    setCommitted(null);
    try {
      const r = await call<Result>('POST', `/plans/${planId}/adjustments`, {
        body: body(),
        ifMatch: plan.etag,
        query: preview ? { preview: true } : undefined,
      });
      if (preview) setResult(r.data);
      else {
        setCommitted(r.data);
        setResult(null);
        await load();
      }
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  if (!plan) return error ? <ErrorBox error={error} /> : <Spinner />;
  const names: Record<string, string> = Object.fromEntries([
    ...me.chairs.map((c) => [c.id, c.name]),
    ...me.staff.map((s) => [s.id, s.name]),
  ]);
  const stale = error instanceof ApiError && error.status === 412;
  const errs = error instanceof ApiError ? fieldErrors(error.problem) : {};
  const open = plan.p.sessions.filter((s) => s.status === 'scheduled' || s.status === 'checked_in');
  const kinds = KINDS.filter((k) => !k.clinical || can.clinicalAdjust(me.role));
  const rows = result ? diffRows(result.changes, zone, names) : [];
  return (
    <section aria-labelledby="adjust-title">
      <h1 id="adjust-title">Adjust {patient ? `${patient.fullName}'s` : 'the'} plan</h1>
      <p class="muted">
        Plan version {plan.p.version} · {plan.p.status} · times in {zone}
      </p>
      <div class="book-layout">
        <form
          class="card"
          onSubmit={(e) => {
            e.preventDefault();
            void send(true);
          }}
        >
          <Field label="Change">
            {(id) => (
              <select id={id} value={kind} onChange={(e) => setKind((e.target as HTMLSelectElement).value as Kind)}>
                {kinds.map((k) => (
                  <option key={k.kind} value={k.kind}>
                    {k.label}
                  </option>
                ))}
              </select>
            )}
          </Field>
          {kind !== 'cancel_remaining' ? (
            <Field label="Session" error={errs.sessionId}>
              {(id) => (
                <select id={id} value={sid} onChange={(e) => setSid((e.target as HTMLSelectElement).value)} required>
                  <option value="">Choose…</option>
                  {open.map((s) => (
                    <option key={s.id} value={s.id}>
                      {s.label} — {DateTime.fromISO(s.start).setZone(zone).toFormat('ccc d LLL, HH:mm')} (
                      {STATUS_LABEL[s.status]})
                    </option>
                  ))}
                </select>
              )}
            </Field>
          ) : null}
          {kind === 'reschedule' ? (
            <div class="row">
              <Field label="New date" error={errs.start}>
                {(id) => (
                  <input
                    id={id}
                    type="date"
                    value={date}
                    onInput={(e) => setDate((e.target as HTMLInputElement).value)}
                    required
                  />
                )}
              </Field>
              <Field label={`New time (${zone})`}>
                {(id) => (
                  <input
                    id={id}
                    type="time"
                    value={time}
                    onInput={(e) => setTime((e.target as HTMLInputElement).value)}
                    required
                  />
                )}
              </Field>
            </div>
          ) : null}
          {kind === 'reschedule' || kind === 'change_chair' ? (
            <Field label="Chair" error={errs.chairId}>
              {(id) => (
                <select id={id} value={chairId} onChange={(e) => setChairId((e.target as HTMLSelectElement).value)}>
                  <option value="">(no chair)</option>
                  {me.chairs.map((c) => (
                    <option key={c.id} value={c.id}>
                      {c.name}
                    </option>
                  ))}
                </select>
              )}
            </Field>
          ) : null}
          {kind === 'reschedule' || kind === 'change_staff' ? (
            <Field label="Staff" error={errs.staffId}>
              {(id) => (
                <select id={id} value={staffId} onChange={(e) => setStaffId((e.target as HTMLSelectElement).value)}>
                  {me.staff.map((s) => (
                    <option key={s.id} value={s.id}>
                      {s.name} ({s.role})
                    </option>
                  ))}
                </select>
              )}
            </Field>
          ) : null}
          {kind === 'change_dose' ? (
            <Field label={`New dose${session?.dose ? ` (${session.dose.unit})` : ''}`} error={errs.amount}>
              {(id) => (
                <input
                  id={id}
                  type="number"
                  step="0.001"
                  value={amount}
                  onInput={(e) => setAmount((e.target as HTMLInputElement).value)}
                  required
                />
              )}
            </Field>
          ) : null}
          {kind === 'skip' ? (
            <label class="check">
              <input
                type="checkbox"
                checked={shift}
                onChange={(e) => setShift((e.target as HTMLInputElement).checked)}
              />{' '}
              Move the later sessions up (shift)
            </label>
          ) : null}
          <Field
            label={kinds.find((k) => k.kind === kind)?.clinical ? 'Reason (required)' : 'Reason (optional)'}
            error={errs.reason}
          >
            {(id) => <input id={id} value={reason} onInput={(e) => setReason((e.target as HTMLInputElement).value)} />}
          </Field>
          <div class="actions">
            <button type="submit" class="primary" disabled={busy || (kind !== 'cancel_remaining' && !sid)}>
              Preview the change
            </button>
            <button type="button" onClick={() => go({ name: 'patient', patientId: plan.p.patientId })}>
              Back to the patient
            </button>
          </div>
        </form>
        <div class="card result" aria-live="polite">
          {stale ? (
            <div class="error" role="alert" data-testid="stale">
              <p>
                <strong>Someone changed this plan</strong> since you opened it (412). Reload it to see the current
                sessions, then preview again.
              </p>
              <button
                type="button"
                class="primary"
                onClick={() => {
                  setError(null);
                  setResult(null);
                  setCommitted(null);
                  void load().catch(setError);
                }}
              >
                Reload the plan
              </button>
            </div>
          ) : (
            <ErrorBox error={Object.keys(errs).length ? null : error} />
          )}
          {busy ? <Spinner label="Working…" /> : null}
          {result ? (
            <>
              <h2>
                Preview: {result.changes.length} session{result.changes.length === 1 ? '' : 's'} change
              </h2>
              <table class="list compact" data-testid="diff">
                <thead>
                  <tr>
                    <th scope="col">Session</th>
                    <th scope="col">What</th>
                    <th scope="col">Before</th>
                    <th scope="col">After</th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((r) =>
                    r.fields.map((f, i) => (
                      <tr key={`${r.ref}-${f.field}`} class={`diff-${r.kind}`}>
                        {i === 0 ? (
                          <th scope="row" rowSpan={r.fields.length}>
                            {r.ref} <span class="badge">{r.kind}</span>
                          </th>
                        ) : null}
                        <td>{f.field}</td>
                        <td>
                          <del>{f.before}</del>
                        </td>
                        <td>
                          <ins>{f.after}</ins>
                        </td>
                      </tr>
                    )),
                  )}
                </tbody>
              </table>
              <button type="button" class="primary big" disabled={busy} onClick={() => void send(false)}>
                Commit the change
              </button>
            </>
          ) : null}
          {committed ? (
            <p class="success" role="status" data-testid="committed">
              Done: {committed.changes.length} session{committed.changes.length === 1 ? '' : 's'} changed; the plan is
              now at version {committed.planVersion}.
            </p>
          ) : null}
        </div>
      </div>
    </section>
  );
}
