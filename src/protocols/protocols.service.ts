import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import type { Actor } from '../common/auth/actor.js';
import { clinicFilter, resolveClinicForWrite } from '../clinics/clinic-scope.js';
import { Clock } from '../common/clock/clock.js';
import { ValidationFailedError } from '../common/errors/common.errors.js';
import { etag, requireIfMatch, staleResource } from '../common/http/etag.js';
import { decodeCursor, encodeCursor, type Page } from '../common/paging/cursor.js';
import { presentStep, type ProtocolStep } from './domain/protocol-step.js';
import { validateProtocolSteps } from './domain/validate-steps.js';
import type { CreateProtocolDto, DraftDto, ProtocolDto, ProtocolVersionDto } from './dto/protocol.dto.js';
import type { ProtocolVersionEntity } from './entities/protocol-version.entity.js';
import type { ProtocolEntity } from './entities/protocol.entity.js';
import { ProtocolError, ProtocolErrorCode } from './protocols.errors.js';
import { ProtocolsRepository, type ProtocolRow } from './protocols.repository.js';

/** The draft's ETag: changes with every edit of the draft. */
export const draftEtag = (p: Pick<ProtocolEntity, 'draftRevision'>) => etag(`d${p.draftRevision}`);
/** A published version's ETag: it never changes. */
export const versionEtag = (v: Pick<ProtocolVersionEntity, 'version'>) => etag(`v${v.version}`);

export interface WithEtag<T> {
  body: T;
  etag: string;
}

const toVersionDto = (v: ProtocolVersionEntity): ProtocolVersionDto => ({
  protocolId: v.protocolId,
  clinicId: v.clinicId,
  version: v.version,
  name: v.name,
  indication: v.indication,
  description: v.description,
  steps: v.steps.map(presentStep),
  publishedAt: v.publishedAt.toISOString(),
  retiredAt: v.retiredAt ? v.retiredAt.toISOString() : null,
});

function toDto({ protocol: p, versions, changed }: ProtocolRow): ProtocolDto {
  const live = versions.filter((v) => !v.retiredAt);
  return {
    id: p.id,
    clinicId: p.clinicId,
    name: p.name,
    indication: p.indication,
    description: p.description,
    draft: {
      revision: p.draftRevision,
      changed,
      steps: p.draftSteps.map(presentStep),
      updatedAt: p.draftUpdatedAt.toISOString(),
    },
    versions: versions.map((v) => ({
      version: v.version,
      publishedAt: v.publishedAt.toISOString(),
      retiredAt: v.retiredAt?.toISOString() ?? null,
    })),
    currentVersion: live.length ? live[live.length - 1].version : null,
    createdAt: p.createdAt.toISOString(),
  };
}

/** Plain step data from validated DTO instances (drops undefined optionals). */
const plainSteps = (steps: DraftDto['steps']): ProtocolStep[] => JSON.parse(JSON.stringify(steps)) as ProtocolStep[];

function checkSteps(steps: ProtocolStep[]): void {
  const issues = validateProtocolSteps(steps);
  if (issues.length) throw new ValidationFailedError(issues, 'The protocol template is not valid.');
}

const notFound = () => new ProtocolError(ProtocolErrorCode.PROTOCOL_NOT_FOUND, 'No such protocol.');

/**
 * Protocol templates: an editable draft (guarded by If-Match) and numbered published versions
 * that never change; retired versions make no new plans, existing plans keep theirs.
 */
