import { Injectable } from '@nestjs/common';
import { DateTime } from 'luxon';
import { AuditService } from '../audit/audit.service.js';
import type { Actor } from '../common/auth/actor.js';
import { resolveClinicForWrite } from '../clinics/clinic-scope.js';
import { Clock } from '../common/clock/clock.js';
import { ValidationFailedError } from '../common/errors/common.errors.js';
import { ClinicsRepository } from '../clinics/clinics.repository.js';
import type { SessionEntity } from '../sessions/entities/session.entity.js';
import { sessionView, type ViewContext } from '../sessions/session-view.js';
import {
  SYNC_DEFAULT_LIMIT,
  type SyncItem,
  type SyncPageDto,
  type SyncQueryDto,
  type SyncSessionDto,
} from './dto/sync.dto.js';
import {
  CHANGE_RETENTION_DAYS,
  readToken,
  signToken,
  tokenProblem,
  type PageTokenPayload,
  type TokenPayload,
} from './sync-token.js';
import { SyncError, SyncErrorCode } from './sync.errors.js';
import { SyncRepository } from './sync.repository.js';

const SECRET_NAME = 'sync_token';

/** Where a request starts reading. */
type Position =
  | { mode: 'full'; w?: string; after?: string; iat?: string }
  | { mode: 'delta'; from: string; hi?: string; after?: string; iat?: string; since: string };

const fullSyncRequired = (why: string) =>
  new SyncError(
    SyncErrorCode.FULL_SYNC_REQUIRED,
    `The token cannot be used (${why}); discard what you synced and start over with a full sync (no token).`,
    {
      reason: 'fullSyncRequired',
    },
  );

/**
 * Incremental sync of a clinic's sessions (Google Calendar's syncToken model).
 *
 * Cursors are PostgreSQL snapshots, not sequence numbers or timestamps: a sync returns the changes
 * of transactions visible in its own snapshot and not in the token's, so a change that commits
 * late is sent when it becomes visible — never skipped, and in quiet times never sent twice. A
 * full sync fixes its snapshot before it reads its first page; whatever changes while it pages
 * comes again in the next incremental sync (duplicates, never losses).
 */
@Injectable()
export class SyncService {
  private secretPromise?: Promise<Buffer>;

