import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import {
  IsLocalDate,
  IsNumber,
  IsOptionalNotNull,
  NoOverlappingIntervals,
} from '../../common/validation/validators.js';
import { WeeklyIntervalDto } from '../../common/validation/weekly-interval.dto.js';
import { MAX_REPEAT } from '../../protocols/domain/protocol-step.js';

const amount = { maxDecimalPlaces: 3, allowNaN: false, allowInfinity: false };

export class GapOverrideDto {
  @ApiPropertyOptional({ description: "Not below the template's min" })
  @IsOptional()
  @IsNumber(amount)
  @Min(0)
  @Max(8760)
  min?: number;
  @ApiPropertyOptional() @IsOptional() @IsNumber(amount) @Min(0) @Max(8760) target?: number;
  @ApiPropertyOptional({ description: "Not above the template's max" })
  @IsOptional()
  @IsNumber(amount)
  @Min(0)
  @Max(8760)
  max?: number;
}

export class StepTailoringDto {
  @ApiProperty({ description: 'The template step this tailors', example: 'infusion' })
  @IsString()
  @Matches(/^[a-z][a-z0-9_-]{0,39}$/, { message: 'step must be a step key' })
  step: string;

  @ApiPropertyOptional({
    description: "Dose of the first occurrence, in the step's unit, within its range",
    example: 0.6,
  })
  @IsOptional()
  @IsNumber(amount)
  @Min(0)
  @Max(10000)
  amount?: number;

  @ApiPropertyOptional({ description: 'Number of occurrences, within repeatMin…repeatMax', example: 6 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_REPEAT)
  occurrences?: number;

  @ApiPropertyOptional({ type: GapOverrideDto, description: 'Narrow the gap between occurrences' })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => GapOverrideDto)
  spacing?: GapOverrideDto;

  @ApiPropertyOptional({ type: GapOverrideDto, description: 'Narrow the gap after the earlier step' })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => GapOverrideDto)
  after?: GapOverrideDto;
}

export class TailoringDto {
  @ApiPropertyOptional({
    description:
      "Weight for mg/kg doses (clinicians and admins); defaults to the patient's clinician-confirmed weight. While a front-desk weight awaits confirmation, a plan with mg/kg doses needs this or is refused (409 WEIGHT_UNCONFIRMED)",
    example: 78.5,
  })
  @IsOptional()
  @IsNumber({ maxDecimalPlaces: 1, allowNaN: false, allowInfinity: false })
  @Min(1)
  @Max(400)
  weightKg?: number;

  @ApiPropertyOptional({ type: [StepTailoringDto] })
  @IsOptionalNotNull()
  @IsArray()
  @ArrayMaxSize(30)
  @ValidateNested({ each: true })
  @Type(() => StepTailoringDto)
  steps?: StepTailoringDto[];
}

export class PlanRequestDto {
  @ApiProperty({ format: 'uuid' }) @IsUUID() patientId: string;
  @ApiProperty({ format: 'uuid' }) @IsUUID() protocolId: string;

