import { DateTime } from 'luxon';
import { useEffect, useState } from 'preact/hooks';
import { call, get } from '../api.js';
import { formatDose } from '../lib/diff.js';
import { can, useApp } from '../state.js';
import type { Page, Patient, Plan } from '../types.js';
import { ErrorBox, Spinner, STATUS_LABEL } from '../ui/kit.js';
import { PatientForm, WEEKDAYS, WeightView } from './patients.js';

interface Observation {
  id: string;
  sessionRef: string;
  sessionLabel: string;
  recordedAt: string;
  craving: number | null;
  cows: number | null;
  phq9: number | null;
  gad7: number | null;
}
interface Adjustment {
  planVersion?: number;
  type: string;
  reason?: string | null;
  createdAt?: string;
  at?: string;
  [k: string]: unknown;
}

export function PatientPage({ patientId }: { patientId: string }) {
  const { me, go } = useApp();
  const zone = me.clinic.timezone;
  const [patient, setPatient] = useState<{ p: Patient; etag: string | null } | null>(null);
  const [plans, setPlans] = useState<Plan[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [editing, setEditing] = useState(false);
  useEffect(() => {
    call<Patient>('GET', `/patients/${patientId}`)
      .then((r) => setPatient({ p: r.data, etag: r.etag }))
      .catch(setError);
    get<Page<Plan>>(`/patients/${patientId}/plans`).then((r) => setPlans(r.items), setError);
  }, [patientId]);
  if (!patient) return error ? <ErrorBox error={error} /> : <Spinner />;
  const p = patient.p;
  return (
    <section aria-labelledby="patient-title">
      <div class="toolbar">
        <h1 id="patient-title">{p.fullName}</h1>
        <div class="controls">
          <button type="button" onClick={() => setEditing(true)}>
            Edit
          </button>
          <button type="button" class="primary" onClick={() => go({ name: 'book', patientId: p.id })}>
            Book a series
          </button>
        </div>
      </div>
      <dl class="facts">
        <dt>Date of birth</dt>
        <dd>{p.dateOfBirth}</dd>
        <dt>Phone</dt>
        <dd>{p.phone ?? '—'}</dd>
        <dt>Email</dt>
        <dd>{p.email ?? '—'}</dd>
        <dt>Weight</dt>
        <dd>
          <WeightView patient={p} etag={patient.etag} onConfirmed={(np, etag) => setPatient({ p: np, etag })} />
        </dd>
        <dt>Preferred times</dt>
        <dd>
          {p.preferredTimes.length
            ? p.preferredTimes.map((t) => `${WEEKDAYS[t.weekday - 1]} ${t.start}–${t.end}`).join(', ')
            : '—'}
        </dd>
      </dl>
      <ErrorBox error={error} />
      <h2>Plans</h2>
      {!plans ? <Spinner /> : null}
      {plans && !plans.length ? <p class="muted">No plans yet.</p> : null}
      {plans?.map((plan) => (
        <PlanCard key={plan.id} plan={plan} zone={zone} />
      ))}
      {editing ? (
        <PatientForm
          patient={p}
          etag={patient.etag}
          onClose={() => setEditing(false)}
          onSaved={(np, etag) => {
            setPatient({ p: np, etag });
            setEditing(false);
          }}
        />
      ) : null}
    </section>
  );
}

function PlanCard({ plan, zone }: { plan: Plan; zone: string }) {
  const { me, go } = useApp();
  const [log, setLog] = useState<Adjustment[] | null>(null);
  const [obs, setObs] = useState<Observation[] | null>(null);
  useEffect(() => {
    get<{ items: Adjustment[] }>(`/plans/${plan.id}/adjustments`).then(
      (r) => setLog(r.items),
      () => setLog([]),
    );
    if (can.observe(me.role))
      get<{ items: Observation[] }>(`/plans/${plan.id}/observations`).then(
        (r) => setObs(r.items),
        () => setObs([]),
      );
  }, [plan.id]);
  return (
    <article class="card plan" data-plan={plan.id}>
      <header class="toolbar">
        <h3>
          Protocol version {plan.protocolVersion} · from {plan.earliestStart} · <span class="badge">{plan.status}</span>
        </h3>
        {plan.status === 'active' ? (
          <button type="button" onClick={() => go({ name: 'adjust', planId: plan.id })}>
            Adjust plan…
          </button>
        ) : null}
      </header>
      <table class="list compact">
        <caption class="sr-only">Sessions</caption>
        <thead>
          <tr>
            <th scope="col">Session</th>
            <th scope="col">When ({zone})</th>
            <th scope="col">Chair</th>
            <th scope="col">Staff</th>
            <th scope="col">Dose</th>
            <th scope="col">Status</th>
          </tr>
        </thead>
        <tbody>
          {plan.sessions.map((s) => (
            <tr key={s.id}>
              <td>{s.label}</td>
              <td>
                <button type="button" class="link" onClick={() => go({ name: 'day', date: s.localDate })}>
                  {DateTime.fromISO(s.start).setZone(zone).toFormat('ccc d LLL yyyy, HH:mm')}
                </button>
              </td>
              <td>{s.chair?.name ?? '—'}</td>
              <td>{s.staff?.name ?? '—'}</td>
              <td>{formatDose(s.dose)}</td>
              <td>
                <span class={`chip st-${s.status}`}>{STATUS_LABEL[s.status]}</span>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h4>Adjustment log</h4>
      {log && !log.length ? <p class="muted">No adjustments.</p> : null}
      <ul>
        {log?.map((a, i) => (
          <li key={i}>
            {a.createdAt || a.at
              ? DateTime.fromISO(String(a.createdAt ?? a.at))
                  .setZone(zone)
                  .toFormat('d LLL yyyy HH:mm') + ' · '
              : ''}
            <strong>{String(a.type).replace(/_/g, ' ')}</strong>
            {a.reason ? ` — ${a.reason}` : ''}
            {a.planVersion ? <span class="muted"> (plan version {a.planVersion})</span> : null}
          </li>
        ))}
      </ul>
      {can.observe(me.role) ? (
        <>
          <h4>Observations by session</h4>
          {obs && !obs.length ? <p class="muted">No observations recorded.</p> : null}
          {obs && obs.length ? (
            <div class="charts">
              {(
                [
                  ['craving', 'Craving (0–10)', 10],
                  ['cows', 'COWS (0–48)', 48],
                  ['phq9', 'PHQ-9 (0–27)', 27],
                  ['gad7', 'GAD-7 (0–21)', 21],
                ] as const
              ).map(([k, label, max]) => (
                <Sparkline
                  key={k}
                  label={label}
                  max={max}
                  points={obs.filter((o) => o[k] != null).map((o) => ({ x: o.sessionRef, y: o[k] as number }))}
                />
              ))}
            </div>
          ) : null}
        </>
      ) : null}
    </article>
  );
}

/** A small line chart of one score by session (SVG, with a text equivalent). */
export function Sparkline({ label, max, points }: { label: string; max: number; points: { x: string; y: number }[] }) {
  const w = 220;
  const h = 70;
  const step = points.length > 1 ? (w - 20) / (points.length - 1) : 0;
  const xy = points.map((p, i) => [10 + i * step, h - 10 - (p.y / max) * (h - 20)] as const);
  return (
    <figure class="spark">
      <figcaption>{label}</figcaption>
      <svg
        width={w}
        height={h}
        role="img"
        aria-label={`${label}: ${points.map((p) => `${p.x} ${p.y}`).join(', ') || 'no values'}`}
      >
        <line x1="10" y1={h - 10} x2={w - 10} y2={h - 10} class="axis" />
        {xy.length > 1 ? <polyline points={xy.map(([x, y]) => `${x},${y}`).join(' ')} class="line" /> : null}
        {xy.map(([x, y], i) => (
          <circle key={i} cx={x} cy={y} r="3" class="dot">
            <title>{`${points[i].x}: ${points[i].y}`}</title>
          </circle>
        ))}
      </svg>
    </figure>
  );
}
