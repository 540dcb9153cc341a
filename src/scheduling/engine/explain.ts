/**
 * Explanation of refusals: where the search got stuck (the deepest position reached and why
 * candidates there were refused, days the look-ahead ruled out, dependents timed in hours that
 * could not follow) and the binding constraint in words a front desk can act on.
 */
import { Preferences } from './preference.js';
import { DEFAULT_START_WINDOW, dayWindow } from './shape.js';
import type { BindingCode, BindingConstraint } from './types.js';

export abstract class Explainer extends Preferences {
  /** Placement attempts, and the budget per first day. */
  protected nodes = 0;
  protected abstract readonly maxNodes: number;
  /** Whether some first day was given up for its budget (the refusal is then SEARCH_LIMIT). */
  protected limitHit = false;
  /** Deepest position reached in the search, and why candidates there failed. */
  protected deepest = -1;
  protected deepestReasons = new Map<BindingCode, number>();
  protected deepestClosure: { date: string; reason: string } | undefined;
  /** Days refused at the deepest position only because a dependent could not follow. */
  protected deepestLookahead: number[] = [];
  /** Dependents timed in hours that had no slot for a start tried at the deepest position. */
  protected deepestHourChild = new Map<number, number>();

  protected note(pos: number, code: BindingCode, closure?: { date: string; reason: string }): void {
    if (pos > this.deepest) {
      this.deepest = pos;
      this.deepestReasons = new Map();
      this.deepestClosure = undefined;
      this.deepestLookahead = [];
      this.deepestHourChild = new Map();
    }
    if (pos === this.deepest) {
      this.deepestReasons.set(code, (this.deepestReasons.get(code) ?? 0) + 1);
      if (closure) this.deepestClosure ??= closure;
    }
  }

  /**
   * When the look-ahead refused every day for a session, the cause lies with a dependent: follow
   * the dependents that could not find a day, down to one that has no usable day at all.
   */
  protected explainLookahead(
    si: number,
    days: number[],
  ): { si: number; reasons: Map<BindingCode, number>; closure?: { date: string; reason: string } } {
    if (this.hasHourChild[si]) {
      // Times that no dependent timed in hours could follow: that dependent binds.
      const occupy = this.req.sessions[si].durationMinutes + this.req.sessions[si].recoveryMinutes;
      const stuck = new Map<number, number>();
      let followed = false;
      for (const d of days) {
        for (const x of this.evalDay(si, d).slots) {
          const ci = this.hourChildrenFit(si, x.start, x.start + occupy);
          if (ci < 0) followed = true;
          else stuck.set(ci, (stuck.get(ci) ?? 0) + 1);
        }
      }
      if (!followed && stuck.size > 0) {
        const ci = [...stuck.entries()].sort((x, y) => y[1] - x[1])[0][0];
        const c = this.childConstraint[si][this.children[si].indexOf(ci)];
        // It has times, just none near enough (else the reasons it has none are the answer, below).
        const hasTimes = days.some((d) => {
          const [lo, hi] = dayWindow(c, d);
          for (let d2 = Math.max(lo, 0); d2 <= Math.min(hi, this.cal.days.length - 1); d2++)
            if (this.evalDay(ci, d2).slots.length > 0) return true;
          return false;
        });
        if (hasTimes) return { si: ci, reasons: new Map([['GAP', 1]]) };
      }
    }
    for (const ci of this.children[si]) {
      const c = this.req.sessions[ci].constraints.find((x) => x.ref === this.req.sessions[si].ref)!;
      const window = new Set<number>();
      for (const d of days) {
        if (this.evalDay(si, d).slots.length === 0) continue;
        const [lo, hi] = dayWindow(c, d);
        for (let d2 = Math.max(lo, 0); d2 <= Math.min(hi, this.cal.days.length - 1); d2++) window.add(d2);
      }
      const childDays = [...window].sort((a, b) => a - b);
      if (childDays.length === 0 || childDays.some((d2) => this.feasibleFrom(ci, d2))) continue;
      const withSlots = childDays.filter((d2) => this.evalDay(ci, d2).slots.length > 0);
      if (withSlots.length > 0) return this.explainLookahead(ci, withSlots);
      const reasons = new Map<BindingCode, number>();
      let closure: { date: string; reason: string } | undefined;
      for (const d2 of childDays) {
        const ev = this.evalDay(ci, d2);
        for (const [code, n] of ev.reasons) reasons.set(code, (reasons.get(code) ?? 0) + n);
        if (ev.closure && !closure) closure = { date: this.cal.days[d2].date, reason: ev.closure };
      }
      return { si: ci, reasons, closure };
    }
    return { si, reasons: new Map([['GAP', 1]]) };
  }

