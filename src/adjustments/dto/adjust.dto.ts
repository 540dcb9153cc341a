import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsOptional, IsString, IsUUID, Length, Matches, Max, Min } from 'class-validator';
import { IsNumber } from '../../common/validation/validators.js';

export const ADJUSTMENT_TYPES = [
  'change_dose',
  'skip',
  'cancel_remaining',
  'change_chair',
  'change_staff',
  'reschedule',
  'add',
] as const;
export type AdjustmentType = (typeof ADJUSTMENT_TYPES)[number];
/** Clinical changes need a reason and a clinician (or admin). */
export const CLINICAL_TYPES: AdjustmentType[] = ['change_dose', 'skip', 'cancel_remaining', 'add'];

export class AdjustPlanDto {
  @ApiProperty({
    enum: ADJUSTMENT_TYPES,
    description:
      'change_dose: one session (sessionId) or all remaining sessions of a step (stepKey); skip: call one session off; cancel_remaining: end the plan early; ' +
      'change_chair / change_staff: move one session to another chair or staff member at the same time; ' +
      'reschedule: move one session to `start` (optionally `chairId`/`staffId`); earlier sessions never move, later ones only as far as their gaps need; ' +
      'add: one more occurrence of `stepKey` (e.g. an extra infusion or a booster), placed by the engine after the last one, optionally with `amount`',
  })
  @IsIn(ADJUSTMENT_TYPES)
  type: AdjustmentType;

  @ApiPropertyOptional({ description: 'Why (required for clinical changes)', example: 'Cravings down; lower the dose' })
  @IsOptional()
  @IsString()
  @Length(1, 2000)
  @Matches(/\S/, { message: 'reason must not be blank' })
  reason?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'The session (change_dose of one session; skip)' })
  @IsOptional()
  @IsUUID()
  sessionId?: string;

  @ApiPropertyOptional({
    description: 'change_dose without sessionId: the step whose remaining sessions change',
    example: 'infusion',
  })
  @IsOptional()
  @IsString()
  @Matches(/^[a-z][a-z0-9_-]{0,39}$/, { message: 'stepKey must be a step key' })
  stepKey?: string;

  @ApiPropertyOptional({
    description:
      'skip: also shift the later sessions (placed again after what the skipped one followed); default false',
  })
  @IsOptional()
  @IsBoolean()
  shift?: boolean;

  @ApiPropertyOptional({
    description: 'reschedule: the new start, ISO 8601 with offset; in the future, at most 730 days ahead',
    example: '2026-12-04T10:00:00-05:00',
  })
  @IsOptional()
  @IsString()
  @Length(16, 40)
  start?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'change_chair: the chair to move the session to' })
  @IsOptional()
  @IsUUID()
  chairId?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'change_staff: the staff member (of the role the step needs)' })
  @IsOptional()
  @IsUUID()
  staffId?: string;

  @ApiPropertyOptional({
    description: "change_dose: the new amount, in the step's unit and within its range",
    example: 0.4,
  })
  @IsOptional()
  @IsNumber({ maxDecimalPlaces: 3, allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(10000)
  amount?: number;
}

export class AdjustQueryDto {
  @ApiPropertyOptional({ description: 'true: return what would change without writing anything' })
  @IsOptional()
  @Transform(({ value }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean()
  preview?: boolean;
}

export class SessionChangeDto {
  @ApiProperty({
    format: 'uuid',
    nullable: true,
    type: String,
    description: 'null for a session an add would create (preview)',
  })
  sessionId: string | null;
  @ApiProperty({ example: 'infusion#4' }) ref: string;
  @ApiProperty({
    type: Object,
    nullable: true,
    example: { status: 'scheduled' },
    description: 'null for an added session',
  })
  before: Record<string, unknown> | null;
  @ApiProperty({ type: Object, example: { status: 'cancelled' } }) after: Record<string, unknown>;
}

export class AdjustmentResultDto {
  @ApiProperty({ enum: ADJUSTMENT_TYPES }) type: string;
  @ApiProperty({ description: 'true: nothing was written' }) preview: boolean;
  @ApiProperty({ description: "The plan's version after the change (unchanged in a preview)" }) planVersion: number;
  @ApiProperty({ enum: ['active', 'completed', 'ended_early'] }) planStatus: string;
  @ApiProperty({ type: [SessionChangeDto] }) changes: SessionChangeDto[];
}