  @ApiPropertyOptional({ description: 'Published version to pin; defaults to the newest one not retired', example: 1 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(999_999_999)
  protocolVersion?: number;

  @ApiPropertyOptional({
    description: "First local date the plan may use; defaults to today in the clinic's zone; at most 730 days ahead",
    example: '2026-12-01',
  })
  @IsOptional()
  @IsLocalDate()
  earliestStart?: string;

  @ApiPropertyOptional({
    description: 'The first session must start within this many days of earliestStart',
    minimum: 1,
    maximum: 60,
    default: 14,
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(60)
  startWithinDays?: number;

  @ApiPropertyOptional({ type: TailoringDto })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => TailoringDto)
  tailoring?: TailoringDto;

  @ApiPropertyOptional({
    description:
      'true: book this series although the patient already has an active series of the same protocol (a clinical decision: clinicians and admins only, 403 for the front desk). Without it such a request is 409 ACTIVE_SERIES_EXISTS naming activePlanId.',
    default: false,
  })
  @IsOptional()
  @IsBoolean()
  allowConcurrentSeries?: boolean;

  @ApiPropertyOptional({
    type: [WeeklyIntervalDto],
    description: "Preferred times for this plan; defaults to the patient's",
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(70)
  @ValidateNested({ each: true })
  @Type(() => WeeklyIntervalDto)
  @NoOverlappingIntervals()
  preferredTimes?: WeeklyIntervalDto[];
}

export class PlannedDoseDto {
  @ApiProperty({ example: 'ketamine' }) drug: string;
  @ApiProperty({ example: 0.5 }) amount: number;
  @ApiProperty({ example: 'mg/kg' }) unit: string;
  @ApiProperty({ example: 40 }) infusionMinutes: number;
  @ApiProperty({ example: 39.3, description: 'Absolute amount for this patient (mg)' }) totalMg: number;
}

export class ResourceRefDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
}

export class SessionViewDto {
  @ApiPropertyOptional({ format: 'uuid', description: 'Absent in a preview' }) id?: string;
  @ApiProperty({ example: 'infusion#3', description: 'Step key and occurrence, stable within the plan' }) ref: string;
  @ApiProperty() stepKey: string;
  @ApiProperty() occurrence: number;
  @ApiProperty({ example: 'infusion' }) kind: string;
  @ApiProperty({ example: 'Ketamine infusion 3/6' }) label: string;
  @ApiProperty({ example: '2026-12-07T08:00:00-05:00', description: "Start, with the clinic's UTC offset" })
  start: string;
  @ApiProperty({ example: '2026-12-07T08:40:00-05:00' }) end: string;
  @ApiProperty({
    example: '2026-12-07T09:40:00-05:00',
    description: 'End of recovery: until then the chair, staff seat and patient are held',
  })
  occupiedUntil: string;
  @ApiProperty({ example: '2026-12-07' }) localDate: string;
  @ApiProperty({ example: '08:00' }) localTime: string;
  @ApiProperty({ type: ResourceRefDto, nullable: true }) chair: ResourceRefDto | null;
  @ApiProperty({ type: ResourceRefDto, nullable: true }) staff: ResourceRefDto | null;
  @ApiProperty({ type: PlannedDoseDto, nullable: true }) dose: PlannedDoseDto | null;
  @ApiPropertyOptional({ format: 'uuid' }) planId?: string;
  @ApiPropertyOptional({ format: 'uuid' }) patientId?: string;
  @ApiPropertyOptional({ enum: ['scheduled', 'checked_in', 'completed', 'no_show', 'cancelled'] }) status?: string;
  @ApiPropertyOptional({ description: 'Raised on every change of the session' }) version?: number;
  @ApiPropertyOptional({ format: 'date-time', nullable: true, type: String }) checkedInAt?: string | null;
  @ApiPropertyOptional({ nullable: true, type: String, description: 'Observed start (completion)' }) actualStart?:
    string | null;
  @ApiPropertyOptional({ nullable: true, type: String, description: 'Observed end (completion)' }) actualEnd?:
    string | null;
  @ApiPropertyOptional({ nullable: true, type: Object, description: 'The dose actually given: amount, unit, totalMg' })
  doseGiven?: { amount: number; unit: string; totalMg: number | null } | null;
  @ApiPropertyOptional({ nullable: true, type: String, description: 'Why it was cancelled or missed' }) statusReason?:
    string | null;
}

export class PlanPreviewDto {
  @ApiProperty({ format: 'uuid' }) patientId: string;
  @ApiProperty({ format: 'uuid' }) protocolId: string;
  @ApiProperty() protocolVersion: number;
  @ApiProperty({ example: 'America/New_York' }) timezone: string;
  @ApiProperty({ type: [SessionViewDto] }) sessions: SessionViewDto[];
}

export class PlanDto extends PlanPreviewDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) clinicId: string;
  @ApiProperty({ enum: ['active', 'completed', 'ended_early'] }) status: string;
  @ApiProperty({ description: 'Raised on every adjustment; the ETag is "p<version>"' }) version: number;
  @ApiProperty({
    example: '"p1"',
    description:
      'This plan\'s ETag ("p<version>", quotes included): the If-Match for its adjustments (in a list, each plan carries its own)',
  })
  etag: string;
  @ApiProperty({ example: '2026-12-01' }) earliestStart: string;
  @ApiProperty({ description: 'The tailoring the plan was made with', type: Object }) tailoring: Record<
    string,
    unknown
  >;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
}

export class PlanListDto {
  @ApiProperty({ type: [PlanDto] }) items: PlanDto[];
}