  constructor(
    private readonly repo: SyncRepository,
    private readonly clinics: ClinicsRepository,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  /** The signing key, read once from server_secrets. */
  private secret(): Promise<Buffer> {
    if (!this.secretPromise) {
      const loading = this.repo.secret(SECRET_NAME).then((s) => {
        if (!s) throw new Error(`server_secrets has no '${SECRET_NAME}' row`);
        return s;
      });
      // A failed read (say, the database was down) is tried again on the next request.
      loading.catch(() => (this.secretPromise = undefined));
      this.secretPromise = loading;
    }
    return this.secretPromise;
  }

  private verify(secret: Buffer, token: string, kind: 'sync' | 'page', clinicId: string): TokenPayload {
    const payload = readToken(secret, token);
    if (!payload)
      throw fullSyncRequired(`the ${kind === 'sync' ? 'syncToken' : 'pageToken'} is not one this service issued`);
    const problem = tokenProblem(payload, { kind, clinicId, now: this.clock.now() });
    if (problem) throw fullSyncRequired(problem);
    return payload;
  }

  private position(secret: Buffer, q: SyncQueryDto, clinicId: string): Position {
    if (q.pageToken !== undefined) {
      const p = this.verify(secret, q.pageToken, 'page', clinicId) as PageTokenPayload;
      return p.mode === 'full'
        ? { mode: 'full', w: p.w, after: p.after, iat: p.iat }
        : { mode: 'delta', from: p.w, hi: p.hi!, after: p.after, iat: p.iat, since: p.since! };
    }
    if (q.syncToken !== undefined) {
      const p = this.verify(secret, q.syncToken, 'sync', clinicId);
      return { mode: 'delta', from: p.w, since: p.iat };
    }
    return { mode: 'full' };
  }

  /** One page of a full or incremental sync; see the controller for the contract. */
  async sessions(actor: Actor, q: SyncQueryDto): Promise<SyncPageDto> {
    if (q.syncToken !== undefined && q.pageToken !== undefined) {
      const message = 'pass either syncToken (a new sync) or pageToken (the next page), not both';
      throw new ValidationFailedError([
        { field: 'syncToken', message },
        { field: 'pageToken', message },
      ]);
    }
    const clinicId = await resolveClinicForWrite(this.repo.manager(), actor, q.clinicId);
    const limit = q.limit ?? SYNC_DEFAULT_LIMIT;
    const secret = await this.secret();
    const pos = this.position(secret, q, clinicId);
    const ctx = await this.clinics.viewContext(clinicId);

    const page = await this.repo.inSnapshot(async (m) => {
      // The watermark comes first, so that the snapshot read below is at least as new as it.
      const iat = pos.iat ?? this.clock.now().toUTC().toISO()!;
      let items: SyncItem[];
      let patients: Map<string, string | null>;
      let more: boolean;
      let next: { page: PageTokenPayload; sync: TokenPayload };
      if (pos.mode === 'full') {
        const w = pos.w ?? (await this.repo.watermark(m));
        const rows = await this.repo.currentSessions(m, clinicId, pos.after, limit + 1);
        more = rows.length > limit;
        const shown = rows.slice(0, limit);
        items = shown.map((s) => this.live(ctx, s));
        patients = new Map(shown.map((s) => [s.id, s.patientId]));
        // Only signed when there is a next page, so never empty then.
        const after = shown.at(-1)?.id ?? '';
        next = {
          page: { v: 1, k: 'page', c: clinicId, w, after, mode: 'full', iat },
          sync: { v: 1, k: 'sync', c: clinicId, w, iat },
        };
      } else {
        const hi = pos.hi ?? (await this.repo.watermark(m));
        const ids = await this.repo.changedSessionIds(m, clinicId, pos.from, hi, pos.after, limit + 1);
        more = ids.length > limit;
        const shownIds = ids.slice(0, limit);
        const found = new Map((await this.repo.sessionsByIds(m, clinicId, shownIds)).map((s) => [s.id, s]));
        const gone = new Map(
          (
            await this.repo.tombstones(
              m,
              clinicId,
              shownIds.filter((id) => !found.has(id)),
              pos.from,
            )
          ).map((t) => [t.sessionId, t]),
        );
        items = [];
        patients = new Map();
        for (const id of shownIds) {
          const s = found.get(id);
          const t = gone.get(id);
          if (s) {
            items.push(this.live(ctx, s));
            patients.set(id, s.patientId);
          } else if (t) {
            // A deletion is a change too: its revision tops every revision the session had.
            items.push({ id, planId: t.planId, status: 'cancelled', revision: t.revision + 1, deleted: true });
            patients.set(id, null);
          }
        }
        const after = shownIds.at(-1) ?? '';
        next = {
          page: { v: 1, k: 'page', c: clinicId, w: pos.from, hi, after, mode: 'delta', iat, since: pos.since },
          sync: { v: 1, k: 'sync', c: clinicId, w: hi, iat },
        };
      }
      // Each session handed out is a read of patient data.
      await this.audit.record(
        m,
        actor,
        items.map((i) => ({
          clinicId,
          action: 'session.sync',
          entityType: 'session',
          entityId: i.id,
          patientId: patients.get(i.id!) ?? null,
        })),
      );
      return { items, more, next };
    });

    return {
      timezone: ctx.timezone,
      items: page.items,
      ...(page.more
        ? { nextPageToken: signToken(secret, page.next.page) }
        : { nextSyncToken: signToken(secret, page.next.sync) }),
    };
  }

  private live(ctx: ViewContext, s: SessionEntity): SyncSessionDto {
    return {
      ...sessionView(ctx, s),
      revision: s.version,
      updatedAt: DateTime.fromJSDate(s.updatedAt, { zone: ctx.timezone }).toISO()!,
      deleted: false,
    };
  }

  /**
   * Housekeeping: deletes change-log rows older than `olderThan`, but never any younger than the
   * retention (31 days, a day longer than a token lives), so no valid token loses a change.
   * Returns the number of rows deleted.
   */
  pruneChanges(olderThan: DateTime = this.clock.now().minus({ days: CHANGE_RETENTION_DAYS })): Promise<number> {
    const limit = this.clock.now().minus({ days: CHANGE_RETENTION_DAYS });
    return this.repo.pruneChanges((olderThan < limit ? olderThan : limit).toJSDate());
  }
}
