import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsIn,
  IsISO8601,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { IsNumber } from '../../common/validation/validators.js';
import { PageQueryDto } from '../../common/paging/page-query.dto.js';
import { SessionViewDto } from '../../plans/dto/plan.dto.js';
import { DOSE_UNITS, type DoseUnit } from '../../protocols/domain/protocol-step.js';
import { SESSION_STATUSES, type SessionStatus } from '../entities/session.entity.js';

export class DoseGivenDto {
  @ApiProperty({ example: 0.5 })
  @IsNumber({ maxDecimalPlaces: 3, allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(10000)
  amount: number;
  @ApiProperty({ enum: DOSE_UNITS, example: 'mg/kg', description: 'The unit of the planned dose' })
  @IsIn(DOSE_UNITS)
  unit: DoseUnit;
}

export class CompleteSessionDto {
  @ApiPropertyOptional({ type: DoseGivenDto, description: 'Required when the session has a planned dose' })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => DoseGivenDto)
  doseGiven?: DoseGivenDto;

  @ApiPropertyOptional({
    description:
      'Observed start, ISO 8601 with offset; not in the future (needed to complete a session before its planned start)',
    example: '2026-12-03T09:05:00-05:00',
  })
  @IsOptional()
  @IsISO8601({ strict: true })
  actualStart?: string;

  @ApiPropertyOptional({
    description: 'Observed end, ISO 8601 with offset; at most 730 days ahead',
    example: '2026-12-03T10:50:00-05:00',
  })
  @IsOptional()
  @IsISO8601({ strict: true })
  actualEnd?: string;
}

export class CancelSessionDto {
  @ApiProperty({ example: 'Patient has the flu', description: 'Why the session is called off' })
  @IsString()
  @Length(1, 1000)
  @Matches(/\S/, { message: 'reason must not be blank' })
  reason: string;
}

export class NoShowDto {
  @ApiPropertyOptional({ example: 'No answer on the phone' })
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  reason?: string;
}

export class SessionQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ format: 'uuid', description: 'Operator keys: the clinic' })
  @IsOptional()
  @IsUUID()
  clinicId?: string;
  @ApiProperty({
    description: 'From this instant (ISO 8601) or local date (YYYY-MM-DD, the day sheet); at most 730 days ahead',
    example: '2026-12-03',
  })
  @IsString()
  @Length(10, 40)
  from: string;
  @ApiProperty({
    description: 'Until this instant or through this local date (inclusive); at most 730 days ahead',
    example: '2026-12-03',
  })
  @IsString()
  @Length(10, 40)
  to: string;
  @ApiPropertyOptional({ format: 'uuid' }) @IsOptional() @IsUUID() chairId?: string;
  @ApiPropertyOptional({ format: 'uuid' }) @IsOptional() @IsUUID() staffId?: string;
  @ApiPropertyOptional({ format: 'uuid' }) @IsOptional() @IsUUID() patientId?: string;
  @ApiPropertyOptional({ enum: SESSION_STATUSES }) @IsOptional() @IsIn(SESSION_STATUSES) status?: SessionStatus;
}

export class DaySheetEntryDto extends SessionViewDto {
  @ApiProperty({
    description: 'The patient (a read of patient data, audited)',
    type: Object,
    example: { id: '…', fullName: 'Jordan Rivera' },
  })
  patient: { id: string; fullName: string };
}

export class SessionPageDto {
  @ApiProperty({ example: 'America/New_York' }) timezone: string;
  @ApiProperty({ type: [DaySheetEntryDto] }) items: DaySheetEntryDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}
