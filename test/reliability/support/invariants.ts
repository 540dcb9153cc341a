import type { DataSource } from 'typeorm';

// ---------------------------------------------------------------------------------------------
// What the database must hold after any storm, crash or outage, checked with SQL only. Each check
// returns a list of human-readable violations, so that `expect(problems).toEqual([])` shows what
// broke instead of a bare count.
// ---------------------------------------------------------------------------------------------

export const ACTIVE_STATUSES = `('scheduled', 'checked_in', 'completed')`;

/** Every event type the triggers write. */
export const ALL_EVENT_TYPES = [
  'session.created',
  'session.updated',
  'session.cancelled',
  'plan.booked',
  'plan.adjusted',
];

type Query = Pick<DataSource, 'query'>;

/**
 * A webhook endpoint written directly (the webhook API is not needed for the outbox to fill: the
 * triggers write one message per active, subscribed endpoint). Delivery stays off in these tests.
 */
export async function addWebhookEndpoint(
  db: Query,
  clinicId: string,
  eventTypes: string[] = ALL_EVENT_TYPES,
): Promise<string> {
  const [row] = await db.query(
    `INSERT INTO webhook_endpoints (clinic_id, url, event_types, secret) VALUES ($1, 'http://127.0.0.1:9/x', $2, 'whsec_test') RETURNING id`,
    [clinicId, eventTypes],
  );
  return row.id as string;
}

/** Pairs of active sessions of the clinic that overlap on a chair, on the patient or on a staff seat. */
export async function overlappingSessions(db: Query, clinicId: string): Promise<string[]> {
  const rows: { a: string; b: string; on: string }[] = await db.query(
    `SELECT a.id AS a, b.id AS b,
            CASE WHEN a.chair_id = b.chair_id THEN 'chair' WHEN a.patient_id = b.patient_id THEN 'patient' ELSE 'staff seat' END AS on
       FROM sessions a JOIN sessions b ON b.clinic_id = a.clinic_id AND a.id < b.id AND a.during && b.during
      WHERE a.clinic_id = $1 AND a.status IN ${ACTIVE_STATUSES} AND b.status IN ${ACTIVE_STATUSES}
        AND (a.chair_id = b.chair_id OR a.patient_id = b.patient_id OR (a.staff_id = b.staff_id AND a.staff_seat = b.staff_seat))`,
    [clinicId],
  );
  return rows.map((r) => `sessions ${r.a} and ${r.b} overlap on the ${r.on}`);
}

/**
 * Every plan holds its whole series (booked in one piece): `expected` sessions with distinct refs,
 * each created (revision 1 in the change log) in one and the same transaction as all the others.
 */
export async function incompletePlans(db: Query, clinicId: string, expected: number): Promise<string[]> {
  const rows: { id: string; n: number; refs: number; txids: number }[] = await db.query(
    `SELECT p.id, count(s.id)::int AS n, count(DISTINCT s.ref)::int AS refs,
            (SELECT count(DISTINCT c.txid)::int FROM session_changes c WHERE c.clinic_id = p.clinic_id AND c.plan_id = p.id AND c.change = 'created') AS txids
       FROM plans p LEFT JOIN sessions s ON s.clinic_id = p.clinic_id AND s.plan_id = p.id
      WHERE p.clinic_id = $1 GROUP BY p.clinic_id, p.id`,
    [clinicId],
  );
  const problems = rows
    .filter((r) => r.n !== expected || r.refs !== expected || r.txids !== 1)
    .map(
      (r) => `plan ${r.id} has ${r.n} sessions (${r.refs} refs, created in ${r.txids} transactions), not ${expected}`,
    );
  const [{ n: orphans }] = await db.query(
    `SELECT count(*)::int AS n FROM sessions s WHERE s.clinic_id = $1 AND NOT EXISTS (SELECT 1 FROM plans p WHERE p.clinic_id = s.clinic_id AND p.id = s.plan_id)`,
    [clinicId],
  );
  if (orphans) problems.push(`${orphans} sessions belong to no plan`);
  return problems;
}

/**
 * The change log holds, for every session, exactly one row per committed change: revisions 1..version
 * in order, the first one `created`; and no row for a change that is not in `sessions`.
 */
export async function changeLogProblems(db: Query, clinicId: string): Promise<string[]> {
  const rows: { id: string; version: number; status: string; revs: (number | null)[]; kinds: (string | null)[] }[] =
    await db.query(
      `SELECT s.id, s.version, s.status, array_agg(c.revision ORDER BY c.seq) AS revs, array_agg(c.change ORDER BY c.seq) AS kinds
       FROM sessions s LEFT JOIN session_changes c ON c.clinic_id = s.clinic_id AND c.session_id = s.id
      WHERE s.clinic_id = $1 GROUP BY s.id, s.version, s.status`,
      [clinicId],
    );
  const problems: string[] = [];
  for (const r of rows) {
    const want = Array.from({ length: r.version }, (_, i) => i + 1);
    if (JSON.stringify(r.revs) !== JSON.stringify(want))
      problems.push(`session ${r.id} (version ${r.version}) has change revisions ${JSON.stringify(r.revs)}`);
    else if (r.kinds[0] !== 'created') problems.push(`session ${r.id}: first change is ${r.kinds[0]}`);
    else if (r.kinds.slice(1).includes('created')) problems.push(`session ${r.id}: created twice`);
    else if (r.status === 'cancelled' && !r.kinds.includes('cancelled'))
      problems.push(`session ${r.id} is cancelled but no change says so`);
    else if (r.status !== 'cancelled' && r.kinds.includes('cancelled'))
      problems.push(`session ${r.id} is ${r.status} but a change says cancelled`);
  }
  const [{ n: strays }] = await db.query(
    `SELECT count(*)::int AS n FROM session_changes c
      WHERE c.clinic_id = $1 AND c.change <> 'deleted' AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.clinic_id = c.clinic_id AND s.id = c.session_id)`,
    [clinicId],
  );
  if (strays) problems.push(`${strays} change rows name sessions that do not exist`);
  return problems;
}

