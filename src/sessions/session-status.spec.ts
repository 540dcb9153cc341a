import { SESSION_STATUSES, type SessionStatus } from './entities/session.entity.js';
import { canTransition, FINAL_STATUSES, SESSION_TRANSITIONS } from './session-status.js';

// The session lifecycle: booked `scheduled`; the patient arrives (`checked_in`) and is treated
// (`completed`), or does not come (`no_show`), or the session is called off (`cancelled`, also after
// check-in when treatment does not go ahead). completed, no_show and cancelled are final.

const ALLOWED: ReadonlySet<string> = new Set([
  'scheduled->checked_in',
  'scheduled->no_show',
  'scheduled->cancelled',
  'checked_in->completed',
  'checked_in->cancelled',
]);

const STATUSES: SessionStatus[] = ['scheduled', 'checked_in', 'completed', 'no_show', 'cancelled'];
const PAIRS: [SessionStatus, SessionStatus, boolean][] = STATUSES.flatMap((from) =>
  STATUSES.map((to): [SessionStatus, SessionStatus, boolean] => [from, to, ALLOWED.has(`${from}->${to}`)]),
);

describe('session status transitions', () => {
  it('covers exactly the five statuses of the entity', () => {
    expect([...SESSION_STATUSES].sort()).toEqual([...STATUSES].sort());
    expect(Object.keys(SESSION_TRANSITIONS).sort()).toEqual([...STATUSES].sort());
    expect(PAIRS).toHaveLength(25);
  });

  it.each(PAIRS)('%s -> %s: allowed %s', (from, to, allowed) => {
    expect(canTransition(from, to)).toBe(allowed);
  });

  it('no status may follow itself', () => {
    for (const s of STATUSES) expect(canTransition(s, s)).toBe(false);
  });

  it('nothing leads back to scheduled, and completed is reached only from checked_in', () => {
    for (const s of STATUSES) expect(canTransition(s, 'scheduled')).toBe(false);
    expect(STATUSES.filter((s) => canTransition(s, 'completed'))).toEqual(['checked_in']);
    expect(STATUSES.filter((s) => canTransition(s, 'no_show'))).toEqual(['scheduled']);
  });

  it('final statuses are completed, no_show and cancelled, and have no way out', () => {
    expect([...FINAL_STATUSES].sort()).toEqual(['cancelled', 'completed', 'no_show']);
    for (const from of FINAL_STATUSES) {
      expect(SESSION_TRANSITIONS[from]).toEqual([]);
      for (const to of STATUSES) expect(canTransition(from, to)).toBe(false);
    }
  });

  it('the non-final statuses each have a way out, and every final status is reachable from scheduled', () => {
    for (const s of STATUSES.filter((x) => !FINAL_STATUSES.includes(x)))
      expect(SESSION_TRANSITIONS[s].length).toBeGreaterThan(0);
    const reachable = new Set<SessionStatus>(['scheduled']);
    for (let changed = true; changed;) {
      changed = false;
      for (const from of [...reachable]) {
        for (const to of SESSION_TRANSITIONS[from]) {
          if (!reachable.has(to)) {
            reachable.add(to);
            changed = true;
          }
        }
      }
    }
    expect([...reachable].sort()).toEqual([...STATUSES].sort());
  });
});
