import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { FeedSession, FeedSessionStatus } from './feed-render.js';

export const FEED_SCOPES = ['clinic', 'chair', 'staff', 'patient'] as const;
export type FeedScope = (typeof FEED_SCOPES)[number];

export interface FeedRow {
  clinicId: string;
  id: string;
  scope: FeedScope;
  /** The chair, staff member or patient; null for a clinic feed. */
  scopeId: string | null;
  name: string | null;
  createdAt: Date;
  createdByKeyId: string | null;
  revokedAt: Date | null;
}

/** The API key that created a feed, as the feed list shows it. */
export interface FeedCreator {
  keyId: string;
  name: string;
  role: string;
  keyPrefix: string;
}

interface RawFeed {
  clinic_id: string;
  id: string;
  scope: FeedScope;
  scope_id: string | null;
  name: string | null;
  created_at: Date;
  created_by_key_id: string | null;
  revoked_at: Date | null;
}

const FEED_COLUMNS = 'clinic_id, id, scope, scope_id, name, created_at, created_by_key_id, revoked_at';

const toFeed = (r: RawFeed): FeedRow => ({
  clinicId: r.clinic_id,
  id: r.id,
  scope: r.scope,
  scopeId: r.scope_id,
  name: r.name,
  createdAt: r.created_at,
  createdByKeyId: r.created_by_key_id,
  revokedAt: r.revoked_at,
});

const TARGET_TABLE: Record<Exclude<FeedScope, 'clinic'>, string> = {
  chair: 'chairs',
  staff: 'staff_members',
  patient: 'patients',
};

/** What a feed's body depends on besides its sessions. */
export interface FeedSetup {
  clinic: { name: string; timezone: string; updatedAt: Date };
  /** Every chair and staff member of the clinic, inactive ones too (old sessions still name them). */
  chairs: Map<string, { name: string; updatedAt: Date }>;
  staff: Map<string, { name: string; updatedAt: Date }>;
  /** Only for a patient feed. */
  patient: { fullName: string; updatedAt: Date } | null;
}

export interface FeedSessionRow extends FeedSession {
  chairId: string | null;
  staffId: string | null;
}

