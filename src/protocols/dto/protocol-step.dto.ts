import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayUnique,
  IsBoolean,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  Min,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { IsNumber } from '../../common/validation/validators.js';
import {
  DOSE_UNITS,
  GAP_UNITS,
  MAX_REPEAT,
  STEP_KINDS,
  STEP_STAFF_ROLES,
  type DoseUnit,
  type GapUnit,
  type StepKind,
  type StepStaffRole,
} from '../domain/protocol-step.js';

const amount = { maxDecimalPlaces: 3, allowNaN: false, allowInfinity: false };

export class GapDto {
  @ApiProperty({ minimum: 0, maximum: 8760, example: 1 }) @IsNumber(amount) @Min(0) @Max(8760) min: number;
  @ApiProperty({ minimum: 0, maximum: 8760, example: 2 }) @IsNumber(amount) @Min(0) @Max(8760) target: number;
  @ApiProperty({ minimum: 0, maximum: 8760, example: 4 }) @IsNumber(amount) @Min(0) @Max(8760) max: number;
  @ApiProperty({
    enum: GAP_UNITS,
    description:
      'days: local calendar days between the two dates; hours: from the end of the earlier session (recovery included) to the start of the later',
  })
  @IsIn(GAP_UNITS)
  unit: GapUnit;
}

export class StepDoseDto {
  @ApiProperty({ example: 'ketamine' }) @IsString() @Length(1, 100) drug: string;
  @ApiProperty({ example: 0.5, description: 'Planned amount per occurrence' })
  @IsNumber(amount)
  @Min(0.001)
  @Max(10000)
  amount: number;
  @ApiProperty({ enum: DOSE_UNITS, example: 'mg/kg' }) @IsIn(DOSE_UNITS) unit: DoseUnit;
  @ApiProperty({ example: 40, description: 'How long the drug runs; within the step duration' })
  @IsInt()
  @Min(1)
  @Max(1440)
  infusionMinutes: number;
  @ApiProperty({ example: 0.1, description: 'Lowest allowed amount' })
  @IsNumber(amount)
  @Min(0.001)
  @Max(10000)
  min: number;
  @ApiProperty({ example: 1.0, description: 'Highest allowed amount' })
  @IsNumber(amount)
  @Min(0.001)
  @Max(10000)
  max: number;
  @ApiPropertyOptional({ example: 0.05, description: 'Added at each further occurrence (negative to taper)' })
  @IsOptional()
  @IsNumber(amount)
  @Min(-10000)
  @Max(10000)
  escalationPerOccurrence?: number;
}

export class StepAfterDto {
  @ApiProperty({ description: 'Key of an earlier step; timed from its last occurrence', example: 'intake' })
  @IsString()
  @Length(1, 40)
  step: string;
  @ApiProperty({ type: GapDto }) @IsObject() @ValidateNested() @Type(() => GapDto) gap: GapDto;
}

export class StepAttachmentDto {
  @ApiProperty({ description: 'Key of an earlier step; one session per occurrence of it', example: 'infusion' })
  @IsString()
  @Length(1, 40)
  step: string;
  @ApiProperty({ enum: ['after', 'before'] }) @IsIn(['after', 'before']) position: 'after' | 'before';
  @ApiProperty({ type: GapDto }) @IsObject() @ValidateNested() @Type(() => GapDto) gap: GapDto;
  @ApiPropertyOptional({ description: 'Must be on the same local day' }) @IsOptional() @IsBoolean() sameDay?: boolean;
}

export class ProtocolStepDto {
  @ApiProperty({ description: 'Unique in the version; lower case, digits, _ and -', example: 'infusion' })
  @IsString()
  @Matches(/^[a-z][a-z0-9_-]{0,39}$/, {
    message: 'key must be 1–40 characters: a lower-case letter, then lower-case letters, digits, _ or -',
  })
  key: string;

  @ApiProperty({ enum: STEP_KINDS }) @IsIn(STEP_KINDS) kind: StepKind;
  @ApiProperty({ example: 'Ketamine infusion' }) @IsString() @Length(1, 200) label: string;
  @ApiProperty({ minimum: 5, maximum: 720, example: 40 }) @IsInt() @Min(5) @Max(720) durationMinutes: number;
  @ApiProperty({
    minimum: 0,
    maximum: 720,
    example: 60,
    description: 'Chair time after the session (monitored recovery)',
  })
  @IsInt()
  @Min(0)
  @Max(720)
  recoveryMinutes: number;
  @ApiProperty({ description: 'Needs an infusion chair (for the session and its recovery)' })
  @IsBoolean()
  needsChair: boolean;
  @ApiProperty({ enum: STEP_STAFF_ROLES, nullable: true, type: String })
  @ValidateIf((_, v) => v !== null)
  @IsIn(STEP_STAFF_ROLES)
  staffRole: StepStaffRole | null;

  @ApiPropertyOptional({ type: StepDoseDto })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => StepDoseDto)
  dose?: StepDoseDto;

  @ApiProperty({ minimum: 1, maximum: MAX_REPEAT, example: 6, description: 'Default number of occurrences' })
  @IsInt()
  @Min(1)
  @Max(MAX_REPEAT)
  repeat: number;
  @ApiPropertyOptional({
    minimum: 1,
    maximum: MAX_REPEAT,
    description: 'Fewest occurrences tailoring may choose (default: repeat)',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_REPEAT)
  repeatMin?: number;
  @ApiPropertyOptional({
    minimum: 1,
    maximum: MAX_REPEAT,
    description: 'Most occurrences tailoring may choose (default: repeat)',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_REPEAT)
  repeatMax?: number;

  @ApiPropertyOptional({ type: StepAfterDto, description: 'First occurrence relative to an earlier step' })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => StepAfterDto)
  after?: StepAfterDto;

  @ApiPropertyOptional({
    type: GapDto,
    description: 'Between consecutive occurrences; required when the step can repeat',
  })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => GapDto)
  spacing?: GapDto;

  @ApiPropertyOptional({ description: 'Prefer the same local time of day for every occurrence' })
  @IsOptional()
  @IsBoolean()
  sameTimeOfDay?: boolean;

  @ApiPropertyOptional({
    type: [Number],
    description: 'Allowed ISO weekdays (1 = Monday … 7 = Sunday); all when absent',
    example: [1, 2, 3, 4, 5, 6],
  })
  @IsOptional()
  @ArrayMaxSize(7)
  @ArrayUnique()
  @IsInt({ each: true })
  @Min(1, { each: true })
  @Max(7, { each: true })
  weekdays?: number[];

  @ApiPropertyOptional({ type: StepAttachmentDto, description: 'Occur once with every occurrence of an earlier step' })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => StepAttachmentDto)
  attachedTo?: StepAttachmentDto;
}
