import { KETAMINE_PROTOCOL } from '../../seed/demo-protocol.js';
import { planChanges, type SessionState } from './plan-changes.js';

const dose = (amount: number) => ({
  drug: 'ketamine',
  amount,
  unit: 'mg/kg' as const,
  infusionMinutes: 40,
  totalMg: amount * 80,
});
const session = (ref: string, status: SessionState['status'], withDose = true): SessionState => ({
  id: `id-${ref}`,
  ref,
  stepKey: ref.split('#')[0],
  status,
  plannedDose: withDose ? dose(0.5) : null,
  chairId: withDose ? 'chair-1' : null,
  staffId: 'nurse-1',
});
const SESSIONS: SessionState[] = [
  session('intake#1', 'completed', false),
  session('infusion#1', 'completed'),
  session('infusion#2', 'checked_in'),
  session('infusion#3', 'scheduled'),
  session('therapy#3', 'scheduled', false),
  session('booster#1', 'scheduled'),
];
const STEPS = KETAMINE_PROTOCOL.steps;

describe('planChanges', () => {
  it('changes the dose of every remaining session of a step, with totalMg from the weight', () => {
    const out = planChanges(
      { type: 'change_dose', amount: 0.4, stepKey: 'infusion', reason: 'r' },
      SESSIONS,
      STEPS,
      72.5,
    );
    expect(out.ok).toBe(true);
    if (!out.ok) return;
    expect(out.changes.map((c) => c.session.ref)).toEqual(['infusion#2', 'infusion#3']);
    expect(out.changes[0].after).toEqual({ dose: { ...dose(0.5), amount: 0.4, totalMg: 29 } });
    expect(out.planStatus).toBe('active');
  });

  it.each([
    [{ type: 'change_dose' as const, amount: 1.2, stepKey: 'infusion', reason: 'r' }, 'invalid', 'amount'],
    [{ type: 'change_dose' as const, amount: 0.3, reason: 'r' }, 'invalid', 'stepKey'],
    [{ type: 'change_dose' as const, amount: 0.3, stepKey: 'therapy', reason: 'r' }, 'invalid', 'stepKey'],
    [{ type: 'change_dose' as const, reason: 'r' }, 'invalid', 'amount'],
    [{ type: 'change_dose' as const, amount: 0.3, sessionId: 'id-therapy#3', reason: 'r' }, 'invalid', 'sessionId'],
    [{ type: 'change_dose' as const, amount: 0.3, sessionId: 'id-infusion#1', reason: 'r' }, 'conflict', undefined],
    [{ type: 'change_dose' as const, amount: 0.3, sessionId: 'nope', reason: 'r' }, 'not_found', undefined],
    [{ type: 'skip' as const, reason: 'r' }, 'invalid', 'sessionId'],
    [{ type: 'skip' as const, sessionId: 'id-infusion#2', reason: 'r' }, 'conflict', undefined],
    [{ type: 'change_chair' as const, sessionId: 'id-infusion#3', reason: '' }, 'invalid', 'chairId'],
    [
      { type: 'change_chair' as const, sessionId: 'id-therapy#3', chairId: 'chair-2', reason: '' },
      'invalid',
      'chairId',
    ],
    [
      { type: 'change_chair' as const, sessionId: 'id-infusion#3', chairId: 'chair-1', reason: '' },
      'invalid',
      'chairId',
    ],
    [
      { type: 'change_staff' as const, sessionId: 'id-infusion#1', staffId: 'nurse-2', reason: '' },
      'conflict',
      undefined,
    ],
  ])('refuses %j (%s %s)', (req, kind, field) => {
    const out = planChanges(req, SESSIONS, STEPS, 80);
    expect(out).toMatchObject({ ok: false, kind, ...(field ? { field } : {}) });
  });

  it('skips one scheduled session; the plan completes when nothing else can happen', () => {
    const out = planChanges({ type: 'skip', sessionId: 'id-booster#1', reason: 'away' }, SESSIONS, STEPS, 80);
    expect(out).toMatchObject({
      ok: true,
      planStatus: 'active',
      changes: [{ after: { status: 'cancelled', statusReason: 'skipped: away' } }],
    });
    const last = [session('infusion#1', 'completed'), session('booster#1', 'scheduled')];
    expect(planChanges({ type: 'skip', sessionId: 'id-booster#1', reason: 'away' }, last, STEPS, 80)).toMatchObject({
      ok: true,
      planStatus: 'completed',
    });
  });

  it('cancel_remaining cancels every scheduled session and ends the plan early; then there is nothing left', () => {
    const out = planChanges({ type: 'cancel_remaining', reason: 'moved' }, SESSIONS, STEPS, 80);
    expect(out).toMatchObject({ ok: true, planStatus: 'ended_early' });
    if (!out.ok) return;
    expect(out.changes.map((c) => c.session.ref)).toEqual(['infusion#3', 'therapy#3', 'booster#1']);
    const done = SESSIONS.map((s) => ({ ...s, status: s.status === 'scheduled' ? ('cancelled' as const) : s.status }));
    expect(planChanges({ type: 'cancel_remaining', reason: 'again' }, done, STEPS, 80)).toMatchObject({
      ok: false,
      kind: 'conflict',
    });
  });

  it('keeps a plan that ended early ended when a dose or resource changes afterwards', () => {
    const out = planChanges(
      { type: 'change_dose', amount: 0.3, sessionId: 'id-infusion#2', reason: 'r' },
      SESSIONS,
      STEPS,
      80,
      'ended_early',
    );
    expect(out).toMatchObject({ ok: true, planStatus: 'ended_early' });
    const staff = planChanges(
      { type: 'change_staff', sessionId: 'id-infusion#3', staffId: 'nurse-2', reason: '' },
      SESSIONS,
      STEPS,
      80,
      'completed',
    );
    expect(staff).toMatchObject({ ok: true, planStatus: 'completed' });
  });

  it('is deterministic: the same plan and request give the same changes', () => {
    const req = { type: 'change_dose' as const, amount: 0.6, stepKey: 'infusion', reason: 'r' };
    expect(planChanges(req, SESSIONS, STEPS, 80)).toEqual(planChanges(req, structuredClone(SESSIONS), STEPS, 80));
  });
});
