import type { ProtocolStep } from '../../protocols/domain/protocol-step.js';
import type { PlannedDose } from '../../protocols/domain/tailor.js';

/** What an adjustment needs to know of a session. */
export interface SessionState {
  id: string;
  ref: string;
  stepKey: string;
  status: 'scheduled' | 'checked_in' | 'completed' | 'no_show' | 'cancelled';
  plannedDose: PlannedDose | null;
  chairId: string | null;
  staffId: string | null;
}

export type SessionEffect =
  | { kind: 'cancel'; reason: string }
  | { kind: 'dose'; dose: PlannedDose }
  | { kind: 'chair'; chairId: string }
  | { kind: 'staff'; staffId: string };

export interface PlannedChange {
  session: SessionState;
  before: Record<string, unknown>;
  after: Record<string, unknown>;
  effect: SessionEffect;
}

export type PlanStatus = 'active' | 'completed' | 'ended_early';

export type ChangeRequest =
  | { type: 'change_dose'; amount?: number; sessionId?: string; stepKey?: string; reason: string }
  | { type: 'skip'; sessionId?: string; reason: string }
  | { type: 'cancel_remaining'; reason: string }
  | { type: 'change_chair'; sessionId?: string; chairId?: string; reason?: string }
  | { type: 'change_staff'; sessionId?: string; staffId?: string; reason?: string };

export type ChangeOutcome =
  | { ok: true; changes: PlannedChange[]; planStatus: PlanStatus }
  | { ok: false; kind: 'invalid'; field: string; message: string }
  | { ok: false; kind: 'not_found'; message: string }
  | { ok: false; kind: 'conflict'; refusal: ConflictKind; message: string; currentStatus?: string };

/** Why a change cannot apply: the session's status, or nothing left that it would change. */
export type ConflictKind = 'session_status' | 'nothing_left';

const OPEN = new Set(['scheduled', 'checked_in']);

/** The refusal of a change to a session whose status it does not apply to. */
const notAdjustable = (s: SessionState, why: string): ChangeOutcome => ({
  ok: false,
  kind: 'conflict',
  refusal: 'session_status',
  message: `The session is ${s.status}; ${why}.`,
  currentStatus: s.status,
});
const round1 = (x: number) => Math.round(Number((x * 10).toPrecision(12))) / 10;

/**
 * The session-level effect of a dose change, a skip or ending a plan early. Pure: the same plan
 * and request always give the same changes, so a preview is exactly what a commit then writes.
 */
