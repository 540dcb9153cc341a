import { Injectable } from '@nestjs/common';
import { DateTime } from 'luxon';
import { DataSource } from 'typeorm';
import { AdjustmentLog } from '../adjustments/adjustment-log.repository.js';
import { AuditService } from '../audit/audit.service.js';
import type { Actor } from '../common/auth/actor.js';
import { Clock } from '../common/clock/clock.js';
import { withRetries } from '../common/database/transactions.js';
import { ValidationFailedError } from '../common/errors/common.errors.js';
import { decodeCursor, encodeCursor } from '../common/paging/cursor.js';
import { requireInstantWithinHorizon, requireLocalDateWithinHorizon } from '../common/validation/date-horizon.js';
import { isLocalDate, parseInstant } from '../common/validation/validators.js';
import { ClinicsRepository } from '../clinics/clinics.repository.js';
import type {
  CancelSessionDto,
  CompleteSessionDto,
  DaySheetEntryDto,
  NoShowDto,
  SessionPageDto,
  SessionQueryDto,
} from './dto/session.dto.js';
import type { SessionEntity, SessionStatus } from './entities/session.entity.js';
import { canTransition } from './session-status.js';
import { checkInWindow } from './session-timing.js';
import { sessionView } from './session-view.js';
import { SessionError, SessionErrorCode } from './sessions.errors.js';
import { SessionsRepository } from './sessions.repository.js';
import type { SessionViewDto } from '../plans/dto/plan.dto.js';
import { Lru } from '../scheduling/engine/lru.js';

const MAX_SHEET_DAYS = 31;

const notFound = () => new SessionError(SessionErrorCode.SESSION_NOT_FOUND, 'No such session.');
const round1 = (x: number) => Math.round(Number((x * 10).toPrecision(12))) / 10;

