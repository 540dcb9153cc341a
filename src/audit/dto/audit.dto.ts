import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsISO8601, IsOptional, IsString, IsUUID, Matches, MaxLength } from 'class-validator';
import { PageQueryDto } from '../../common/paging/page-query.dto.js';
import { INSTANT_WITH_OFFSET } from '../../common/validation/validators.js';

export class AuditQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ format: 'uuid', description: 'Operator keys: one clinic (default: all)' })
  @IsOptional()
  @IsUUID()
  clinicId?: string;
  @ApiPropertyOptional({
    format: 'uuid',
    description: "Events about one patient (reads and writes of the patient's data)",
  })
  @IsOptional()
  @IsUUID()
  patientId?: string;
  @ApiPropertyOptional({ format: 'uuid', description: 'Events caused by one API key' })
  @IsOptional()
  @IsUUID()
  actorKeyId?: string;
  @ApiPropertyOptional({ description: 'e.g. `session`, `patient`, `plan`' })
  @IsOptional()
  @IsString()
  @MaxLength(50)
  entityType?: string;
  @ApiPropertyOptional({ format: 'uuid' }) @IsOptional() @IsUUID() entityId?: string;
  @ApiPropertyOptional({ description: 'e.g. `patient.read`, `plan.book`' })
  @IsOptional()
  @IsString()
  @MaxLength(80)
  action?: string;
  @ApiPropertyOptional({
    description: 'From this instant (inclusive), ISO 8601 with offset',
    example: '2026-11-01T00:00:00Z',
  })
  @IsOptional()
  @IsISO8601({ strict: true })
  @Matches(INSTANT_WITH_OFFSET, { message: 'from must carry an offset or Z' })
  from?: string;
  @ApiPropertyOptional({
    description: 'Until this instant (exclusive), ISO 8601 with offset',
    example: '2026-12-01T00:00:00Z',
  })
  @IsOptional()
  @IsISO8601({ strict: true })
  @Matches(INSTANT_WITH_OFFSET, { message: 'to must carry an offset or Z' })
  to?: string;
}

export class AuditEventDto {
  @ApiProperty({ example: '1042' }) id: string;
  @ApiProperty({ example: '2026-11-25T15:00:00.000Z' }) occurredAt: string;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) clinicId: string | null;
  @ApiProperty({ format: 'uuid', nullable: true, type: String, description: 'null for a feed token or the system' })
  actorKeyId: string | null;
  @ApiProperty({ example: 'front_desk', description: 'front_desk, clinician, admin, feed_token or system' })
  actorRole: string;
  @ApiProperty({ example: 'patient.read' }) action: string;
  @ApiProperty({ example: 'patient' }) entityType: string;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) entityId: string | null;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) patientId: string | null;
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'Our id of the request (X-Request-Id of the answer, and in the logs)',
  })
  requestId: string | null;
  @ApiProperty({
    nullable: true,
    type: String,
    description: "The caller's own X-Request-Id, when it sent a well-formed one",
  })
  clientRequestId: string | null;
  @ApiProperty({ nullable: true, type: String, example: 'PATCH /v1/patients/:patientId' }) route: string | null;
  @ApiProperty({ nullable: true, type: Object, description: 'For writes where it means something: `{before, after}`' })
  changes: Record<string, unknown> | null;
}

export class AuditPageDto {
  @ApiProperty({ type: [AuditEventDto] }) items: AuditEventDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}
