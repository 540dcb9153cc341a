import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsDefined, IsIn, IsOptional, IsString, IsUUID, Length, Matches, Max, Min } from 'class-validator';
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
export const isAdjustmentType = (value: unknown): value is AdjustmentType =>
  (ADJUSTMENT_TYPES as readonly unknown[]).includes(value);
/** Clinical changes need a reason and a clinician (or admin). */
export const CLINICAL_TYPES: readonly AdjustmentType[] = ['change_dose', 'skip', 'cancel_remaining', 'add'];

// ---- the properties the request types share, each declared once ----

/** The discriminator: one literal per request type. */
const TypeIs = (type: AdjustmentType, description: string) =>
  applyDecorators(ApiProperty({ enum: [type], description }), IsIn([type]));

/** `$property is required for <type>`: a field the type needs. */
const RequiredFor = (type: AdjustmentType) => IsDefined({ message: `$property is required for ${type}` });

/** Why: required for a clinical change (`type` given), optional otherwise. */
const Reason = (requiredFor?: AdjustmentType) =>
  applyDecorators(
    requiredFor
      ? ApiProperty({ description: 'Why (a clinical change needs one)', example: 'Cravings down; lower the dose' })
      : ApiPropertyOptional({ description: 'Why', example: 'Patient asked' }),
    requiredFor ? IsDefined({ message: `a reason is required for ${requiredFor}` }) : IsOptional(),
    IsString(),
    Length(1, 2000),
    Matches(/\S/, { message: 'reason must not be blank' }),
  );

/** The session the change is about, in this plan. */
const SessionId = (type: AdjustmentType) =>
  applyDecorators(
    ApiProperty({ format: 'uuid', description: 'The session, in this plan' }),
    RequiredFor(type),
    IsUUID(),
  );

const StepKey = () =>
  applyDecorators(IsString(), Matches(/^[a-z][a-z0-9_-]{0,39}$/, { message: 'stepKey must be a step key' }));

const Amount = () =>
  applyDecorators(IsNumber({ maxDecimalPlaces: 3, allowNaN: false, allowInfinity: false }), Min(0), Max(10000));

const ResourceId = (what: string) => applyDecorators(ApiProperty({ format: 'uuid', description: what }), IsUUID());

// ---- one request type each ----

export class ChangeDoseDto {
  @TypeIs('change_dose', 'The dose of one session (sessionId) or of every remaining session of a step (stepKey)')
  type: 'change_dose';

  @Reason('change_dose') reason: string;

  @ApiProperty({ description: "The new amount, in the step's unit and within its range", example: 0.4 })
  @RequiredFor('change_dose')
  @Amount()
  amount: number;

  @ApiPropertyOptional({ format: 'uuid', description: 'One session; without it, stepKey names the sessions' })
  @IsOptional()
  @IsUUID()
  sessionId?: string;

  @ApiPropertyOptional({
    description: 'Without sessionId: the step whose remaining sessions change',
    example: 'infusion',
  })
  @IsOptional()
  @StepKey()
  stepKey?: string;
}

export class SkipDto {
  @TypeIs('skip', 'Call one session off; with shift, the later sessions are placed again')
  type: 'skip';

  @Reason('skip') reason: string;

  @SessionId('skip') sessionId: string;

  @ApiPropertyOptional({
    description:
      'Also shift the later sessions (the ones attached to the skipped one go with it; the rest are placed again after what it followed); default false',
  })
  @IsOptional()
  @IsBoolean()
  shift?: boolean;
}

export class CancelRemainingDto {
  @TypeIs('cancel_remaining', 'End the plan early: every scheduled session is cancelled')
  type: 'cancel_remaining';

  @Reason('cancel_remaining') reason: string;
}

export class ChangeChairDto {
  @TypeIs('change_chair', 'Move one session to another chair at the same time')
  type: 'change_chair';

  @Reason() reason?: string;

  @SessionId('change_chair') sessionId: string;

  @ResourceId('The chair to move the session to')
  @RequiredFor('change_chair')
  chairId: string;
}

export class ChangeStaffDto {
  @TypeIs('change_staff', 'Move one session to another staff member (of the role its step needs) at the same time')
  type: 'change_staff';

  @Reason() reason?: string;

  @SessionId('change_staff') sessionId: string;

  @ResourceId('The staff member to move the session to')
  @RequiredFor('change_staff')
  staffId: string;
}

export class RescheduleDto {
  @TypeIs(
    'reschedule',
    'Move one session to `start`; earlier sessions never move, later ones only as far as their gaps need',
  )
  type: 'reschedule';

  @Reason() reason?: string;

  @SessionId('reschedule') sessionId: string;

  @ApiProperty({
    description: 'The new start, ISO 8601 with offset; in the future, at most 730 days ahead',
    example: '2026-12-04T10:00:00-05:00',
  })
  @RequiredFor('reschedule')
  @IsString()
  @Length(16, 40)
  start: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'A chair for the moved session (else the engine picks one)' })
  @IsOptional()
  @IsUUID()
  chairId?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'A staff member for the moved session (else the engine picks)' })
  @IsOptional()
  @IsUUID()
  staffId?: string;
}

export class AddDto {
  @TypeIs('add', 'One more occurrence of a step (an extra infusion, a booster), placed by the engine after the last')
  type: 'add';

  @Reason('add') reason: string;

  @ApiProperty({ description: "A step of the plan's protocol version", example: 'infusion' })
  @RequiredFor('add')
  @StepKey()
  stepKey: string;

  @ApiPropertyOptional({
    description: "The dose, in the step's unit and within its range (default: the step's)",
    example: 0.4,
  })
  @IsOptional()
  @Amount()
  amount?: number;
}

/** A request body: one of the types above, told apart by `type`. */
export type AdjustPlanDto =
  ChangeDoseDto | SkipDto | CancelRemainingDto | ChangeChairDto | ChangeStaffDto | RescheduleDto | AddDto;

/** The DTO class of each type (the body pipe validates against it; OpenAPI lists each). */
export const ADJUSTMENT_DTOS: { [T in AdjustmentType]: new () => Extract<AdjustPlanDto, { type: T }> } = {
  change_dose: ChangeDoseDto,
  skip: SkipDto,
  cancel_remaining: CancelRemainingDto,
  change_chair: ChangeChairDto,
  change_staff: ChangeStaffDto,
  reschedule: RescheduleDto,
  add: AddDto,
};

export class AdjustQueryDto {
  @ApiPropertyOptional({ description: 'true: return what would change without writing anything' })
  @IsOptional()
  @Transform(({ value }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean()
  preview?: boolean;
}