/** The day sheet and the life of a session: check-in, completion, no-show, cancellation. */
@Injectable()
export class SessionsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly repo: SessionsRepository,
    private readonly clinics: ClinicsRepository,
    private readonly log: AdjustmentLog,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  /** An instant (ISO 8601 with offset) or a local date's first instant (`endOfDay`: the next day's). */
  private bound(field: 'from' | 'to', value: string, zone: string): DateTime {
    if (isLocalDate(value)) {
      requireLocalDateWithinHorizon(field, value, this.clock.now(), zone);
      const day = DateTime.fromISO(value, { zone }).startOf('day');
      return field === 'to' ? day.plus({ days: 1 }) : day;
    }
    const instant = parseInstant(
      field,
      value,
      `${field} must be a local date YYYY-MM-DD or an ISO 8601 instant with an offset`,
    );
    requireInstantWithinHorizon(field, instant, this.clock.now());
    return instant;
  }

  /** Each clinic's zone as last read (a guess, always checked; see `list`). */
  private readonly zones = new Lru<string, string>('sessions.clinic-zones', 10_000);

  async list(actor: Actor, q: SessionQueryDto): Promise<SessionPageDto> {
    const clinicId = actor.clinicId ?? q.clinicId;
    if (!clinicId)
      throw new ValidationFailedError([{ field: 'clinicId', message: 'clinicId is required with an operator key' }]);
    if (actor.clinicId !== null && q.clinicId !== undefined && q.clinicId !== actor.clinicId) {
      return { timezone: 'UTC', items: [], nextCursor: null };
    }
    const limit = q.limit ?? 50;
    const after = decodeCursor(q.cursor, ['timestamp', 'uuid']);
    const query = async (zone: string) => {
      const from = this.bound('from', q.from, zone);
      const to = this.bound('to', q.to, zone);
      if (to <= from) throw new ValidationFailedError([{ field: 'to', message: 'to must be after from' }]);
      if (to.diff(from, 'days').days > MAX_SHEET_DAYS)
        throw new ValidationFailedError([{ field: 'to', message: `at most ${MAX_SHEET_DAYS} days per request` }]);
      const { chairId, staffId, patientId, status } = q;
      return this.repo.list({
        clinicId,
        from: from.toJSDate(),
        to: to.toJSDate(),
        chairId,
        staffId,
        patientId,
        status,
        limit: limit + 1,
        after,
      });
    };
    // Local dates are read in the clinic's zone. The zone this instance last saw lets the sheet be
    // read alongside the clinic; if the zone has changed since, it is read again.
    const guess = this.zones.get(clinicId);
    const early =
      guess === undefined
        ? undefined
        : query(guess).then(
            (rows) => ({ rows }),
            (error: unknown) => ({ error }),
          );
    const ctx = await this.clinics.viewContext(clinicId);
    this.zones.set(clinicId, ctx.timezone);
    const settledEarly = guess === ctx.timezone ? await early : undefined;
    if (settledEarly && 'error' in settledEarly) throw settledEarly.error;
    const rows = settledEarly ? settledEarly.rows : await query(ctx.timezone);
    const items = rows.slice(0, limit);
    // The page is built while its read-audit rows go in; nothing is answered before they are.
    const audited = this.audit.recordRead(
      actor,
      items.map(({ session: s }) => ({
        clinicId,
        action: 'session.list',
        entityType: 'session',
        entityId: s.id,
        patientId: s.patientId,
      })),
    );
    try {
      const last = items[items.length - 1]?.session;
      return {
        timezone: ctx.timezone,
        items: items.map(({ session: s, patientName }): DaySheetEntryDto => ({
          ...sessionView(ctx, s),
          patient: { id: s.patientId, fullName: patientName },
        })),
        nextCursor: rows.length > limit && last ? encodeCursor([last.startsAt.toISOString(), last.id]) : null,
      };
    } finally {
      await audited;
    }
  }

  async get(actor: Actor, id: string): Promise<SessionViewDto> {
    const s = await this.repo.find(id, actor.clinicId);
    if (!s) throw notFound();
    await this.audit.recordRead(actor, {
      clinicId: s.clinicId,
      action: 'session.read',
      entityType: 'session',
      entityId: s.id,
      patientId: s.patientId,
    });
    return sessionView(await this.clinics.viewContext(s.clinicId), s);
  }

  /**
   * One status change: checked against the transition table, applied only if nobody changed the
   * session meanwhile, logged as a plan adjustment (raising the plan's version) and audited, in
   * one transaction; a plan with nothing left to happen becomes completed.
   */
  private async move(
    actor: Actor,
    id: string,
    to: SessionStatus,
    type: string,
    reason: string | null,
    fields: (
      s: SessionEntity,
      m: import('typeorm').EntityManager,
    ) => Promise<Parameters<SessionsRepository['transition']>[4]>,
  ): Promise<SessionViewDto> {
    const updated = await withRetries(() =>
      this.dataSource.transaction(async (m) => {
        // Lock order everywhere: the plan, then its sessions (adjustments do the same).
        const planId = await this.repo.planOf(m, id, actor.clinicId);
        if (!planId) throw notFound();
        await this.repo.lockPlan(m, planId);
        const s = await this.repo.find(id, actor.clinicId, m, true);
        if (!s) throw notFound();
        if (!canTransition(s.status, to)) {
          throw new SessionError(
            SessionErrorCode.INVALID_TRANSITION,
            `The session is ${s.status}; it cannot become ${to}.`,
            { currentStatus: s.status },
          );
        }
        const at = this.clock.now().toJSDate();
        const set = await fields(s, m);
        if (!(await this.repo.transition(m, s, s.status, to, set, at))) {
          const now = await this.repo.find(id, s.clinicId, m);
          throw new SessionError(
            SessionErrorCode.INVALID_TRANSITION,
            `The session changed meanwhile; it is ${now?.status}.`,
            { currentStatus: now?.status },
          );
        }
        await this.log.append(m, {
          clinicId: s.clinicId,
          planId: s.planId,
          type,
          reason,
          actorKeyId: actor.keyId,
          actorRole: actor.role,
          at,
          changes: [
            {
              sessionId: s.id,
              ref: s.ref,
              before: { status: s.status },
              after: { status: to, ...JSON.parse(JSON.stringify(set)) },
            },
          ],
        });
        await this.repo.completePlanIfDone(m, s.clinicId, s.planId, at);
        await this.audit.record(m, actor, {
          clinicId: s.clinicId,
          action: `session.${type}`,
          entityType: 'session',
          entityId: s.id,
          patientId: s.patientId,
        });
        return (await this.repo.find(id, s.clinicId, m))!;
      }),
    );
    return sessionView(await this.clinics.viewContext(updated.clinicId), updated);
  }

  checkIn(actor: Actor, id: string): Promise<SessionViewDto> {
    return this.move(actor, id, 'checked_in', 'check_in', null, async (s, m) => {
      // Only on the session's local day (or from as many days before as the clinic allows).
      const now = this.clock.now();
      const { timezone, checkInOpensDaysBefore } = await this.repo.clinicTiming(m, s.clinicId);
      const { opensAt, closesAt } = checkInWindow(s.startsAt, timezone, checkInOpensDaysBefore);
      if (now < opensAt || now >= closesAt) {
        const iso = (d: DateTime) => d.toISO({ suppressMilliseconds: true })!;
        const day = DateTime.fromJSDate(s.startsAt, { zone: timezone }).toISODate();
        throw new SessionError(
          SessionErrorCode.CHECK_IN_NOT_OPEN,
          now < opensAt
            ? `Check-in for this session opens ${iso(opensAt)} (its day is ${day} in the clinic).`
            : `Check-in for this session closed at the end of its day (${day} in the clinic); mark it a no-show or cancel it.`,
          { checkInOpensAt: iso(opensAt), checkInClosesAt: iso(closesAt) },
        );
      }
      return { checkedInAt: now.toJSDate() };
    });
  }

  complete(actor: Actor, id: string, dto: CompleteSessionDto): Promise<SessionViewDto> {
    return this.move(actor, id, 'completed', 'complete', null, async (s, m) => {
      // Observed times must say which instant they mean: a bare local time would be read in the server's zone.
      const actualStart = dto.actualStart ? parseInstant('actualStart', dto.actualStart) : undefined;
      const actualEnd = dto.actualEnd ? parseInstant('actualEnd', dto.actualEnd) : undefined;
      const now = this.clock.now();
      if (actualStart && actualStart > now)
        throw new ValidationFailedError([{ field: 'actualStart', message: 'actualStart must not be in the future' }]);
      if (actualEnd) requireInstantWithinHorizon('actualEnd', actualEnd, now);
      if (actualStart && actualEnd && actualEnd <= actualStart) {
        throw new ValidationFailedError([{ field: 'actualEnd', message: 'actualEnd must be after actualStart' }]);
      }
      // A session is completed once it has begun: by the clock, or as observed (an earlier start).
      if (!actualStart && s.startsAt.getTime() > now.toMillis()) {
        const startsAt = DateTime.fromJSDate(s.startsAt)
          .setZone((await this.repo.clinicTiming(m, s.clinicId)).timezone)
          .toISO({ suppressMilliseconds: true });
        throw new SessionError(
          SessionErrorCode.SESSION_NOT_STARTED,
          `The session starts at ${startsAt}: complete it once it has begun, or give actualStart (in the past).`,
          { startsAt },
        );
      }
      let doseGiven: SessionEntity['doseGiven'] = null;
      if (s.plannedDose) {
        if (!dto.doseGiven)
          throw new ValidationFailedError([
            { field: 'doseGiven', message: 'the dose actually given is required for a session with a planned dose' },
          ]);
        if (dto.doseGiven.unit !== s.plannedDose.unit) {
          throw new ValidationFailedError([
            { field: 'doseGiven.unit', message: `the planned dose is in ${s.plannedDose.unit}` },
          ]);
        }
      }
      if (dto.doseGiven) {
        const weight = dto.doseGiven.unit === 'mg/kg' ? await this.repo.planWeight(m, s.clinicId, s.planId) : null;
        doseGiven = {
          amount: dto.doseGiven.amount,
          unit: dto.doseGiven.unit,
          totalMg:
            dto.doseGiven.unit === 'mg'
              ? dto.doseGiven.amount
              : weight === null
                ? null
                : round1(dto.doseGiven.amount * weight),
        };
      }
      return { doseGiven, actualStart: actualStart?.toJSDate() ?? null, actualEnd: actualEnd?.toJSDate() ?? null };
    });
  }

  noShow(actor: Actor, id: string, dto: NoShowDto): Promise<SessionViewDto> {
    return this.move(actor, id, 'no_show', 'no_show', dto.reason ?? null, async () => ({
      statusReason: dto.reason ?? null,
    }));
  }

  cancel(actor: Actor, id: string, dto: CancelSessionDto): Promise<SessionViewDto> {
    return this.move(actor, id, 'cancelled', 'cancel_session', dto.reason, async () => ({ statusReason: dto.reason }));
  }
}