  protected binding(): BindingConstraint {
    if (this.limitHit) {
      const s = this.req.sessions[this.order[Math.max(this.deepest, 0)]];
      return {
        code: 'SEARCH_LIMIT',
        ref: s.ref,
        message: `the search gave up after ${this.maxNodes} attempts while placing ${s.label}; try a later start or fewer constraints`,
      };
    }
    const pos = Math.max(this.deepest, 0);
    let s = this.req.sessions[this.order[pos]];
    let reasons = this.deepestReasons;
    // Days that had times but no way for a dependent to follow point deeper than days with no
    // time at all (a Sunday is closed, but the weekdays failed because of something later).
    if (this.deepestHourChild.size > 0) {
      // Starts were refused because an attached session timed in hours could never follow.
      const [ci] = [...this.deepestHourChild.entries()].sort((a, b) => b[1] - a[1])[0];
      s = this.req.sessions[ci];
      reasons = new Map([['GAP', 1]]);
    } else if (this.deepestLookahead.length > 0) {
      const explained = this.explainLookahead(this.order[pos], this.deepestLookahead);
      s = this.req.sessions[explained.si];
      reasons = explained.reasons;
      this.deepestClosure = explained.closure;
    }
    // The reason met most often where the search got stuck; GAP only when nothing more specific.
    const ranked = [...reasons.entries()].sort(
      (a, b) => (a[0] === 'GAP' ? 1 : 0) - (b[0] === 'GAP' ? 1 : 0) || b[1] - a[1],
    );
    const code: BindingCode = ranked[0]?.[0] ?? 'GAP';
    const c = s.constraints[0];
    const within = c
      ? ` within its ${c.gap.max}-${c.gap.unit === 'days' ? 'day' : 'hour'} maximum gap ${c.relation === 'after' ? 'after' : 'before'} ${c.ref.replace('#', ' #')}`
      : ` in the ${this.req.startWindowDays ?? DEFAULT_START_WINDOW} days from ${this.req.earliestStart}`;
    const what = `${s.label} (${s.ref})`;
    const messages: Record<BindingCode, string> = {
      CLOSED: `the clinic is not open on any allowed day for ${what}${within}`,
      CLOSURE: `closure ${this.deepestClosure?.date ?? ''}${this.deepestClosure ? ` (${this.deepestClosure.reason})` : ''} leaves no time for ${what}${within}`,
      WEEKDAY_NOT_ALLOWED: `no allowed weekday for ${what}${within}`,
      PATIENT_UNAVAILABLE: `the patient is unavailable at every possible time for ${what}${within}`,
      PATIENT_BUSY: `the patient has other sessions at every possible time for ${what}${within}`,
      NO_CHAIR: `no chair free for ${what}${within}`,
      NO_STAFF: `no ${s.staffRole ?? 'staff member'} available for ${what}${within}`,
      STAFF_AT_CAPACITY: `every ${s.staffRole ?? 'staff member'} is at their limit of patients at once for ${what}${within}`,
      STARTS_AT_LIMIT: `the clinic's limit of infusion starts per quarter hour is reached at every possible time for ${what}${within}`,
      IN_THE_PAST: `every possible time for ${what} is in the past`,
      GAP: `no time for ${what} keeps its gaps${within}`,
      SEARCH_LIMIT: '',
    };
    const binding: BindingConstraint = { code, ref: s.ref, message: messages[code] };
    if (code === 'CLOSURE' && this.deepestClosure?.date) binding.date = this.deepestClosure.date;
    return binding;
  }
}