/**
 * The outbox matches what committed, as multisets: per subscribed active endpoint, one
 * session.* message per change row (type, session id, revision), one plan.booked per plan and one
 * plan.adjusted per adjustment entry — nothing missing, nothing twice, nothing extra.
 */
export async function outboxProblems(db: Query, clinicId: string): Promise<string[]> {
  const expected = `
    SELECT e.id AS endpoint_id, x.event_type, x.subject, x.rev
      FROM webhook_endpoints e
      JOIN (
        SELECT CASE c.change WHEN 'created' THEN 'session.created' WHEN 'updated' THEN 'session.updated' ELSE 'session.cancelled' END AS event_type,
               c.session_id::text AS subject, c.revision AS rev
          FROM session_changes c WHERE c.clinic_id = $1
        UNION ALL
        SELECT 'plan.booked', p.id::text, 1 FROM plans p WHERE p.clinic_id = $1
        UNION ALL
        SELECT 'plan.adjusted', a.id::text, a.plan_version FROM plan_adjustments a WHERE a.clinic_id = $1
      ) x ON x.event_type = ANY (e.event_types)
     WHERE e.clinic_id = $1 AND e.status = 'active'`;
  const actual = `
    SELECT m.endpoint_id, m.event_type,
           CASE WHEN m.event_type = 'plan.adjusted' THEN d->>'adjustmentId' ELSE d->>'id' END AS subject,
           CASE WHEN m.event_type LIKE 'session.%' THEN (d->>'revision')::int ELSE (d->>'version')::int END AS rev
      FROM webhook_messages m CROSS JOIN LATERAL (SELECT m.payload::jsonb -> 'data' AS d) p
     WHERE m.clinic_id = $1`;
  const missing: Record<string, unknown>[] = await db.query(`(${expected}) EXCEPT ALL (${actual})`, [clinicId]);
  const extra: Record<string, unknown>[] = await db.query(`(${actual}) EXCEPT ALL (${expected})`, [clinicId]);
  const fmt = (r: Record<string, unknown>) => `${r.event_type} ${r.subject} #${r.rev} for endpoint ${r.endpoint_id}`;
  return [...missing.map((r) => `missing: ${fmt(r)}`), ...extra.map((r) => `extra: ${fmt(r)}`)];
}

/**
 * Every change after booking is one entry of the plan's adjustment log: the entries' plan versions
 * are exactly 2..plans.version, and every session's revision is 1 + the number of entries that
 * list it — a change applied without its entry, or an entry whose changes were not all applied,
 * breaks the count.
 */
export async function adjustmentLogProblems(db: Query, clinicId: string): Promise<string[]> {
  const plans: { id: string; version: number; versions: (number | null)[] }[] = await db.query(
    `SELECT p.id, p.version, array_agg(a.plan_version ORDER BY a.plan_version) AS versions
       FROM plans p LEFT JOIN plan_adjustments a ON a.clinic_id = p.clinic_id AND a.plan_id = p.id
      WHERE p.clinic_id = $1 GROUP BY p.id, p.version`,
    [clinicId],
  );
  const problems: string[] = [];
  for (const p of plans) {
    const want = Array.from({ length: p.version - 1 }, (_, i) => i + 2);
    const got = p.versions.filter((v) => v !== null);
    if (JSON.stringify(got) !== JSON.stringify(want))
      problems.push(`plan ${p.id} (version ${p.version}) has adjustment versions ${JSON.stringify(got)}`);
  }
  const sessions: { id: string; version: number; entries: number }[] = await db.query(
    `SELECT s.id, s.version,
            (SELECT count(*)::int FROM plan_adjustments a
              WHERE a.clinic_id = s.clinic_id AND a.plan_id = s.plan_id AND a.changes @> jsonb_build_array(jsonb_build_object('sessionId', s.id::text))) AS entries
       FROM sessions s WHERE s.clinic_id = $1`,
    [clinicId],
  );
  for (const s of sessions) {
    if (s.version !== 1 + s.entries)
      problems.push(`session ${s.id} is at revision ${s.version} but ${s.entries} adjustment entries list it`);
  }
  return problems;
}

/** All of the above, labelled; empty when the clinic's data is consistent. */
export async function allProblems(db: Query, clinicId: string, seriesLength?: number): Promise<string[]> {
  const label = (what: string) => (ps: string[]) => ps.map((p) => `${what}: ${p}`);
  return [
    ...label('overlap')(await overlappingSessions(db, clinicId)),
    ...(seriesLength === undefined ? [] : label('series')(await incompletePlans(db, clinicId, seriesLength))),
    ...label('change log')(await changeLogProblems(db, clinicId)),
    ...label('adjustments')(await adjustmentLogProblems(db, clinicId)),
    ...label('outbox')(await outboxProblems(db, clinicId)),
  ];
}
