import { Injectable } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import type { EntityManager } from 'typeorm';
import { Clock } from '../common/clock/clock.js';
import { BookingIndex } from '../scheduling/engine/booking-index.js';
import type { BookedSession } from '../scheduling/engine/types.js';
import { BookingsRepository } from './bookings.repository.js';
import { Lru } from '../scheduling/engine/lru.js';

const DAY = 1440;
/**
 * What one load covers: from two days back to this far ahead of now (minutes). Far enough for a
 * refusal's look for the earliest workable start (120 days past a window that may open months
 * ahead, plus the plan's span) to be answered from memory rather than by a query of its own.
 */
const AHEAD = 400 * DAY;
/** A prefetch asks for this much less than a load covers, so that a copy is not reloaded every minute as "now" moves. */
const SLACK = 7 * DAY;
/** Older than this, an entry is loaded afresh rather than brought up to date (the change log is pruned after 31 days). */
const MAX_AGE_MS = 5 * 60_000;
/** Clinics whose bookings are kept (least recently used forgotten first). */
const MAX_CLINICS = 200;

/**
 * One active session as the engine takes it, ids kept whole: the engine ignores chairs and staff it
 * was not given (inactive ones) and compares patients by id, so rows go to it as they are, shared
 * and never copied (the engine does not change what it is given).
 */
type Row = BookedSession & { staffSeat: number | null };

interface Entry {
  /** The PostgreSQL snapshot `rows` were read in (`pg_current_snapshot()`, same statement). */
  snapshot: string;
  /**
   * When that server started (`pg_postmaster_start_time()`). Transaction ids only move forward on
   * one running server: after a crash (ids never flushed may be handed out again), a failover or a
   * restore, a snapshot taken before says nothing reliable, and the copy is loaded afresh.
   */
  server: string;
  from: number;
  to: number;
  rows: Map<string, Row>;
  /** The same rows indexed for the engine, made when first asked for and kept up to date with `rows`. */
  index?: BookingIndex;
  loadedAt: number;
}

/** A clinic's bookings as a prefetch left them: what a plan made outside any lock reads. */
export interface BookingsCopy {
  /** The bookings over [from, to) as a list (see {@link BookingsCache.bookings}). */
  bookings(
    from: Date,
    to: Date,
    ids: { chairs: string[]; staff: string[]; patientId: string },
  ): Promise<BookedSession[]>;
  /**
   * The same as the engine's index (with bookings outside the window too), or undefined when the
   * copy does not cover it (then ask for the list). Valid until the caller's next await: the index
   * changes in place as the copy is brought up to date.
   */
  index(from: Date, to: Date): Promise<BookingIndex | undefined>;
}

function unpack(packed: string | null, into: Map<string, Row>, index?: BookingIndex): void {
  if (!packed) return;
  for (const line of packed.split(';')) {
    const f = line.split(',');
    const seat = Number(f[6]);
    const row: Row = {
      start: Number(f[1]),
      end: Number(f[2]),
      chairId: f[3] || null,
      staffId: f[4] || null,
      patientId: f[5],
      staffSeat: seat === 0 ? null : seat,
    };
    into.set(f[0], row);
    index?.add(row);
  }
}

/** [from, to) as whole epoch minutes covering it. */
const minutes = (from: Date, to: Date): [number, number] => [
  Math.floor(from.getTime() / 60_000),
  Math.ceil(to.getTime() / 60_000),
];

/** Removes the changed sessions (ids separated by ',') from the rows and from their index. */
function drop(changed: string | null, rows: Map<string, Row>, index?: BookingIndex): void {
  if (!changed) return;
  for (const id of changed.split(',')) {
    const old = rows.get(id);
    if (old === undefined) continue;
    rows.delete(id);
    index?.remove(old);
  }
}

