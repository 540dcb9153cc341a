/**
 * Day rules and closures: every rule that does not involve the plan's own sessions, evaluated
 * once per step and day (opening hours, allowed weekdays, closures, the patient's unavailable
 * times and other sessions, a free chair, a present staff member with a free seat, not in the
 * past), with the reasons the other times were refused; the free resources of a slot.
 */
import { Capacity } from './capacity.js';
import type { FreeSlot } from './free-slots.js';
import type { Span } from './intervals.js';
import {
  byWeekday,
  CODES,
  DEFAULT_GRANULARITY,
  hhmm,
  R_CLOSURE,
  R_IN_THE_PAST,
  R_NO_CHAIR,
  R_NO_STAFF,
  R_PATIENT_BUSY,
  R_PATIENT_UNAVAILABLE,
  R_STAFF_AT_CAPACITY,
  R_STARTS_AT_LIMIT,
  toMinutes,
  type DayEval,
  type Slot,
} from './shape.js';
import type { EngineClosure, ScheduleRequest } from './types.js';

export class DayRules extends Capacity {
  protected readonly g: number;
  /** Day evaluations per step (sessions of a step share them) and day; out of the calendar by key. */
  protected readonly stepOf: number[];
  protected readonly dayEvals: (DayEval | undefined)[][];
  protected readonly dayEvalsOutside = new Map<string, DayEval>();
  /** Weekly rules as minutes per weekday, parsed once per request. */
  protected readonly openingByWeekday: number[][];
  protected readonly unavailableByWeekday: number[][];
  protected readonly preferredByWeekday: number[][];
  protected readonly availabilityByWeekday: (number[][] | undefined)[] = [];
  /** Per day (shared by every step): closures, the patient's unavailable spans, staff hours (epoch minutes). */
  protected readonly closuresByDay: ({ span: Span; reason: string }[] | undefined)[] = [];
  protected readonly patientOffByDay: (Span[] | undefined)[] = [];
  protected readonly staffHoursByDay: (Span[] | undefined)[][] = [];
  protected readonly unavailableDates: Set<string>;

  constructor(req: ScheduleRequest) {
    super(req);
    this.g = req.granularityMinutes ?? DEFAULT_GRANULARITY;
    this.unavailableDates = new Set(req.patient.unavailableDates);
    this.openingByWeekday = byWeekday(req.openingHours);
    this.unavailableByWeekday = byWeekday(req.patient.unavailable);
    this.preferredByWeekday = byWeekday(req.patient.preferredTimes);
    const stepIds = new Map<string, number>();
    this.stepOf = req.sessions.map((s) => {
      let step = stepIds.get(s.stepKey);
      if (step === undefined) stepIds.set(s.stepKey, (step = stepIds.size));
      return step;
    });
    this.dayEvals = [...stepIds.keys()].map(() => []);
  }

  /** Local minute pairs of the i-th staff member's availability on a weekday. */
  protected availabilityOn(i: number, weekday: number): number[] {
    return (this.availabilityByWeekday[i] ??= byWeekday(this.req.staff[i].availability))[weekday] ?? [];
  }

  /** The i-th staff member's hours on a day, in epoch minutes. */
  protected staffHoursOn(i: number, day: number): Span[] {
    const row = (this.staffHoursByDay[i] ??= []);
    let hours = row[day];
    if (!hours) {
      const m = this.availabilityOn(i, this.cal.days[day].weekday);
      hours = [];
      for (let k = 0; k < m.length; k += 2)
        hours.push({ start: this.epochOf(day, m[k]), end: this.epochOf(day, m[k + 1]) });
      row[day] = hours;
    }
    return hours;
  }

  /** Whether the i-th staff member is present over all of [start, end) on a day. */
  protected present(i: number, day: number, start: number, end: number): boolean {
    const hours = this.staffHoursOn(i, day);
    for (let k = 0; k < hours.length; k++) if (hours[k].start <= start && end <= hours[k].end) return true;
    return false;
  }

  /** An interval bound: a wall time inside a skipped gap means the first instant after it. */
  protected epochOf(day: number, wall: number): number {
    if (wall >= 1440) return day + 1 < this.cal.days.length ? this.cal.days[day + 1].startMinute : this.cal.endMinute;
    return this.cal.toEpochOrNext(day, wall);
  }

  protected closuresOn(day: number): { span: Span; reason: string }[] {
    const known = this.closuresByDay[day];
    if (known) return known;
    const date = this.cal.days[day].date;
    const out: { span: Span; reason: string }[] = [];
    for (const c of this.req.closures as EngineClosure[]) {
      if (date < c.startDate || date > c.endDate) continue;
      const from = c.startTime && date === c.startDate ? toMinutes(c.startTime) : 0;
      const to = c.endTime && date === c.endDate ? toMinutes(c.endTime) : 1440;
      out.push({ span: { start: this.epochOf(day, from), end: this.epochOf(day, to) }, reason: c.reason });
    }
    return (this.closuresByDay[day] = out);
  }

  protected patientOffOn(day: number): Span[] {
    let off = this.patientOffByDay[day];
    if (!off) {
      const m = this.unavailableByWeekday[this.cal.days[day].weekday];
      off = [];
      for (let k = 0; k < m.length; k += 2)
        off.push({ start: this.epochOf(day, m[k]), end: this.epochOf(day, m[k + 1]) });
      this.patientOffByDay[day] = off;
    }
    return off;
  }