export function planChanges(
  req: ChangeRequest,
  sessions: SessionState[],
  steps: ProtocolStep[],
  weightKg: number | null,
  current: PlanStatus = 'active',
): ChangeOutcome {
  const target = (id: string | undefined): SessionState | ChangeOutcome => {
    if (!id)
      return { ok: false, kind: 'invalid', field: 'sessionId', message: `sessionId is required for ${req.type}` };
    const s = sessions.find((x) => x.id === id);
    return s ?? { ok: false, kind: 'not_found', message: 'No such session in this plan.' };
  };
  const isOutcome = (x: SessionState | ChangeOutcome): x is ChangeOutcome => 'ok' in x;
  const remainingAfter = (cancelled: Set<string>) => sessions.some((s) => OPEN.has(s.status) && !cancelled.has(s.id));

  switch (req.type) {
    case 'change_dose': {
      if (req.amount === undefined)
        return { ok: false, kind: 'invalid', field: 'amount', message: 'amount is required for change_dose' };
      let targets: SessionState[];
      if (req.sessionId) {
        const s = target(req.sessionId);
        if (isOutcome(s)) return s;
        if (!OPEN.has(s.status)) return notAdjustable(s, 'its dose can no longer change');
        if (!s.plannedDose) return { ok: false, kind: 'invalid', field: 'sessionId', message: `${s.ref} has no dose` };
        targets = [s];
      } else {
        // One amount fits one step (its unit, its range): "all remaining" means all remaining of a step.
        if (!req.stepKey)
          return {
            ok: false,
            kind: 'invalid',
            field: 'stepKey',
            message: 'stepKey is required to change the dose of all remaining sessions of a step',
          };
        if (!steps.some((x) => x.key === req.stepKey && x.dose))
          return {
            ok: false,
            kind: 'invalid',
            field: 'stepKey',
            message: `the protocol has no dosed step '${req.stepKey}'`,
          };
        targets = sessions.filter((s) => OPEN.has(s.status) && s.plannedDose && s.stepKey === req.stepKey);
        if (targets.length === 0)
          return {
            ok: false,
            kind: 'conflict',
            refusal: 'nothing_left',
            message: `No remaining ${req.stepKey} session has a dose to change.`,
          };
      }
      const changes: PlannedChange[] = [];
      for (const s of targets) {
        const range = steps.find((x) => x.key === s.stepKey)?.dose;
        const dose = s.plannedDose!;
        if (range && (req.amount < range.min || req.amount > range.max)) {
          return {
            ok: false,
            kind: 'invalid',
            field: 'amount',
            message: `amount (${req.amount} ${dose.unit}) must lie within [${range.min}, ${range.max}] for ${s.stepKey}`,
          };
        }
        const next: PlannedDose = {
          ...dose,
          amount: req.amount,
          totalMg: dose.unit === 'mg/kg' ? round1(req.amount * (weightKg ?? 0)) : req.amount,
        };
        changes.push({
          session: s,
          before: { dose: dose },
          after: { dose: next },
          effect: { kind: 'dose', dose: next },
        });
      }
      return { ok: true, changes, planStatus: current };
    }
    case 'skip': {
      const s = target(req.sessionId);
      if (isOutcome(s)) return s;
      if (s.status !== 'scheduled') return notAdjustable(s, 'only a scheduled session can be skipped');
      const reason = `skipped: ${req.reason}`;
      return {
        ok: true,
        changes: [
          {
            session: s,
            before: { status: s.status },
            after: { status: 'cancelled', statusReason: reason },
            effect: { kind: 'cancel', reason },
          },
        ],
        planStatus: current !== 'active' || remainingAfter(new Set([s.id])) ? current : 'completed',
      };
    }
    case 'change_chair':
    case 'change_staff': {
      const field = req.type === 'change_chair' ? 'chairId' : 'staffId';
      const to = req.type === 'change_chair' ? req.chairId : req.staffId;
      if (!to) return { ok: false, kind: 'invalid', field, message: `${field} is required for ${req.type}` };
      const s = target(req.sessionId);
      if (isOutcome(s)) return s;
      if (s.status !== 'scheduled') return notAdjustable(s, 'only a scheduled session can change');
      const from = req.type === 'change_chair' ? s.chairId : s.staffId;
      if (from === null)
        return {
          ok: false,
          kind: 'invalid',
          field,
          message: `${s.ref} has no ${req.type === 'change_chair' ? 'chair' : 'staff member'} to change`,
        };
      if (from === to)
        return {
          ok: false,
          kind: 'invalid',
          field,
          message: `${s.ref} already has that ${req.type === 'change_chair' ? 'chair' : 'staff member'}`,
        };
      return {
        ok: true,
        changes: [
          {
            session: s,
            before: { [field]: from },
            after: { [field]: to },
            effect: req.type === 'change_chair' ? { kind: 'chair', chairId: to } : { kind: 'staff', staffId: to },
          },
        ],
        planStatus: current,
      };
    }
    case 'cancel_remaining': {
      const open = sessions.filter((s) => s.status === 'scheduled');
      if (open.length === 0)
        return { ok: false, kind: 'conflict', refusal: 'nothing_left', message: 'Nothing remains to cancel.' };
      const reason = `plan ended early: ${req.reason}`;
      return {
        ok: true,
        changes: open.map((s) => ({
          session: s,
          before: { status: s.status },
          after: { status: 'cancelled', statusReason: reason },
          effect: { kind: 'cancel', reason },
        })),
        planStatus: 'ended_early',
      };
    }
  }
}
