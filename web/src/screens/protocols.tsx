import { Fragment } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, call, get } from '../api.js';
import { fieldErrors, rowErrors } from '../lib/problems.js';
import { can, useApp } from '../state.js';
import type { Gap, Page, Protocol, Step } from '../types.js';
import { ErrorBox, Field, Spinner } from '../ui/kit.js';
import { Outcomes } from './protocol-outcomes.js';

const KINDS = ['consult', 'infusion', 'therapy', 'assessment', 'follow_up', 'booster'];
const ROLES = ['nurse', 'physician', 'therapist'];

/** Reads/writes a dotted path in a step (`dose.min`, `spacing.unit`); an empty value removes it. */
function setPath(step: Step, path: string, value: unknown): Step {
  const next = structuredClone(step) as Record<string, unknown>;
  const parts = path.split('.');
  let o = next;
  for (const p of parts.slice(0, -1)) {
    if (typeof o[p] !== 'object' || o[p] === null) o[p] = {};
    o = o[p] as Record<string, unknown>;
  }
  const leaf = parts[parts.length - 1];
  if (value === '' || value === undefined) delete o[leaf];
  else o[leaf] = value;
  return next as Step;
}
function getPath(step: Step, path: string): unknown {
  return path
    .split('.')
    .reduce<unknown>((o, p) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[p] : undefined), step);
}

export function Protocols({ initialId }: { initialId?: string }) {
  const [list, setList] = useState<Protocol[] | null>(null);
  const [id, setId] = useState(initialId ?? '');
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    get<Page<Protocol>>('/protocols', { limit: 100 }).then((r) => {
      setList(r.items);
      if (!id && r.items[0]) setId(r.items[0].id);
    }, setError);
  }, []);
  return (
    <section aria-labelledby="protocols-title">
      <h1 id="protocols-title">Protocols</h1>
      <ErrorBox error={error} />
      {!list ? <Spinner /> : null}
      <div class="split">
        <nav aria-label="Protocols" class="card side">
          <ul class="plain">
            {list?.map((p) => (
              <li key={p.id}>
                <button
                  type="button"
                  class={p.id === id ? 'tab active' : 'tab'}
                  aria-current={p.id === id ? 'true' : undefined}
                  onClick={() => setId(p.id)}
                >
                  {p.name}
                </button>
              </li>
            ))}
          </ul>
        </nav>
        {id ? <ProtocolEditor key={id} id={id} /> : null}
      </div>
    </section>
  );
}

