import type { BookingIndex } from './booking-index.js';

// The engine owns the shapes it reads: it imports nothing of the app. The protocol model's
// `tailor` (src/protocols/domain/tailor.ts) produces sessions that extend these.

/** A recurring interval in local time: ISO weekday (1 = Monday … 7 = Sunday), "HH:mm" to "HH:mm". */
export interface WeeklyInterval {
  weekday: number;
  start: string;
  end: string;
}

/**
 * A gap between two sessions. In `days`: whole local calendar days between the two sessions'
 * dates. In `hours`: elapsed time from the end of the earlier session (its recovery included) to
 * the start of the later one.
 */
export interface Gap {
  min: number;
  target: number;
  max: number;
  unit: 'hours' | 'days';
}

/** How one session must sit relative to an earlier-listed session. */
export interface SessionConstraint {
  /** The other session's ref, e.g. `infusion#2`. */
  ref: string;
  /** `after`: this session follows `ref`; `before`: it precedes it. */
  relation: 'after' | 'before';
  gap: Gap;
  sameDay: boolean;
}

/**
 * A session's dose, carried through to its placement untouched (the engine never reads it). The
 * units are the protocol model's (`DOSE_UNITS`); tailor's `PlannedDose` extends this, so a unit
 * added there without here fails to compile.
 */
export interface PlannedDose {
  drug: string;
  amount: number;
  unit: 'mg/kg' | 'mg';
  infusionMinutes: number;
  totalMg: number;
}

/** One concrete session the scheduler must place. */
export interface SessionToPlace {
  /** `<stepKey>#<occurrence>`: stable within a plan. */
  ref: string;
  stepKey: string;
  occurrence: number;
  occurrences: number;
  kind: string;
  label: string;
  durationMinutes: number;
  recoveryMinutes: number;
  needsChair: boolean;
  /** The staff role the session needs (matched against `EngineStaff.role`), or none. */
  staffRole: string | null;
  dose: PlannedDose | null;
  sameTimeOfDay: boolean;
  weekdays: number[] | null;
  /** Every constraint refers to a session listed earlier in the result. */
  constraints: SessionConstraint[];
}

/** A closure in the clinic's local terms (whole days, or start date+time to end date+time). */
export interface EngineClosure {
  startDate: string;
  endDate: string;
  startTime: string | null;
  endTime: string | null;
  reason: string;
}

export interface EngineStaff {
  id: string;
  name: string;
  role: string;
  availability: WeeklyInterval[];
  maxConcurrentPatients: number;
}

export interface EngineChair {
  id: string;
  name: string;
}

/** An already booked session, as the resources it holds: [start, end) in epoch minutes, recovery included. */
export interface BookedSession {
  start: number;
  end: number;
  chairId: string | null;
  staffId: string | null;
  patientId: string;
  /**
   * The staff seat it holds (1…limit), as the database numbers them. When every booking of a
   * staff member has one, capacity means "a seat is free" — exactly what the database enforces
   * (seats can fragment: two patients at once may still leave no single seat free). Without
   * seats, capacity is the peak number of patients at once.
   */
  staffSeat?: number | null;
}

export interface EnginePatient {
  id: string;
  unavailable: WeeklyInterval[];
  unavailableDates: string[];
  preferredTimes: WeeklyInterval[];
}

/**
 * A session whose place is decided: `check: false` is a fact kept as it is (a past or earlier
 * session, never re-checked); `check: true` forces its start (and chair/staff when given) but
 * must still satisfy every rule (a session being rescheduled to a chosen time).
 */
export interface FixedPlacement {
  start: number;
  chairId: string | null;
  staffId: string | null;
  staffSeat?: number | null;
  check: boolean;
  /** false for a cancelled or missed session: an anchor for gaps, but it holds no chair, staff or patient time. */
  holds?: boolean;
}

