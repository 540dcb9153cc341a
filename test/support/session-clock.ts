import { DateTime } from 'luxon';
import type { TestApp } from './test-app.js';

/**
 * Runs `work` with the clock at the session's start (`end`: the end of its recovery) when that is
 * still ahead (check-in opens on the session's local day, completion needs it to have begun), then
 * puts the clock back. For tests about something else than those rules; not for requests running
 * side by side (there is one clock).
 */
export async function atSessionTime<T>(
  t: Pick<TestApp, 'dataSource' | 'clock'>,
  sessionId: string,
  work: () => Promise<T>,
  at: 'start' | 'end' = 'start',
): Promise<T> {
  const rows: { starts_at: Date; occupied_until: Date }[] = await t.dataSource.query(
    'SELECT starts_at, occupied_until FROM sessions WHERE id::text = $1',
    [sessionId],
  );
  const before = t.clock.now();
  const when = rows[0] ? (at === 'start' ? rows[0].starts_at : rows[0].occupied_until) : undefined;
  if (!when || when.getTime() <= before.toMillis()) return work();
  t.clock.set(DateTime.fromJSDate(when, { zone: 'utc' }));
  try {
    return await work();
  } finally {
    t.clock.set(before);
  }
}
