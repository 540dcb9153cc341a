import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { param, raw, runSql, sql } from '../common/database/sql.js';
import type { BookedSession } from '../scheduling/engine/types.js';
import { ACTIVE_SESSION_STATUSES } from '../sessions/entities/session.entity.js';

/** A session that holds its chair, staff seat and patient (the statuses the exclusion constraints cover). */
export const ACTIVE = `status IN (${ACTIVE_SESSION_STATUSES.map((s) => `'${s}'`).join(', ')})`;
const ACTIVE_SQL = raw(ACTIVE);
const OTHER_PATIENT = '(another patient)';

export interface SeatUse {
  staffId: string;
  seat: number;
  start: Date;
  end: Date;
}

/** What {@link BookingsRepository.snapshot} and {@link BookingsRepository.changedSince} read, as stored. */
export interface BookingsSnapshotRow {
  /** `pg_current_snapshot()`, taken by the same statement as the rows. */
  snap: string;
  /** `pg_postmaster_start_time()`. */
  server: string;
  /** The reading transaction's own id, when it has one. */
  own: string | null;
  /** id, start, occupied until (epoch minutes), chair, staff, patient, seat: ',' between fields, ';' between sessions. */
  packed: string | null;
}

// id, start, occupied until, chair, staff, patient, seat: one text value, ';' between sessions.
const PACK =
  raw(`string_agg(concat_ws(',', s.id, (date_part('epoch', s.starts_at) / 60)::int, (date_part('epoch', s.occupied_until) / 60)::int,
                                   coalesce(s.chair_id::text, ''), coalesce(s.staff_id::text, ''), s.patient_id, coalesce(s.staff_seat, 0)), ';')`);

/** Sessions `s` of the clinic holding something in [from, to), whole epoch minutes. */
function inWindow(clinic: unknown, from: unknown, to: unknown) {
  return sql`s.clinic_id = ${clinic} AND s.starts_at >= to_timestamp(${from}::bigint * 60) - interval '1 day' AND s.starts_at < to_timestamp(${to}::bigint * 60)
                   AND s.occupied_until > to_timestamp(${from}::bigint * 60) AND s.${ACTIVE_SQL}`;
}

/**
 * Reads of a clinic's bookings (its active sessions) as scheduling sees them: the engine's list,
 * the snapshots `BookingsCache` keeps, the seats and conflicts a booking checks. The sessions are
 * written with their plan (`PlansRepository`) and moved along their lifecycle by `SessionsRepository`.
 */