  protected evalDay(si: number, day: number): DayEval {
    const s = this.req.sessions[si];
    if (day < 0 || day >= this.cal.days.length) {
      const key = `${s.stepKey}|${day}`;
      let outside = this.dayEvalsOutside.get(key);
      if (!outside) this.dayEvalsOutside.set(key, (outside = { slots: [], reasons: new Map() }));
      return outside;
    }
    const row = this.dayEvals[this.stepOf[si]];
    const cached = row[day];
    if (cached) return cached;
    const ev: DayEval = { slots: [], reasons: new Map() };
    row[day] = ev;

    const d = this.cal.days[day];
    const opening = this.openingByWeekday[d.weekday];
    if (opening.length === 0) return (ev.reasons.set('CLOSED', 1), ev);
    if (s.weekdays && !s.weekdays.includes(d.weekday)) return (ev.reasons.set('WEEKDAY_NOT_ALLOWED', 1), ev);
    if (this.unavailableDates.has(d.date)) return (ev.reasons.set('PATIENT_UNAVAILABLE', 1), ev);

    const closures = this.closuresOn(day);
    const patientOff = this.patientOffOn(day);
    const staffOfRole = s.staffRole ? (this.staffOfRole.get(s.staffRole) ?? []) : [];
    const occupy = s.durationMinutes + s.recoveryMinutes;
    const now = this.req.now;
    const g = this.g;
    // Refusals counted per code, reported in the order first met.
    const counts = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    // Start staggering, as far as the bookings go (only sessions that hold a chair are starts).
    const staggered = s.needsChair && this.startCounts !== null;
    const staffStaggered = staggered && this.maxStaffStarts !== null;
    const seen: number[] = [];
    const refuse = (code: number) => {
      if (counts[code]++ === 0) seen.push(code);
    };

    for (let k = 0; k < opening.length; k += 2) {
      const open = opening[k];
      const close = opening[k + 1];
      const closeAt = this.epochOf(day, close);
      for (let wall = Math.ceil(open / g) * g; wall < close; wall += g) {
        const start = this.cal.toEpoch(day, wall);
        if (start === null) continue; // skipped by a clock change: not a time anyone can be there
        const end = start + occupy;
        if (end > closeAt) break;
        if (start < now) {
          refuse(R_IN_THE_PAST);
          continue;
        }
        let closure: { span: Span; reason: string } | undefined;
        for (let c = 0; c < closures.length; c++) {
          if (closures[c].span.start < end && start < closures[c].span.end) {
            closure = closures[c];
            break;
          }
        }
        if (closure) {
          refuse(R_CLOSURE);
          ev.closure = closure.reason;
          continue;
        }
        let off = false;
        for (let p = 0; p < patientOff.length && !off; p++)
          off = patientOff[p].start < end && start < patientOff[p].end;
        if (off) {
          refuse(R_PATIENT_UNAVAILABLE);
          continue;
        }
        if (this.patientBusy.overlaps(start, end)) {
          refuse(R_PATIENT_BUSY);
          continue;
        }
        if (s.needsChair && !this.anyChairFree(start, end)) {
          refuse(R_NO_CHAIR);
          continue;
        }
        if (staggered && !this.bookedStartsFree(start)) {
          refuse(R_STARTS_AT_LIMIT);
          continue;
        }
        if (s.staffRole) {
          let anyPresent = false;
          let anySeat = false;
          let free = false;
          for (let x = 0; x < staffOfRole.length && !free; x++) {
            const i = staffOfRole[x];
            if (!this.present(i, day, start, end)) continue;
            anyPresent = true;
            const seat = this.freeSeat(i, start, end, false) !== null;
            anySeat ||= seat;
            free = seat && (!staffStaggered || this.bookedStaffStartsFree(i, start));
          }
          if (!anyPresent) {
            refuse(R_NO_STAFF);
            continue;
          }
          if (!free) {
            refuse(anySeat ? R_STARTS_AT_LIMIT : R_STAFF_AT_CAPACITY);
            continue;
          }
        }
        ev.slots.push({ start, wall });
      }
    }
    for (const code of seen) ev.reasons.set(CODES[code], counts[code]);
    return ev;
  }

  /** Free chairs and present, unsaturated staff of a slot, worked out once when first needed. */
  protected resourcesOf(si: number, day: number, slot: Slot): { chairs: string[]; staff: string[] } {
    if (!slot.chairs || !slot.staff) {
      const s = this.req.sessions[si];
      const start = slot.start;
      const end = start + s.durationMinutes + s.recoveryMinutes;
      const chairs: string[] = [];
      if (s.needsChair)
        for (let i = 0; i < this.chairSlot.length; i++)
          if (!this.chairIndex(i).overlaps(start, end)) chairs.push(this.req.chairs[i].id);
      const staff: string[] = [];
      if (s.staffRole) {
        const staffStaggered = s.needsChair && this.maxStaffStarts !== null;
        for (const i of this.staffOfRole.get(s.staffRole) ?? []) {
          if (
            this.present(i, day, start, end) &&
            this.freeSeat(i, start, end, false) !== null &&
            (!staffStaggered || this.bookedStaffStartsFree(i, start))
          )
            staff.push(this.req.staff[i].id);
        }
      }
      slot.chairs = chairs;
      slot.staff = staff;
    }
    return { chairs: slot.chairs, staff: slot.staff };
  }

  /** The slots of the (only) session on each day of the calendar. */
  freeSlots(days: number): FreeSlot[] {
    const out: FreeSlot[] = [];
    for (let day = 0; day < days; day++) {
      for (const slot of this.evalDay(0, day).slots) {
        const free = this.resourcesOf(0, day, slot);
        out.push({
          start: slot.start,
          localDate: this.cal.days[day].date,
          localTime: hhmm(slot.wall),
          chairIds: free.chairs,
          staffIds: free.staff,
        });
      }
    }
    return out;
  }
}
