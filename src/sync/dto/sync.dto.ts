import { ApiExtraModels, ApiProperty, ApiPropertyOptional, getSchemaPath } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsNotEmpty, IsOptional, IsString, IsUUID, Max, MaxLength, Min } from 'class-validator';
import { SessionViewDto } from '../../plans/dto/plan.dto.js';

export const SYNC_DEFAULT_LIMIT = 100;
export const SYNC_MAX_LIMIT = 500;

export class SyncQueryDto {
  @ApiPropertyOptional({
    format: 'uuid',
    description:
      'The clinic: required with an operator key; a clinic key reads its own clinic (another clinic answers 404)',
  })
  @IsOptional()
  @IsUUID()
  clinicId?: string;

  @ApiPropertyOptional({
    description:
      'The `nextSyncToken` of the previous sync: return only what changed since. Omit for a full sync. Not together with pageToken.',
  })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(16_000)
  syncToken?: string;

  @ApiPropertyOptional({
    description: 'The `nextPageToken` of the previous page of this sync. Not together with syncToken.',
  })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(16_000)
  pageToken?: string;

  @ApiPropertyOptional({
    description: 'Items per page',
    minimum: 1,
    maximum: SYNC_MAX_LIMIT,
    default: SYNC_DEFAULT_LIMIT,
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(SYNC_MAX_LIMIT)
  limit?: number;
}

/** A session as it is now. */
export class SyncSessionDto extends SessionViewDto {
  @ApiProperty({
    description: 'The session’s revision (its version): it rises on every change; keep the highest you have seen',
    example: 3,
  })
  revision: number;
  @ApiProperty({
    description: 'When the session last changed, with the clinic’s offset',
    example: '2026-11-25T10:00:00.000-05:00',
  })
  updatedAt: string;
  @ApiProperty({ enum: [false], description: 'Always false for a session that still exists' })
  deleted: false;
}

/** A session that no longer exists: remove it. */
export class SyncTombstoneDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) planId: string;
  @ApiProperty({ enum: ['cancelled'] }) status: 'cancelled';
  @ApiProperty({ description: 'Above every revision the session had while it existed' }) revision: number;
  @ApiProperty({ enum: [true] }) deleted: true;
}

export type SyncItem = SyncSessionDto | SyncTombstoneDto;

@ApiExtraModels(SyncSessionDto, SyncTombstoneDto)
export class SyncPageDto {
  @ApiProperty({ example: 'America/New_York', description: 'The clinic’s time zone' })
  timezone: string;

  @ApiProperty({
    type: 'array',
    description:
      'A full sync: the sessions that are not cancelled. An incremental sync: one item per session that changed since the token, in its current ' +
      'state; cancelled sessions come with `status: "cancelled"` and deleted ones as tombstones (`deleted: true`). Neither can be filtered out.',
    items: { oneOf: [{ $ref: getSchemaPath(SyncSessionDto) }, { $ref: getSchemaPath(SyncTombstoneDto) }] },
  })
  items: SyncItem[];

  @ApiPropertyOptional({ description: 'Present on every page but the last: pass it as pageToken for the next page' })
  nextPageToken?: string;

  @ApiPropertyOptional({ description: 'Present on the last page only: keep it and pass it as syncToken next time' })
  nextSyncToken?: string;
}