export interface ScheduleRequest {
  timezone: string;
  openingHours: WeeklyInterval[];
  closures: EngineClosure[];
  /** Active chairs, in preference order. */
  chairs: EngineChair[];
  /** Active staff, in preference order. */
  staff: EngineStaff[];
  /** Sessions already booked in the horizon (any patient). */
  booked: BookedSession[];
  /**
   * The same bookings already indexed (a caller planning many requests keeps one up to date);
   * when given, `booked` is not read. It may hold bookings outside the horizon too.
   */
  bookedIndex?: BookingIndex;
  patient: EnginePatient;
  /** From `tailor`: dependency order, every constraint pointing at an earlier session. */
  sessions: SessionToPlace[];
  /** The first local date the plan may use (YYYY-MM-DD). */
  earliestStart: string;
  /** Now, as epoch minutes: nothing starts before it. */
  now: number;
  /** Candidate start times are multiples of this many local minutes (default 15). */
  granularityMinutes?: number;
  /** The first session must start within this many days of earliestStart (default 14). */
  startWindowDays?: number;
  /** How far past earliestStart to look for a workable start when refusing (default 120 days). */
  probeDays?: number;
  /** Days the calendar covers; must include the whole plan (computed by `horizonDays`). */
  horizonDays: number;
  /** Search budget in placement attempts (default 200,000). */
  maxNodes?: number;
  /** Sessions (by ref) whose placement is decided (see FixedPlacement). */
  fixed?: Record<string, FixedPlacement>;
  /**
   * Start staggering: the most sessions that hold a chair (infusion starts) allowed to start in
   * one 15-minute slot (see `startSlot`), counting bookings and the plan's own sessions. Unset or
   * null: no limit.
   */
  maxStartsPerSlot?: number | null;
  /** The same per staff member of such a session (a nurse starts one patient at a time). Unset or null: no limit. */
  maxStartsPerStaffPerSlot?: number | null;
  /**
   * 'balanced': among the times a day allows (after the gap targets, the same time of day and the
   * patient's preferred times), a session holding a chair prefers the time when the fewest chairs
   * are occupied, which flattens the clinic's day; and of its days within one day of a gap's
   * target, the one whose chairs the bookings hold least (by whole tenths of its opening hours),
   * which flattens the weeks. An explicit `prefer` wins over both. 'off' or unset: the earliest
   * time on the target day (the plans from before levelling; levelling-off.spec.ts).
   */
  levelling?: 'off' | 'balanced';
  /** Preferred start per ref: a session is placed as near it as the rules allow (it moves only as far as needed). */
  prefer?: Record<string, number>;
}

export interface PlacedSession {
  ref: string;
  stepKey: string;
  occurrence: number;
  occurrences: number;
  kind: SessionToPlace['kind'];
  label: string;
  /** Epoch minutes. */
  start: number;
  /** End of the session itself. */
  end: number;
  /** End of the time it holds the chair/patient/staff: end + recovery. */
  occupiedUntil: number;
  /** Local date (YYYY-MM-DD) and wall time (HH:mm) of the start. */
  localDate: string;
  localTime: string;
  chairId: string | null;
  staffId: string | null;
  /** The lowest seat free for the whole session, when seats are known (see BookedSession). */
  staffSeat?: number | null;
  dose: PlannedDose | null;
}

export type BindingCode =
  | 'CLOSED'
  | 'CLOSURE'
  | 'WEEKDAY_NOT_ALLOWED'
  | 'PATIENT_UNAVAILABLE'
  | 'PATIENT_BUSY'
  | 'NO_CHAIR'
  | 'NO_STAFF'
  | 'STAFF_AT_CAPACITY'
  | 'STARTS_AT_LIMIT'
  | 'IN_THE_PAST'
  | 'GAP'
  | 'SEARCH_LIMIT';

/** The constraint that stopped the plan, in words a front desk can act on. */
export interface BindingConstraint {
  code: BindingCode;
  message: string;
  /** The session that could not be placed, e.g. `infusion#4`. */
  ref: string;
  /** A date the constraint concerns, when there is one (e.g. a closure). */
  date?: string;
}

export type ScheduleResult =
  | { kind: 'planned'; sessions: PlacedSession[]; nodes: number }
  | { kind: 'infeasible'; binding: BindingConstraint; earliestStart: string | null; nodes: number };
