import { Injectable } from '@nestjs/common';
import { createHash, randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import { ClinicError, ClinicErrorCode } from '../clinics/clinics.errors.js';
import type { Actor } from '../common/auth/actor.js';
import { clinicFilter, resolveClinicForWrite } from '../clinics/clinic-scope.js';
import { Clock } from '../common/clock/clock.js';
import { CommonErrorCode, ValidationFailedError } from '../common/errors/common.errors.js';
import { DomainError, type FieldError } from '../common/errors/domain-error.js';
import { decodeCursor, encodeCursor } from '../common/paging/cursor.js';
import { PatientError, PatientErrorCode } from '../patients/patients.errors.js';
import { CalendarError, CalendarErrorCode } from './calendar.errors.js';
import {
  CalendarRepository,
  type FeedCreator,
  type FeedRow,
  type FeedScope,
  type FeedSetup,
} from './calendar.repository.js';
import type {
  CalendarFeedDto,
  CalendarFeedPageDto,
  CalendarFeedQueryDto,
  CreateCalendarFeedDto,
  CreatedCalendarFeedDto,
} from './dto/calendar-feed.dto.js';
import { feedWindow, MAX_FEED_EVENTS, renderFeed } from './feed-render.js';

/** `cfd_` + base64url of 256 random bits. */
const TOKEN_RE = /^cfd_[A-Za-z0-9_-]{43}$/;

export const hashFeedToken = (token: string): Buffer => createHash('sha256').update(token).digest();

const feedNotFound = () =>
  new CalendarError(CalendarErrorCode.FEED_NOT_FOUND, 'No such calendar feed (or it was revoked).');

const SCOPE_FIELD: Record<Exclude<FeedScope, 'clinic'>, 'chairId' | 'staffId' | 'patientId'> = {
  chair: 'chairId',
  staff: 'staffId',
  patient: 'patientId',
};

const TARGET_NOT_FOUND: Record<Exclude<FeedScope, 'clinic'>, () => Error> = {
  chair: () => new ClinicError(ClinicErrorCode.CHAIR_NOT_FOUND, 'No such chair in this clinic.'),
  staff: () => new ClinicError(ClinicErrorCode.STAFF_NOT_FOUND, 'No such staff member in this clinic.'),
  patient: () => new PatientError(PatientErrorCode.PATIENT_NOT_FOUND, 'No such patient.'),
};

function toDto(f: FeedRow, createdBy: FeedCreator | null): CalendarFeedDto {
  return {
    id: f.id,
    clinicId: f.clinicId,
    scope: f.scope,
    scopeId: f.scopeId,
    name: f.name,
    createdAt: f.createdAt.toISOString(),
    createdBy,
  };
}

/** A rendered feed with its validators. */
export interface FeedResponse {
  body: string;
  /** Strong: `"` + base64url(SHA-256 of the exact body) + `"`. */
  etag: string;
  lastModified: Date;
}

/**
 * iCalendar subscription feeds: created per clinic, chair, staff member or patient; reached by a
 * secret token in the URL (calendar apps send no credentials), stored only as its SHA-256.
 */
@Injectable()
export class CalendarService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly repo: CalendarRepository,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  /** The scope's target id from the body: the field matching the scope is required, the others refused. */
  private scopeId(dto: CreateCalendarFeedDto): string | null {
    const errors: FieldError[] = [];
    for (const [scope, field] of Object.entries(SCOPE_FIELD)) {
      if (scope !== dto.scope && dto[field] !== undefined)
        errors.push({ field, message: `${field} is only for scope ${scope}` });
    }
    if (dto.scope !== 'clinic' && dto[SCOPE_FIELD[dto.scope]] === undefined) {
      errors.push({
        field: SCOPE_FIELD[dto.scope],
        message: `${SCOPE_FIELD[dto.scope]} is required for scope ${dto.scope}`,
      });
    }
    if (errors.length > 0) throw new ValidationFailedError(errors);
    return dto.scope === 'clinic' ? null : dto[SCOPE_FIELD[dto.scope]]!;
  }

  async create(actor: Actor, dto: CreateCalendarFeedDto, baseUrl: string): Promise<CreatedCalendarFeedDto> {
    const scopeId = this.scopeId(dto);
    const token = `cfd_${randomBytes(32).toString('base64url')}`;
    const feed = await this.dataSource.transaction(async (m) => {
      const clinicId = await resolveClinicForWrite(m, actor, dto.clinicId);
      // Another clinic's chair, staff member or patient looks unknown (404), as everywhere.
      if (dto.scope !== 'clinic' && !(await this.repo.targetExists(m, clinicId, dto.scope, scopeId!)))
        throw TARGET_NOT_FOUND[dto.scope]();
      // The feed lives as long as the key that creates it: hold the key against a concurrent revoke.
      const creator = actor.keyId === null ? null : await this.repo.holdCreatorKey(m, actor.keyId);
      if (actor.keyId !== null && !creator)
        throw new DomainError(CommonErrorCode.UNAUTHENTICATED, 'The API key is unknown or revoked.');
      const row = await this.repo.insert(m, {
        clinicId,
        scope: dto.scope,
        scopeId,
        name: dto.name ?? null,
        tokenHash: hashFeedToken(token),
        createdAt: this.clock.now().toJSDate(),
        createdByKeyId: actor.keyId,
      });
      await this.audit.record(m, actor, {
        clinicId,
        action: 'calendar_feed.create',
        entityType: 'calendar_feed',
        entityId: row.id,
        patientId: dto.scope === 'patient' ? scopeId : null,
      });
      return { row, creator };
    });
    return { ...toDto(feed.row, feed.creator), url: `${baseUrl}/v1/calendar/feeds/${token}.ics`, token };
  }

  async list(actor: Actor, q: CalendarFeedQueryDto): Promise<CalendarFeedPageDto> {
    const clinicId = clinicFilter(actor, q.clinicId);
    const after = decodeCursor(q.cursor, ['timestamp', 'uuid']);
    if (clinicId === null) return { items: [], nextCursor: null };
    const limit = q.limit ?? 50;
    const rows = await this.repo.list(clinicId, limit + 1, after);
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return {
      items: items.map((f) => toDto(f, f.createdBy)),
      nextCursor: rows.length > limit && last ? encodeCursor([last.createdAt.toISOString(), last.id]) : null,
    };
  }

  /** Revokes a feed: its URL answers 404 from now on. */
  async revoke(actor: Actor, id: string): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      const feed = await this.repo.findActive(m, id, actor.clinicId);
      if (!feed) throw feedNotFound();
      await this.repo.revoke(m, feed, this.clock.now().toJSDate());
      await this.audit.record(m, actor, {
        clinicId: feed.clinicId,
        action: 'calendar_feed.revoke',
        entityType: 'calendar_feed',
        entityId: feed.id,
        patientId: feed.scope === 'patient' ? feed.scopeId : null,
      });
    });
  }

  /**
   * Renders the feed a token opens, from one snapshot of the database. A patient feed's read is
   * audited (the token is the actor: no key id, role `feed_token`).
   */
  async render(
    token: string,
    request: { requestId?: string; clientRequestId?: string; route?: string } = {},
  ): Promise<FeedResponse> {
    if (!TOKEN_RE.test(token)) throw feedNotFound();
    return this.dataSource.transaction('REPEATABLE READ', async (m) => {
      const feed = await this.repo.findActiveByTokenHash(m, hashFeedToken(token));
      if (!feed) throw feedNotFound();
      const setup = await this.repo.setup(m, feed);
      if (!setup) throw feedNotFound();
      const now = this.clock.now();
      const rows = await this.repo.sessions(m, feed, { ...feedWindow(now), now: now.toJSDate() }, MAX_FEED_EVENTS);
      const chairs = new Set<string>();
      const staff = new Set<string>();
      const sessions = rows.map((s) => {
        if (s.chairId) chairs.add(s.chairId);
        if (s.staffId) staff.add(s.staffId);
        return {
          ...s,
          chairName: s.chairId ? (setup.chairs.get(s.chairId)?.name ?? null) : null,
          staffName: s.staffId ? (setup.staff.get(s.staffId)?.name ?? null) : null,
        };
      });
      const rendered = renderFeed(
        {
          calendarName: feed.name ?? defaultName(feed, setup),
          clinicName: setup.clinic.name,
          timezone: setup.clinic.timezone,
          now,
          patientName: setup.patient?.fullName ?? null,
          // A chair is held until its recovery ends: its feed shows that, so it never looks free.
          occupancy: feed.scope === 'chair',
          contextUpdatedAt: [
            feed.createdAt,
            setup.clinic.updatedAt,
            ...[...chairs].map((id) => setup.chairs.get(id)?.updatedAt),
            ...[...staff].map((id) => setup.staff.get(id)?.updatedAt),
            setup.patient?.updatedAt,
            ...(feed.scope === 'chair' ? [setup.chairs.get(feed.scopeId!)?.updatedAt] : []),
            ...(feed.scope === 'staff' ? [setup.staff.get(feed.scopeId!)?.updatedAt] : []),
          ].filter((d): d is Date => d instanceof Date),
        },
        sessions,
      );
      if (feed.scope === 'patient') {
        await this.audit.record(
          m,
          { keyId: null, role: 'feed_token', ...request },
          {
            clinicId: feed.clinicId,
            action: 'calendar_feed.read',
            entityType: 'calendar_feed',
            entityId: feed.id,
            patientId: feed.scopeId,
          },
        );
      }
      return {
        body: rendered.body,
        etag: `"${createHash('sha256').update(rendered.body).digest('base64url')}"`,
        lastModified: rendered.lastModified,
      };
    });
  }
}

/** The calendar's name when none was given: the clinic, and the chair, staff member or patient. */
function defaultName(feed: FeedRow, setup: FeedSetup): string {
  switch (feed.scope) {
    case 'clinic':
      return setup.clinic.name;
    case 'chair':
      return `${setup.clinic.name} – ${setup.chairs.get(feed.scopeId!)?.name ?? 'chair'}`;
    case 'staff':
      return `${setup.clinic.name} – ${setup.staff.get(feed.scopeId!)?.name ?? 'staff'}`;
    case 'patient':
      return `${setup.clinic.name} – ${setup.patient?.fullName ?? 'patient'}`;
  }
}