/**
 * Each clinic's active sessions for the months ahead, kept in memory and brought up to date on
 * every use from the change log (`session_changes`, written by trigger in every writing
 * transaction) with the same snapshot arithmetic as the sync API: a refresh re-reads exactly the
 * sessions changed by transactions that were not visible in the snapshot of the last read, so a
 * late commit is seen as soon as it is visible, and a rolled-back one never is. A booking then reads
 * a handful of rows instead of thousands. Several instances each keep their own; the database's
 * exclusion constraints stay the guarantee (a stale answer can only lose a race, and is re-planned).
 *
 * A transaction's own uncommitted writes never enter the shared copy: what a transaction with an id
 * of its own reads is used for that read only.
 */
@Injectable()
export class BookingsCache {
  private readonly entries = new Lru<string, Entry>('bookings-cache.clinics', MAX_CLINICS);

  constructor(
    private readonly repo: BookingsRepository,
    private readonly clock: Clock,
  ) {}

  /**
   * What {@link BookingsRepository.bookings} answers without exclusions (as the engine reads it: see
   * {@link select}), from memory when the window is covered, brought up to date first (through `m`
   * when given).
   */
  async bookings(
    clinicId: string,
    from: Date,
    to: Date,
    ids: { chairs: string[]; staff: string[]; patientId: string },
    m?: EntityManager,
  ): Promise<BookedSession[]> {
    return this.bookingsAt(clinicId, from, to, ids, m);
  }

  /**
   * Brings the clinic's copy up to date now, alongside a request's other reads, and hands out the
   * copy as of then. Only for plans made outside any lock, where a copy a few milliseconds old is
   * as good as a fresh one (a lost race is planned again under the clinic's schedule lock).
   */
  async prefetch(clinicId: string): Promise<BookingsCopy> {
    const nowMin = Math.floor(this.clock.now().toMillis() / 60_000);
    const snapshot = await this.current(
      clinicId,
      nowMin - DAY,
      nowMin + AHEAD - SLACK,
      undefined,
      () => this.entries.peek(clinicId)?.snapshot,
    );
    return {
      bookings: (from, to, ids) => this.bookingsAt(clinicId, from, to, ids, undefined, snapshot),
      index: (from, to) => this.indexAt(clinicId, from, to, snapshot),
    };
  }

  /** {@link bookings}; with `snapshot` and nothing applied since, the copy as it is, without asking the database. */
  private async bookingsAt(
    clinicId: string,
    from: Date,
    to: Date,
    ids: { chairs: string[]; staff: string[]; patientId: string },
    m?: EntityManager,
    snapshot?: string,
  ): Promise<BookedSession[]> {
    const [fromMin, toMin] = minutes(from, to);
    const entry = this.entries.peek(clinicId);
    if (snapshot !== undefined && entry && entry.snapshot === snapshot && entry.from <= fromMin && entry.to >= toMin) {
      return this.select(entry.rows, fromMin, toMin);
    }
    const found = await this.current(clinicId, fromMin, toMin, m, (rows) => this.select(rows, fromMin, toMin));
    return found ?? this.repo.bookings(clinicId, from, to, ids, {}, m);
  }

  /** {@link BookingsCopy.index}: brought up to date first unless nothing was applied since `snapshot`. */
  private async indexAt(clinicId: string, from: Date, to: Date, snapshot?: string): Promise<BookingIndex | undefined> {
    const [fromMin, toMin] = minutes(from, to);
    let entry = this.entries.peek(clinicId);
    if (snapshot === undefined || !entry || entry.snapshot !== snapshot) {
      await this.current(clinicId, fromMin, toMin, undefined, () => undefined);
      entry = this.entries.peek(clinicId);
    }
    if (!entry || entry.from > fromMin || entry.to < toMin) return undefined;
    return (entry.index ??= BookingIndex.of(entry.rows.values()));
  }

  /** Forgets every clinic (tests; a clinic's next read loads it again). */
  clear(): void {
    this.entries.clear();
  }

  /** Forgets one clinic: its next read loads it again from the sessions themselves. */
  forget(clinicId: string): void {
    this.entries.delete(clinicId);
  }