/** Calendar feeds and the reads that render them. */
@Injectable()
export class CalendarRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Whether the chair, staff member or patient exists in this clinic. */
  async targetExists(
    m: EntityManager,
    clinicId: string,
    scope: Exclude<FeedScope, 'clinic'>,
    id: string,
  ): Promise<boolean> {
    const rows = await m.query(`SELECT 1 FROM ${TARGET_TABLE[scope]} WHERE clinic_id = $1 AND id = $2`, [clinicId, id]);
    return rows.length > 0;
  }

  async insert(
    m: EntityManager,
    row: Pick<FeedRow, 'clinicId' | 'scope' | 'scopeId' | 'name' | 'createdAt' | 'createdByKeyId'> & {
      tokenHash: Buffer;
    },
  ): Promise<FeedRow> {
    const [r]: RawFeed[] = await m.query(
      `INSERT INTO calendar_feeds (clinic_id, scope, scope_id, name, token_hash, created_at, created_by_key_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${FEED_COLUMNS}`,
      [row.clinicId, row.scope, row.scopeId, row.name, row.tokenHash, row.createdAt, row.createdByKeyId],
    );
    return toFeed(r);
  }

  /**
   * Locks the creating key's row against revocation until the feed's transaction ends (a revoke
   * then waits, and revokes the new feed too); false when the key is revoked meanwhile.
   */
  async holdCreatorKey(m: EntityManager, keyId: string): Promise<FeedCreator | null> {
    const rows: { id: string; name: string; role: string; key_prefix: string }[] = await m.query(
      `SELECT id, name, role, key_prefix FROM api_keys WHERE id = $1 AND revoked_at IS NULL FOR SHARE`,
      [keyId],
    );
    return rows[0]
      ? { keyId: rows[0].id, name: rows[0].name, role: rows[0].role, keyPrefix: rows[0].key_prefix }
      : null;
  }

  /** Active feeds of one clinic, or of every clinic when clinicId is undefined, with their creators; newest first. */
  async list(
    clinicId: string | undefined,
    limit: number,
    after?: [string, string],
  ): Promise<(FeedRow & { createdBy: FeedCreator | null })[]> {
    const params: unknown[] = [limit];
    const where = ['f.revoked_at IS NULL'];
    if (clinicId !== undefined) where.push(`f.clinic_id = $${params.push(clinicId)}`);
    // Cursors carry JavaScript's millisecond times, so order and compare at that precision.
    const at = "date_trunc('milliseconds', f.created_at)";
    if (after) where.push(`(${at}, f.id) < ($${params.push(after[0])}::timestamptz, $${params.push(after[1])}::uuid)`);
    const rows: (RawFeed & { key_name: string | null; key_role: string | null; key_prefix: string | null })[] =
      await this.dataSource.query(
        `SELECT ${FEED_COLUMNS.split(', ')
          .map((c) => `f.${c}`)
          .join(', ')}, k.name AS key_name, k.role AS key_role, k.key_prefix
         FROM calendar_feeds f LEFT JOIN api_keys k ON k.id = f.created_by_key_id
        WHERE ${where.join(' AND ')} ORDER BY ${at} DESC, f.id DESC LIMIT $1`,
        params,
      );
    return rows.map((r) => ({
      ...toFeed(r),
      createdBy:
        r.created_by_key_id && r.key_name !== null
          ? { keyId: r.created_by_key_id, name: r.key_name, role: r.key_role!, keyPrefix: r.key_prefix! }
          : null,
    }));
  }

  /** An active feed by id, in the key's clinic (any clinic for an operator key), locked for a change. */
  async findActive(m: EntityManager, id: string, clinicId: string | null): Promise<FeedRow | null> {
    const rows: RawFeed[] = await m.query(
      `SELECT ${FEED_COLUMNS} FROM calendar_feeds
        WHERE id = $1 AND revoked_at IS NULL ${clinicId === null ? '' : 'AND clinic_id = $2'} FOR UPDATE`,
      clinicId === null ? [id] : [id, clinicId],
    );
    return rows[0] ? toFeed(rows[0]) : null;
  }

  async revoke(m: EntityManager, feed: Pick<FeedRow, 'clinicId' | 'id'>, at: Date): Promise<void> {
    await m.query(`UPDATE calendar_feeds SET revoked_at = $3 WHERE clinic_id = $1 AND id = $2`, [
      feed.clinicId,
      feed.id,
      at,
    ]);
  }

  /** The active feed whose token hashes to this (a unique-index look-up). */
  async findActiveByTokenHash(m: EntityManager, hash: Buffer): Promise<FeedRow | null> {
    const rows: RawFeed[] = await m.query(
      `SELECT ${FEED_COLUMNS} FROM calendar_feeds WHERE token_hash = $1 AND revoked_at IS NULL`,
      [hash],
    );
    return rows[0] ? toFeed(rows[0]) : null;
  }

  async setup(m: EntityManager, feed: Pick<FeedRow, 'clinicId' | 'scope' | 'scopeId'>): Promise<FeedSetup | null> {
    const [clinic]: { name: string; timezone: string; updated_at: Date }[] = await m.query(
      `SELECT name, timezone, updated_at FROM clinics WHERE id = $1`,
      [feed.clinicId],
    );
    if (!clinic) return null;
    const named = async (table: string) => {
      const rows: { id: string; name: string; updated_at: Date }[] = await m.query(
        `SELECT id, name, updated_at FROM ${table} WHERE clinic_id = $1`,
        [feed.clinicId],
      );
      return new Map(rows.map((r) => [r.id, { name: r.name, updatedAt: r.updated_at }]));
    };
    let patient: FeedSetup['patient'] = null;
    if (feed.scope === 'patient') {
      const [p]: { full_name: string; updated_at: Date }[] = await m.query(
        `SELECT full_name, updated_at FROM patients WHERE clinic_id = $1 AND id = $2`,
        [feed.clinicId, feed.scopeId],
      );
      if (!p) return null;
      patient = { fullName: p.full_name, updatedAt: p.updated_at };
    }
    return {
      clinic: { name: clinic.name, timezone: clinic.timezone, updatedAt: clinic.updated_at },
      chairs: await named('chairs'),
      staff: await named('staff_members'),
      patient,
    };
  }

  /**
   * The feed's sessions starting in [from, to), cancelled ones only if cancelled since
   * `cancelledSince`; upcoming ones first, then the most recent past ones, at most `limit`.
   */
  async sessions(
    m: EntityManager,
    feed: Pick<FeedRow, 'clinicId' | 'scope' | 'scopeId'>,
    w: { from: Date; to: Date; cancelledSince: Date; now: Date },
    limit: number,
  ): Promise<FeedSessionRow[]> {
    const column = { clinic: null, chair: 's.chair_id', staff: 's.staff_id', patient: 's.patient_id' }[feed.scope];
    const params: unknown[] = [feed.clinicId, w.from, w.to, w.cancelledSince, w.now, limit];
    const scope = column === null ? '' : `AND ${column} = $${params.push(feed.scopeId)}`;
    const rows: {
      id: string;
      label: string;
      starts_at: Date;
      ends_at: Date;
      occupied_until: Date;
      status: FeedSessionStatus;
      version: number;
      updated_at: Date;
      chair_id: string | null;
      staff_id: string | null;
    }[] = await m.query(
      `SELECT s.id, s.label, s.starts_at, s.ends_at, s.occupied_until, s.status, s.version, s.updated_at, s.chair_id, s.staff_id
         FROM sessions s
        WHERE s.clinic_id = $1 AND s.starts_at >= $2 AND s.starts_at < $3
          AND (s.status <> 'cancelled' OR s.updated_at >= $4) ${scope}
        ORDER BY s.starts_at < $5, CASE WHEN s.starts_at >= $5 THEN s.starts_at END ASC, s.starts_at DESC, s.id
        LIMIT $6`,
      params,
    );
    return rows.map((r) => ({
      id: r.id,
      label: r.label,
      startsAt: r.starts_at,
      endsAt: r.ends_at,
      occupiedUntil: r.occupied_until,
      status: r.status,
      version: r.version,
      updatedAt: r.updated_at,
      chairId: r.chair_id,
      staffId: r.staff_id,
      chairName: null,
      staffName: null,
    }));
  }
}