function ProtocolEditor({ id }: { id: string }) {
  const { me } = useApp();
  const editable = can.editProtocols(me.role);
  const [proto, setProto] = useState<{ p: Protocol; etag: string | null } | null>(null);
  const [steps, setSteps] = useState<Step[]>([]);
  const [name, setName] = useState('');
  const [indication, setIndication] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const load = async () => {
    const r = await call<Protocol>('GET', `/protocols/${id}`);
    setProto({ p: r.data, etag: r.etag });
    setSteps(r.data.draft.steps);
    setName(r.data.name);
    setIndication(String(r.data.indication ?? ''));
  };
  useEffect(() => void load().catch(setError), [id]);
  if (!proto) return error ? <ErrorBox error={error} /> : <Spinner />;

  const errs = error instanceof ApiError ? fieldErrors(error.problem) : {};
  const byRow = rowErrors(errs, 'steps');
  const run = async (what: string, fn: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    setNote('');
    try {
      await fn();
      setNote(what);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const save = () =>
    run('Draft saved.', async () => {
      const r = await call<Protocol>('PUT', `/protocols/${id}/draft`, {
        body: { name, indication, description: proto.p.description ?? null, steps },
        ifMatch: proto.etag,
      });
      setProto({ p: r.data, etag: r.etag });
      setSteps(r.data.draft.steps);
    });
  const publish = () =>
    run('Published.', async () => {
      await call('POST', `/protocols/${id}/publish`, { ifMatch: proto.etag });
      await load();
    });
  const retire = (v: number) =>
    run(`Version ${v} retired.`, async () => {
      await call('POST', `/protocols/${id}/versions/${v}/retire`);
      await load();
    });
  const dirty =
    JSON.stringify(steps) !== JSON.stringify(proto.p.draft.steps) ||
    name !== proto.p.name ||
    indication !== String(proto.p.indication ?? '');
  const edit = (i: number, path: string, value: unknown) =>
    setSteps(steps.map((s, j) => (j === i ? setPath(s, path, value) : s)));
  const num = (i: number, path: string) => (e: Event) => {
    const v = (e.target as HTMLInputElement).value;
    edit(i, path, v === '' ? '' : Number(v));
  };
  const cell = (i: number, path: string, label: string, type: 'number' | 'text' = 'number') => {
    const err = byRow.get(i)?.[path];
    const v = getPath(steps[i], path);
    return (
      <td class={err ? 'invalid' : ''}>
        <input
          aria-label={`Step ${i + 1} ${label}`}
          aria-invalid={err ? 'true' : undefined}
          type={type as 'text'}
          value={v === undefined || v === null ? '' : String(v)}
          disabled={!editable}
          onInput={type === 'number' ? num(i, path) : (e) => edit(i, path, (e.target as HTMLInputElement).value)}
        />
        {err ? <small class="field-error">{err}</small> : null}
      </td>
    );
  };
  const gapCells = (i: number, base: 'spacing' | 'after.gap' | 'attachedTo.gap') => {
    const g = getPath(steps[i], base) as Gap | undefined;
    return (
      <>
        {(['min', 'target', 'max'] as const).map((k) => (
          <Fragment key={k}>{cell(i, `${base}.${k}`, `${base} ${k}`)}</Fragment>
        ))}
        <td>
          <select
            aria-label={`Step ${i + 1} ${base} unit`}
            disabled={!editable}
            value={g?.unit ?? ''}
            onChange={(e) => edit(i, `${base}.unit`, (e.target as HTMLSelectElement).value)}
          >
            <option value="">—</option>
            <option value="days">days</option>
            <option value="hours">hours</option>
          </select>
        </td>
      </>
    );
  };
  const selectCell = (i: number, path: string, label: string, options: string[], allowEmpty = false) => {
    const err = byRow.get(i)?.[path];
    return (
      <td class={err ? 'invalid' : ''}>
        <select
          aria-label={`Step ${i + 1} ${label}`}
          disabled={!editable}
          value={String(getPath(steps[i], path) ?? '')}
          onChange={(e) => edit(i, path, (e.target as HTMLSelectElement).value)}
        >
          {allowEmpty ? <option value="">—</option> : null}
          {options.map((o) => (
            <option key={o} value={o}>
              {o}
            </option>
          ))}
        </select>
        {err ? <small class="field-error">{err}</small> : null}
      </td>
    );
  };
  const others = (i: number) => steps.slice(0, i).map((s) => s.key);
  const rowLevel = (i: number) =>
    Object.entries(byRow.get(i) ?? {}).filter(
      ([k]) =>
        !k ||
        !/^(key|label|durationMinutes|recoveryMinutes|dose\.(amount|min|max)|repeat|spacing\.\w+|after\.\w+(\.\w+)?|attachedTo\.\w+(\.\w+)?|kind|staffRole)$/.test(
          k,
        ),
    );
  const latest = proto.p.versions.length ? Math.max(...proto.p.versions.map((v) => v.version)) : null;

  return (
    <div class="card editor">
      <div class="toolbar">
        <h2>{proto.p.name}</h2>
        <span class="muted">
          Draft revision {proto.p.draft.revision}
          {proto.p.draft.changed ? ' · changed since the last version' : ''} · latest version {latest ?? 'none'}
        </span>
      </div>
      {!editable ? <p class="muted">Only clinicians and admins edit protocols.</p> : null}
      <div class="row">
        <Field label="Name" error={errs.name}>
          {(fid) => (
            <input
              id={fid}
              value={name}
              disabled={!editable}
              onInput={(e) => setName((e.target as HTMLInputElement).value)}
            />
          )}
        </Field>
        <Field label="Indication" error={errs.indication}>
          {(fid) => (
            <input
              id={fid}
              value={indication}
              disabled={!editable}
              onInput={(e) => setIndication((e.target as HTMLInputElement).value)}
            />
          )}
        </Field>
      </div>
      <div class="table-scroll" role="region" aria-label="Steps of the draft" tabIndex={0}>
        <table class="list steps" data-testid="steps">
          <thead>
            <tr>
              <th scope="col">Key</th>
              <th scope="col">Label</th>
              <th scope="col">Kind</th>
              <th scope="col">Minutes</th>
              <th scope="col">Recovery</th>
              <th scope="col">Chair</th>
              <th scope="col">Role</th>
              <th scope="col">Dose</th>
              <th scope="col">Dose min</th>
              <th scope="col">Dose max</th>
              <th scope="col">Repeat</th>
              <th scope="col" colSpan={4}>
                Spacing min / target / max / unit
              </th>
              <th scope="col">After step</th>
              <th scope="col" colSpan={4}>
                Gap after min / target / max / unit
              </th>
              <th scope="col">Attached to</th>
              <th scope="col">
                <span class="sr-only">Row actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {steps.map((s, i) => (
              <Fragment key={i}>
                <tr key={`r${i}`}>
                  {cell(i, 'key', 'key', 'text')}
                  {cell(i, 'label', 'label', 'text')}
                  {selectCell(i, 'kind', 'kind', KINDS)}
                  {cell(i, 'durationMinutes', 'duration minutes')}
                  {cell(i, 'recoveryMinutes', 'recovery minutes')}
                  <td>
                    <input
                      type="checkbox"
                      aria-label={`Step ${i + 1} needs a chair`}
                      disabled={!editable}
                      checked={s.needsChair}
                      onChange={(e) => edit(i, 'needsChair', (e.target as HTMLInputElement).checked)}
                    />
                  </td>
                  {selectCell(i, 'staffRole', 'staff role', ROLES)}
                  {cell(i, 'dose.amount', 'dose amount')}
                  {cell(i, 'dose.min', 'dose min')}
                  {cell(i, 'dose.max', 'dose max')}
                  {cell(i, 'repeat', 'repeat')}
                  {gapCells(i, 'spacing')}
                  {selectCell(i, 'after.step', 'after step', others(i), true)}
                  {gapCells(i, 'after.gap')}
                  {selectCell(i, 'attachedTo.step', 'attached to step', others(i), true)}
                  <td>
                    {editable ? (
                      <button
                        type="button"
                        class="ghost"
                        aria-label={`Remove step ${i + 1}`}
                        onClick={() => setSteps(steps.filter((_, j) => j !== i))}
                      >
                        ✕
                      </button>
                    ) : null}
                  </td>
                </tr>
                {rowLevel(i).length ? (
                  <tr key={`e${i}`} class="row-errors">
                    <td colSpan={24} class="field-error">
                      {rowLevel(i)
                        .map(([k, m]) => `${k || 'step'}: ${m}`)
                        .join(' · ')}
                    </td>
                  </tr>
                ) : null}
              </Fragment>
            ))}
          </tbody>
        </table>
      </div>
      <ErrorBox error={error} />
      {note ? (
        <p class="success" role="status">
          {note}
        </p>
      ) : null}
      {editable ? (
        <div class="actions">
          <button
            type="button"
            onClick={() =>
              setSteps([
                ...steps,
                {
                  key: `step${steps.length + 1}`,
                  kind: 'consult',
                  label: 'New step',
                  durationMinutes: 30,
                  recoveryMinutes: 0,
                  needsChair: false,
                  staffRole: 'nurse',
                  repeat: 1,
                },
              ])
            }
          >
            Add a step
          </button>
          <button type="button" class="primary" disabled={busy || !dirty} onClick={() => void save()}>
            Save draft
          </button>
          <button type="button" disabled={busy || dirty || !proto.p.draft.changed} onClick={() => void publish()}>
            Publish version {(latest ?? 0) + 1}
          </button>
          {dirty ? <span class="muted small">Save before publishing.</span> : null}
        </div>
      ) : null}
      <h3>Versions</h3>
      <ul data-testid="versions">
        {proto.p.versions.map((v) => (
          <li key={v.version}>
            Version {v.version} · published {v.publishedAt.slice(0, 10)}
            {v.retiredAt ? ` · retired ${v.retiredAt.slice(0, 10)}` : ''}{' '}
            {editable && !v.retiredAt ? (
              <button
                type="button"
                class="ghost"
                disabled={busy}
                onClick={() =>
                  confirm(`Retire version ${v.version}? No new plans will use it.`) && void retire(v.version)
                }
              >
                Retire
              </button>
            ) : null}
          </li>
        ))}
      </ul>
      {can.observe(me.role) ? <Outcomes key={`${id}:${proto.p.versions.length}`} id={id} /> : null}
    </div>
  );
}