  /**
   * The rows in the window. Unlike {@link BookingsRepository.bookings}, chairs and staff not in the
   * clinic's active lists keep their ids, and other patients keep theirs: the engine treats both
   * the same way as the database query's nulls and marker.
   */
  private select(rows: Map<string, Row>, fromMin: number, toMin: number): BookedSession[] {
    const out: BookedSession[] = [];
    for (const r of rows.values()) {
      if (r.start >= fromMin - DAY && r.start < toMin && r.end > fromMin) out.push(r);
    }
    return out;
  }

  /**
   * `pick` applied to the clinic's sessions as of a snapshot taken now (by this caller's own
   * statement), at once, before any other refresh can change them; undefined when the window is
   * beyond what one load covers or the entry kept moving.
   *
   * Nobody waits for anybody: each caller reads the changes since the entry's snapshot on its own
   * connection (a caller inside a transaction holding the clinic's schedule lock must not wait on
   * one that needs a pooled connection). A result is applied only if no other was applied since it
   * was asked for (compare-and-set on the snapshot), which keeps the invariant: the rows are
   * exactly the committed state as of `snapshot`.
   */
  private async current<T>(
    clinicId: string,
    fromMin: number,
    toMin: number,
    m: EntityManager | undefined,
    pick: (rows: Map<string, Row>) => T,
  ): Promise<T | undefined> {
    const nowMin = Math.floor(this.clock.now().toMillis() / 60_000);
    const cover = { from: Math.min(fromMin, nowMin - 2 * DAY), to: Math.max(toMin, nowMin + AHEAD) };
    if (cover.to - cover.from > AHEAD + 30 * DAY) return undefined;

    const entry = this.entries.peek(clinicId);
    if (!entry || entry.from > fromMin || entry.to < toMin || performance.now() - entry.loadedAt >= MAX_AGE_MS) {
      const loaded = await this.load(clinicId, cover, m);
      if (!loaded.own) this.remember(clinicId, loaded.entry);
      return pick(loaded.entry.rows);
    }
    for (let attempt = 0; attempt < 4; attempt++) {
      const base = entry.snapshot;
      const delta = await this.changedSince(clinicId, entry, m);
      if (delta.server !== entry.server) {
        // Another server, or the same one restarted, since the copy was read: start over.
        if (this.entries.peek(clinicId) === entry) this.entries.delete(clinicId);
        return this.current(clinicId, fromMin, toMin, m, pick);
      }
      if (delta.own) {
        // Read by a transaction with an id of its own: PostgreSQL leaves it out of the snapshot's
        // running list, so that snapshot would count this transaction's later writes as already
        // seen. Use the answer for this caller only, on a copy.
        const rows = new Map(entry.rows);
        drop(delta.changed, rows);
        unpack(delta.packed, rows);
        return pick(rows);
      }
      if (entry.snapshot !== base) continue; // another caller applied meanwhile: ask again from theirs
      drop(delta.changed, entry.rows, entry.index);
      unpack(delta.packed, entry.rows, entry.index);
      entry.snapshot = delta.snap;
      this.remember(clinicId, entry);
      return pick(entry.rows);
    }
    return undefined;
  }

  private remember(clinicId: string, entry: Entry): void {
    // Most recently used last; the oldest go first.
    this.entries.set(clinicId, entry);
  }

  private async load(
    clinicId: string,
    cover: { from: number; to: number },
    m?: EntityManager,
  ): Promise<{ entry: Entry; own: boolean }> {
    const row = await this.repo.snapshot(clinicId, cover.from, cover.to, m);
    const entry: Entry = {
      snapshot: row.snap,
      server: row.server,
      from: cover.from,
      to: cover.to,
      rows: new Map(),
      loadedAt: performance.now(),
    };
    unpack(row.packed, entry.rows);
    return { entry, own: row.own !== null };
  }

  /** The sessions changed by transactions not visible in the entry's snapshot, read as of a new one. */
  private async changedSince(
    clinicId: string,
    e: Entry,
    m?: EntityManager,
  ): Promise<{ snap: string; server: string; own: boolean; changed: string | null; packed: string | null }> {
    const row = await this.repo.changedSince(clinicId, e.from, e.to, e.snapshot, m);
    return { ...row, own: row.own !== null };
  }
}
