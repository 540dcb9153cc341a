import type { SessionStatus } from './entities/session.entity.js';

/**
 * Which status may follow which. A session is booked `scheduled`; the patient arrives
 * (`checked_in`) and is treated (`completed`), or does not come (`no_show`), or the session is
 * called off (`cancelled`, also after check-in when treatment does not go ahead). The last three
 * are final.
 */
export const SESSION_TRANSITIONS: Record<SessionStatus, SessionStatus[]> = {
  scheduled: ['checked_in', 'no_show', 'cancelled'],
  checked_in: ['completed', 'cancelled'],
  completed: [],
  no_show: [],
  cancelled: [],
};

export function canTransition(from: SessionStatus, to: SessionStatus): boolean {
  return SESSION_TRANSITIONS[from].includes(to);
}

/** Statuses after which nothing more happens to a session. */
export const FINAL_STATUSES: SessionStatus[] = ['completed', 'no_show', 'cancelled'];