@Injectable()
export class BookingsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Every active session of the clinic overlapping [from, to), as integer epoch minutes
   * (decoding dates is most of the cost of this query; the gist index on (clinic_id, during) serves it).
   */
  async bookings(
    clinicId: string,
    from: Date,
    to: Date,
    ids: { chairs: string[]; staff: string[]; patientId: string },
    exclude: { sessionId?: string; planId?: string } = {},
    m?: EntityManager,
  ): Promise<BookedSession[]> {
    // Decoding is most of the cost: integer minutes, chair and staff as positions in the lists
    // the engine already has, the patient as a flag — all in one text value, six integers per
    // session, comma-separated (0 for "none"), split and parsed in one pass. Through the caller's
    // transaction when given one.
    // A session holds its resources at most a day (duration and recovery are each ≤ 12 h), so
    // starting no earlier than a day before `from` covers every overlap.
    const f = param(from);
    const rows = await runSql<{ packed: string | null }>(
      m ?? this.dataSource.manager,
      sql`SELECT string_agg(concat_ws(',', (date_part('epoch', starts_at) / 60)::int, (date_part('epoch', occupied_until) / 60)::int,
                                         coalesce(array_position(${ids.chairs}::uuid[], chair_id), 0), coalesce(array_position(${ids.staff}::uuid[], staff_id), 0),
                                         (patient_id = ${ids.patientId})::int, coalesce(staff_seat, 0)), ',') AS packed
               FROM sessions
              WHERE clinic_id = ${clinicId} AND starts_at >= ${f}::timestamptz - interval '1 day' AND starts_at < ${to}
                AND occupied_until > ${f} AND ${ACTIVE_SQL} AND id IS DISTINCT FROM ${exclude.sessionId ?? null} AND plan_id IS DISTINCT FROM ${exclude.planId ?? null}`,
    );
    const packed = rows[0]?.packed;
    if (!packed) return [];
    const n = packed.split(',').map(Number);
    const out: BookedSession[] = new Array(n.length / 6);
    for (let i = 0, k = 0; i < n.length; i += 6, k++) {
      out[k] = {
        start: n[i],
        end: n[i + 1],
        chairId: n[i + 2] === 0 ? null : ids.chairs[n[i + 2] - 1],
        staffId: n[i + 3] === 0 ? null : ids.staff[n[i + 3] - 1],
        // Other patients' sessions only matter for chairs and staff: a marker no patient id can equal.
        patientId: n[i + 4] === 1 ? ids.patientId : OTHER_PATIENT,
        staffSeat: n[i + 5] === 0 ? null : n[i + 5],
      };
    }
    return out;
  }

  /**
   * The clinic's active sessions over [from, to) (whole epoch minutes) packed as {@link BookingsSnapshotRow.packed},
   * with the snapshot they were read in, in one statement.
   */
  async snapshot(clinicId: string, from: number, to: number, m?: EntityManager): Promise<BookingsSnapshotRow> {
    const [row] = await runSql<BookingsSnapshotRow>(
      m ?? this.dataSource.manager,
      sql`SELECT pg_current_snapshot()::text AS snap, pg_postmaster_start_time()::text AS server, pg_current_xact_id_if_assigned()::text AS own,
              (SELECT ${PACK} FROM sessions s WHERE ${inWindow(param(clinicId), param(from), to)}) AS packed`,
    );
    return row;
  }

  /**
   * The sessions changed by transactions not visible in `snapshot`, read as of a new one: their ids
   * (`changed`, ',' between them) and those still active in [from, to), packed.
   * Each changed session is looked up by its key (the `OFFSET 0` keeps the planner from turning the
   * lookup into a scan of the clinic's whole window: on a clinic that filled faster than its
   * statistics were renewed, it estimated one row there and scanned 6,500 sessions, 30–700 ms).
   */
  async changedSince(
    clinicId: string,
    from: number,
    to: number,
    snapshot: string,
    m?: EntityManager,
  ): Promise<BookingsSnapshotRow & { changed: string | null }> {
    const clinic = param(clinicId);
    const snap = param(snapshot);
    const [row] = await runSql<BookingsSnapshotRow & { changed: string | null }>(
      m ?? this.dataSource.manager,
      sql`WITH ch AS (
         SELECT DISTINCT session_id FROM session_changes
          WHERE clinic_id = ${clinic} AND txid >= pg_snapshot_xmin(${snap}::pg_snapshot) AND NOT pg_visible_in_snapshot(txid, ${snap}::pg_snapshot))
       SELECT pg_current_snapshot()::text AS snap, pg_postmaster_start_time()::text AS server, pg_current_xact_id_if_assigned()::text AS own,
              (SELECT string_agg(session_id::text, ',') FROM ch) AS changed,
              (SELECT ${PACK} FROM ch CROSS JOIN LATERAL (SELECT x.* FROM sessions x WHERE x.clinic_id = ${clinic} AND x.id = ch.session_id OFFSET 0) s
                WHERE ${inWindow(clinic, param(from), to)}) AS packed`,
    );
    return row;
  }

  /** The clinic's active sessions holding a chair that overlap [from, to), as epoch-millisecond spans (no patient data). */
  async chairSpans(clinicId: string, from: Date, to: Date): Promise<{ start: number; end: number }[]> {
    // Sessions last at most a day: a range on the start (sessions_clinic_start_idx) finds every overlap.
    const f = param(from);
    const rows = await runSql<{ s: string; e: string }>(
      this.dataSource.manager,
      sql`SELECT (extract(epoch FROM starts_at) * 1000)::bigint AS s, (extract(epoch FROM occupied_until) * 1000)::bigint AS e
         FROM sessions
        WHERE clinic_id = ${clinicId} AND chair_id IS NOT NULL AND status IN ('scheduled', 'checked_in', 'completed')
          AND starts_at >= ${f}::timestamptz - interval '1 day' AND starts_at < ${to} AND occupied_until > ${f}
        ORDER BY starts_at`,
    );
    return rows.map((r) => ({ start: Number(r.s), end: Number(r.e) }));
  }

  /** Seats held by active sessions of these staff members overlapping [from, to). */
  async seatsInUse(m: EntityManager, clinicId: string, staffIds: string[], from: Date, to: Date): Promise<SeatUse[]> {
    if (staffIds.length === 0) return [];
    const rows = await runSql<{ staff_id: string; staff_seat: number; starts_at: Date; occupied_until: Date }>(
      m,
      sql`SELECT staff_id, staff_seat, starts_at, occupied_until FROM sessions
        WHERE clinic_id = ${clinicId} AND staff_id = ANY(${staffIds}) AND during && tstzrange(${from}, ${to}, '[)') AND ${ACTIVE_SQL}`,
    );
    return rows.map((r) => ({ staffId: r.staff_id, seat: r.staff_seat, start: r.starts_at, end: r.occupied_until }));
  }

  /**
   * The first active session in the way of one of these: on its chair or its patient, or one of
   * the sessions filling its staff member to their limit.
   */
  async firstConflict(
    clinicId: string,
    planned: {
      start: Date;
      end: Date;
      chairId: string | null;
      patientId: string;
      staffId: string | null;
      staffMax: number;
    }[],
  ): Promise<string | undefined> {
    const db = this.dataSource.manager;
    for (const p of planned) {
      const [row] = await runSql<{ id: string }>(
        db,
        sql`SELECT id FROM sessions
          WHERE clinic_id = ${clinicId} AND ${ACTIVE_SQL} AND during && tstzrange(${p.start}, ${p.end}, '[)') AND (chair_id = ${p.chairId} OR patient_id = ${p.patientId})
          ORDER BY starts_at LIMIT 1`,
      );
      if (row) return row.id;
      if (!p.staffId) continue;
      const busy = await runSql<{ id: string }>(
        db,
        sql`SELECT id FROM sessions
          WHERE clinic_id = ${clinicId} AND ${ACTIVE_SQL} AND during && tstzrange(${p.start}, ${p.end}, '[)') AND staff_id = ${p.staffId}
          ORDER BY starts_at`,
      );
      if (busy.length >= p.staffMax) return busy[0].id;
    }
    return undefined;
  }
}
