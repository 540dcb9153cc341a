export type Role = 'front_desk' | 'clinician' | 'admin';

export interface Interval {
  weekday: number;
  start: string;
  end: string;
}
export interface Clinic {
  id: string;
  name: string;
  timezone: string;
  openingHours: Interval[];
}
export interface Chair {
  id: string;
  name: string;
  active: boolean;
}
export interface Staff {
  id: string;
  name: string;
  role: string;
  active: boolean;
  maxConcurrentPatients: number;
}
export interface Closure {
  id: string;
  startDate: string;
  endDate: string;
  startTime: string | null;
  endTime: string | null;
  reason: string | null;
}
export interface Dose {
  drug?: string;
  unit: string;
  amount: number;
  totalMg?: number | null;
  infusionMinutes?: number;
}
export type SessionStatus = 'scheduled' | 'checked_in' | 'completed' | 'no_show' | 'cancelled';
export interface SessionView {
  id: string;
  planId: string;
  patientId: string;
  ref: string;
  stepKey: string;
  kind: string;
  label: string;
  start: string;
  end: string;
  occupiedUntil: string;
  localDate: string;
  localTime: string;
  chair: { id: string; name: string } | null;
  staff: { id: string; name: string } | null;
  dose: Dose | null;
  status: SessionStatus;
  version: number;
  checkedInAt: string | null;
  actualStart: string | null;
  actualEnd: string | null;
  doseGiven: { amount: number; unit: string } | null;
  statusReason: string | null;
  patient?: { id: string; fullName: string };
}
export interface Patient {
  id: string;
  fullName: string;
  dateOfBirth: string;
  email: string | null;
  phone: string | null;
  /** The clinician-confirmed weight: the one mg/kg doses use. */
  weightKg: number | null;
  weightConfirmedAt?: string | null;
  weightConfirmedBy?: string | null;
  /** A weight the front desk entered, waiting for a clinician's confirmation (never used for doses). */
  pendingWeightKg?: number | null;
  pendingWeightAt?: string | null;
  pendingWeightBy?: string | null;
  notes: string | null;
  preferredTimes: Interval[];
  unavailable: Interval[];
  unavailableDates: string[];
  version: number;
}
export interface Plan {
  id: string;
  patientId: string;
  protocolId: string;
  protocolVersion: number;
  timezone: string;
  status: string;
  version: number;
  earliestStart: string;
  sessions: SessionView[];
}
export interface Page<T> {
  items: T[];
  nextCursor?: string | null;
}
export interface Step {
  key: string;
  kind: string;
  label: string;
  durationMinutes: number;
  recoveryMinutes: number;
  needsChair: boolean;
  staffRole: string;
  dose?: {
    drug: string;
    unit: string;
    amount: number;
    min?: number;
    max?: number;
    infusionMinutes?: number;
    escalationPerOccurrence?: number;
  };
  repeat: number;
  repeatMin?: number;
  repeatMax?: number;
  after?: { step: string; gap: Gap };
  spacing?: Gap;
  attachedTo?: { step: string; position: string; gap: Gap };
  weekdays?: number[];
  sameTimeOfDay?: boolean;
  [more: string]: unknown;
}
export interface Gap {
  unit: 'days' | 'hours';
  min: number;
  target: number;
  max: number;
}
export interface Protocol {
  id: string;
  name: string;
  indication?: string | null;
  description?: string | null;
  draft: { revision: number; changed: boolean; steps: Step[] };
  versions: { version: number; publishedAt: string; retiredAt: string | null }[];
  latestVersion?: number | null;
  [more: string]: unknown;
}