@Injectable()
export class ProtocolsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly repo: ProtocolsRepository,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  async create(actor: Actor, dto: CreateProtocolDto): Promise<WithEtag<ProtocolDto>> {
    const steps = plainSteps(dto.steps);
    checkSteps(steps);
    return this.dataSource.transaction(async (m) => {
      const clinicId = await resolveClinicForWrite(m, actor, dto.clinicId);
      const p = await this.repo.insert(m, {
        clinicId,
        name: dto.name,
        indication: dto.indication,
        description: dto.description ?? null,
        draftSteps: steps,
        draftUpdatedAt: this.clock.now().toJSDate(),
      });
      await this.audit.record(m, actor, {
        clinicId,
        action: 'protocol.create',
        entityType: 'protocol',
        entityId: p.id,
      });
      const [row] = await this.repo.withVersions([p], m);
      return { body: toDto(row), etag: draftEtag(p) };
    });
  }

  async list(actor: Actor, q: { clinicId?: string; limit?: number; cursor?: string }): Promise<Page<ProtocolDto>> {
    const clinicId = clinicFilter(actor, q.clinicId);
    if (clinicId === null) return { items: [], nextCursor: null };
    const limit = q.limit ?? 50;
    const rows = await this.repo.list(clinicId, limit + 1, decodeCursor(q.cursor, ['text', 'uuid']));
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return {
      items: (await this.repo.withVersions(items)).map(toDto),
      nextCursor: rows.length > limit && last ? encodeCursor([last.name, last.id]) : null,
    };
  }

  async get(actor: Actor, id: string): Promise<WithEtag<ProtocolDto>> {
    const p = await this.repo.find(id, actor.clinicId);
    if (!p) throw notFound();
    const [row] = await this.repo.withVersions([p]);
    return { body: toDto(row), etag: draftEtag(p) };
  }

  async replaceDraft(
    actor: Actor,
    id: string,
    ifMatch: string | undefined,
    dto: DraftDto,
  ): Promise<WithEtag<ProtocolDto>> {
    const steps = plainSteps(dto.steps);
    return this.dataSource.transaction(async (m) => {
      // Locked, so that concurrent editors are judged one after the other against the current ETag.
      const p = await this.repo.find(id, actor.clinicId, m, true);
      if (!p) throw notFound();
      requireIfMatch(ifMatch, draftEtag(p));
      checkSteps(steps);
      const saved = await this.repo.replaceDraft(
        m,
        {
          clinicId: p.clinicId,
          id: p.id,
          name: dto.name,
          indication: dto.indication,
          description: dto.description ?? null,
          steps,
        },
        p.draftRevision,
        this.clock.now().toJSDate(),
      );
      // Another editor saved between our read and our write.
      if (!saved) throw staleResource();
      await this.audit.record(m, actor, {
        clinicId: p.clinicId,
        action: 'protocol.draft.replace',
        entityType: 'protocol',
        entityId: p.id,
      });
      const fresh = (await this.repo.find(id, p.clinicId, m))!;
      const [row] = await this.repo.withVersions([fresh], m);
      return { body: toDto(row), etag: draftEtag(fresh) };
    });
  }

  async publish(actor: Actor, id: string, ifMatch: string | undefined): Promise<WithEtag<ProtocolVersionDto>> {
    return this.dataSource.transaction(async (m) => {
      const p = await this.repo.find(id, actor.clinicId, m, true);
      if (!p) throw notFound();
      // Optional here: when given, publish only the draft the caller has seen.
      if (ifMatch !== undefined) requireIfMatch(ifMatch, draftEtag(p));
      const [row] = await this.repo.withVersions([p], m);
      if (!row.changed) {
        throw new ProtocolError(
          ProtocolErrorCode.DRAFT_UNCHANGED,
          `The draft is the same as version ${p.latestVersion}; edit it before publishing.`,
        );
      }
      // Drafts are validated when saved; validate again in case the rules have grown since.
      checkSteps(p.draftSteps);
      const v = await this.repo.publish(m, p, this.clock.now().toJSDate(), actor.keyId);
      await this.audit.record(m, actor, {
        clinicId: p.clinicId,
        action: 'protocol.publish',
        entityType: 'protocol_version',
        entityId: p.id,
      });
      return { body: toVersionDto(v), etag: versionEtag(v) };
    });
  }

  /** A published version, e.g. for pinning a plan to it. */
  async findVersion(actor: Actor, id: string, version: number): Promise<ProtocolVersionEntity> {
    const p = await this.repo.find(id, actor.clinicId);
    if (!p) throw notFound();
    const v = await this.repo.findVersion(p.clinicId, id, version);
    if (!v)
      throw new ProtocolError(
        ProtocolErrorCode.PROTOCOL_VERSION_NOT_FOUND,
        `Protocol version ${version} does not exist.`,
      );
    return v;
  }

  /**
   * The version a new plan in `clinicId` would use: the one asked for (404 if it does not
   * exist), or the newest not retired (null when every version is retired or none is published).
   */
  async versionForPlanning(
    clinicId: string,
    protocolId: string,
    version?: number,
  ): Promise<ProtocolVersionEntity | null> {
    if (version !== undefined) {
      const v = await this.repo.findVersion(clinicId, protocolId, version);
      if (v) return v;
      if (!(await this.repo.find(protocolId, clinicId))) throw notFound();
      throw new ProtocolError(
        ProtocolErrorCode.PROTOCOL_VERSION_NOT_FOUND,
        `Protocol version ${version} does not exist.`,
      );
    }
    const [p, v] = await Promise.all([
      this.repo.find(protocolId, clinicId),
      this.repo.newestInUse(clinicId, protocolId),
    ]);
    if (!p) throw notFound();
    return v;
  }

  async getVersion(actor: Actor, id: string, version: number): Promise<WithEtag<ProtocolVersionDto>> {
    const v = await this.findVersion(actor, id, version);
    return { body: toVersionDto(v), etag: versionEtag(v) };
  }

  async retire(actor: Actor, id: string, version: number): Promise<WithEtag<ProtocolVersionDto>> {
    const v = await this.findVersion(actor, id, version);
    return this.dataSource.transaction(async (m) => {
      // Only the request that actually retires it is audited; a repeat is a no-op.
      if (await this.repo.retire(m, v, this.clock.now().toJSDate())) {
        await this.audit.record(m, actor, {
          clinicId: v.clinicId,
          action: 'protocol.retire',
          entityType: 'protocol_version',
          entityId: id,
        });
      }
      const fresh = (await this.repo.findVersion(v.clinicId, id, version, m))!;
      return { body: toVersionDto(fresh), etag: versionEtag(fresh) };
    });
  }
}
