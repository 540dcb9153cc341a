import { DateTime } from 'luxon';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError, call, get, newIdempotencyKey } from '../api.js';
import { fieldErrors, weightRefusal } from '../lib/problems.js';
import { can, useApp } from '../state.js';
import type { Page, Patient, Plan, Protocol } from '../types.js';
import { ErrorBox, Field, Spinner } from '../ui/kit.js';
import { PreviewStrip, TailoringTable, tailoredSteps, type Tail } from './book-parts.js';
import { usePatientSearch, WEEKDAYS } from './patients.js';

export function BookSeries({ initialPatientId }: { initialPatientId?: string }) {
  const { me, go } = useApp();
  const zone = me.clinic.timezone;
  const [patient, setPatient] = useState<Patient | null>(null);
  const [q, setQ] = useState('');
  const search = usePatientSearch(q);
  const [protocols, setProtocols] = useState<Protocol[] | null>(null);
  const [protocolId, setProtocolId] = useState('');
  const [version, setVersion] = useState('');
  const [earliest, setEarliest] = useState(DateTime.now().setZone(zone).plus({ days: 1 }).toISODate()!);
  const [within, setWithin] = useState('14');
  const [days, setDays] = useState<number[]>([]);
  const [from, setFrom] = useState('09:00');
  const [to, setTo] = useState('17:00');
  const [weight, setWeight] = useState('');
  const [tail, setTail] = useState<Record<string, Tail>>({});
  const [preview, setPreview] = useState<Plan | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [booked, setBooked] = useState<Plan | null>(null);
  const [idemKey, setIdemKey] = useState(newIdempotencyKey());

  useEffect(() => {
    if (initialPatientId) get<Patient>(`/patients/${initialPatientId}`).then(setPatient, setError);
    get<Page<Protocol>>('/protocols', { limit: 100 }).then((r) => {
      const published = r.items.filter((p) => p.versions?.some((v) => !v.retiredAt));
      setProtocols(published);
      if (published.length === 1) setProtocolId(published[0].id);
    }, setError);
  }, [initialPatientId]);

  const protocol = protocols?.find((p) => p.id === protocolId);
  const steps = protocol?.draft.steps ?? [];

  const request = useMemo(() => {
    const body: Record<string, unknown> = {
      patientId: patient?.id,
      protocolId,
      earliestStart: earliest,
      startWithinDays: Number(within),
    };
    if (version) body.protocolVersion = Number(version);
    if (days.length) body.preferredTimes = days.map((d) => ({ weekday: d, start: from, end: to }));
    if (can.tailor(me.role)) {
      const stepsT = tailoredSteps(tail);
      if (stepsT.length || weight)
        body.tailoring = {
          ...(weight ? { weightKg: Number(weight) } : {}),
          ...(stepsT.length ? { steps: stepsT } : {}),
        };
    }
    return body;
  }, [patient, protocolId, version, earliest, within, days, from, to, tail, weight, me.role]);

  // Any change of the request makes a new booking intent (and a new Idempotency-Key).
  useEffect(() => {
    setPreview(null);
    setIdemKey(newIdempotencyKey());
  }, [request]);

  const doPreview = async (override?: Record<string, unknown>) => {
    setBusy(true);
    setError(null);
    setBooked(null);
    try {
      const r = await call<Plan>('POST', '/plans/preview', { body: { ...request, ...override } });
      setPreview(r.data);
    } catch (e) {
      setPreview(null);
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const book = async () => {
    setBusy(true);
    setError(null);
    try {
      const r = await call<Plan>('POST', '/plans', { body: request, idempotencyKey: idemKey });
      setBooked(r.data);
      setPreview(null);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  const problem = error instanceof ApiError ? error.problem : undefined;
  const binding = problem?.binding as { message?: string; code?: string } | undefined;
  const earliestWorkable = typeof problem?.earliestStart === 'string' ? problem.earliestStart : null;
  const errs = error instanceof ApiError ? fieldErrors(error.problem) : {};
  const weightNote = weightRefusal(problem, !can.tailor(me.role), patient ?? undefined);

  return (
    <section aria-labelledby="book-title">
      <h1 id="book-title">Book a series</h1>
      <div class="book-layout">
        <form
          class="card"
          onSubmit={(e) => {
            e.preventDefault();
            void doPreview();
          }}
        >
          <h2>1. Patient</h2>
          {patient ? (
            <p>
              <strong data-testid="book-patient">{patient.fullName}</strong>{' '}
              <span class="muted">born {patient.dateOfBirth}</span>{' '}
              <button type="button" class="ghost" onClick={() => setPatient(null)}>
                Change
              </button>
            </p>
          ) : (
            <>
              <Field label="Find the patient">
                {(id) => (
                  <input
                    id={id}
                    type="search"
                    value={q}
                    autoComplete="off"
                    onInput={(e) => setQ((e.target as HTMLInputElement).value)}
                    placeholder="Type a name…"
                  />
                )}
              </Field>
              <ul class="plain picks">
                {search.items?.slice(0, 8).map((p) => (
                  <li key={p.id}>
                    <button type="button" onClick={() => setPatient(p)}>
                      {p.fullName} <span class="muted">{p.dateOfBirth}</span>
                    </button>
                  </li>
                ))}
              </ul>
            </>
          )}
          <h2>2. Protocol</h2>
          {!protocols ? <Spinner /> : null}
          <div class="row">
            <Field label="Protocol" error={errs.protocolId}>
              {(id) => (
                <select
                  id={id}
                  value={protocolId}
                  onChange={(e) => (setProtocolId((e.target as HTMLSelectElement).value), setVersion(''))}
                  required
                >
                  <option value="">Choose…</option>
                  {protocols?.map((p) => (
                    <option key={p.id} value={p.id}>
                      {p.name}
                    </option>
                  ))}
                </select>
              )}
            </Field>
            <Field label="Version" error={errs.protocolVersion}>
              {(id) => (
                <select id={id} value={version} onChange={(e) => setVersion((e.target as HTMLSelectElement).value)}>
                  <option value="">Newest</option>
                  {protocol?.versions
                    .filter((v) => !v.retiredAt)
                    .map((v) => (
                      <option key={v.version} value={v.version}>
                        Version {v.version}
                      </option>
                    ))}
                </select>
              )}
            </Field>
          </div>
          <h2>3. When</h2>
          <div class="row">
            <Field label="Earliest start" error={errs.earliestStart}>
              {(id, d) => (
                <input
                  id={id}
                  aria-describedby={d}
                  type="date"
                  value={earliest}
                  onInput={(e) => setEarliest((e.target as HTMLInputElement).value)}
                  required
                />
              )}
            </Field>
            <Field label="Start within (days)" error={errs.startWithinDays}>
              {(id, d) => (
                <input
                  id={id}
                  aria-describedby={d}
                  type="number"
                  min="1"
                  max="60"
                  value={within}
                  onInput={(e) => setWithin((e.target as HTMLInputElement).value)}
                />
              )}
            </Field>
          </div>
          <fieldset class="days">
            <legend>Preferred days (optional; none = any time the clinic is open)</legend>
            {WEEKDAYS.map((w, i) => (
              <label key={w}>
                <input
                  type="checkbox"
                  checked={days.includes(i + 1)}
                  onChange={(e) =>
                    setDays(
                      (e.target as HTMLInputElement).checked
                        ? [...days, i + 1].sort()
                        : days.filter((d) => d !== i + 1),
                    )
                  }
                />{' '}
                {w}
              </label>
            ))}
          </fieldset>
          {days.length ? (
            <div class="row">
              <Field label={`Preferred from (${zone})`}>
                {(id) => (
                  <input
                    id={id}
                    type="time"
                    value={from}
                    onInput={(e) => setFrom((e.target as HTMLInputElement).value)}
                  />
                )}
              </Field>
              <Field label="to">
                {(id) => (
                  <input id={id} type="time" value={to} onInput={(e) => setTo((e.target as HTMLInputElement).value)} />
                )}
              </Field>
            </div>
          ) : null}
          {errs.preferredTimes ? <p class="field-error">{errs.preferredTimes}</p> : null}
          {can.tailor(me.role) && protocol ? (
            <details class="tailoring">
              <summary>Tailoring (clinicians)</summary>
              <Field label="Weight for this plan (kg)" error={errs['tailoring.weightKg']}>
                {(id) => (
                  <input
                    id={id}
                    type="number"
                    step="0.1"
                    value={weight}
                    onInput={(e) => setWeight((e.target as HTMLInputElement).value)}
                  />
                )}
              </Field>
              <TailoringTable steps={steps} tail={tail} setTail={setTail} />
            </details>
          ) : null}
          <div class="actions">
            <button type="submit" class="primary" disabled={busy || !patient || !protocolId}>
              Preview
            </button>
          </div>
        </form>
        <div class="card result" aria-live="polite">
          {error ? (
            <ErrorBox error={error} title={weightNote?.title} message={weightNote?.message}>
              {weightNote && patient ? (
                <p data-testid="weight-refusal">
                  <button type="button" onClick={() => go({ name: 'patient', patientId: patient.id })}>
                    Open {patient.fullName}'s patient page
                  </button>
                </p>
              ) : null}
              {binding?.message ? <p data-testid="binding">Binding constraint: {binding.message}.</p> : null}
              {earliestWorkable ? (
                <p>
                  The earliest workable start is{' '}
                  <strong>{DateTime.fromISO(earliestWorkable).toFormat('cccc d LLLL yyyy')}</strong>.{' '}
                  <button
                    type="button"
                    class="primary"
                    data-testid="use-earliest"
                    onClick={() => {
                      setEarliest(earliestWorkable);
                      void doPreview({ earliestStart: earliestWorkable });
                    }}
                  >
                    Start {earliestWorkable} instead
                  </button>
                </p>
              ) : null}
            </ErrorBox>
          ) : null}
          {busy ? <Spinner label="Working…" /> : null}
          {preview ? (
            <>
              <h2>Preview: {preview.sessions.length} sessions</h2>
              <p class="muted small">Times in {zone}. Nothing is booked until you press Book.</p>
              <PreviewStrip sessions={preview.sessions} zone={zone} />
              <button type="button" class="primary big" disabled={busy} onClick={() => void book()}>
                Book {preview.sessions.length} sessions
              </button>
            </>
          ) : null}
          {booked ? (
            <div class="success" role="status" data-testid="booked">
              <p>
                Booked: {booked.sessions.length} sessions from {booked.sessions[0]?.localDate}.
              </p>
              <button type="button" onClick={() => go({ name: 'day', date: booked.sessions[0]?.localDate })}>
                See the first day on the board
              </button>{' '}
              <button type="button" onClick={() => go({ name: 'patient', patientId: booked.patientId })}>
                Patient page
              </button>
            </div>
          ) : null}
          {!preview && !error && !booked && !busy ? (
            <p class="muted">Choose a patient and a protocol, then Preview.</p>
          ) : null}
        </div>
      </div>
    </section>
  );
}
