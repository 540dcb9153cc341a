import { ApiProperty, ApiPropertyOptional, OmitType, PartialType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsEmail,
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
import {
  IsLocalDate,
  IsNumber,
  IsOptionalNotNull,
  NoOverlappingIntervals,
} from '../../common/validation/validators.js';
import { WeeklyIntervalDto } from '../../common/validation/weekly-interval.dto.js';

export class CreatePatientDto {
  @ApiPropertyOptional({
    format: 'uuid',
    description: "The patient's clinic; defaults to the key's clinic (required with an operator key)",
  })
  @IsOptional()
  @IsUUID()
  clinicId?: string;

  @ApiProperty({ example: 'Jordan Rivera' })
  @IsString()
  @Length(1, 200)
  fullName: string;

  @ApiProperty({ example: '1986-04-12', description: 'YYYY-MM-DD, not in the future' })
  @IsLocalDate()
  dateOfBirth: string;

  @ApiPropertyOptional({ nullable: true, type: String, example: 'jordan@example.org' })
  @IsOptional()
  @IsEmail()
  @MaxLength(254)
  email?: string | null;

  @ApiPropertyOptional({ nullable: true, type: String, example: '+1 954 555 0142' })
  @IsOptional()
  @IsString()
  @Matches(/^\+?[0-9 ().-]{5,30}$/, { message: 'phone must be a phone number' })
  phone?: string | null;

  @ApiPropertyOptional({
    nullable: true,
    type: Number,
    description:
      'Body weight in kg, for mg/kg doses. From a clinician or admin key it is the confirmed weight (null clears it). ' +
      'From a front-desk key it is recorded as `pendingWeightKg` and not used for doses until a clinician confirms it ' +
      '(by sending the same weight, or another); null withdraws the pending value.',
    example: 78.5,
    minimum: 1,
    maximum: 400,
  })
  @IsOptional()
  @IsNumber({ maxDecimalPlaces: 1, allowNaN: false, allowInfinity: false })
  @Min(1)
  @Max(400)
  weightKg?: number | null;

  @ApiPropertyOptional({
    nullable: true,
    type: String,
    description: 'Administrative notes (not clinical observations)',
  })
  @IsOptional()
  @IsString()
  @MaxLength(5000)
  notes?: string | null;

  @ApiPropertyOptional({ type: [WeeklyIntervalDto], description: 'Weekly local times the patient cannot attend' })
  @IsOptionalNotNull()
  @IsArray()
  @ArrayMaxSize(70)
  @ValidateNested({ each: true })
  @Type(() => WeeklyIntervalDto)
  @NoOverlappingIntervals()
  unavailable?: WeeklyIntervalDto[];

  @ApiPropertyOptional({
    type: [String],
    description: 'Local dates (YYYY-MM-DD) the patient cannot attend at all',
    example: ['2026-12-24'],
  })
  @IsOptionalNotNull()
  @IsArray()
  @ArrayMaxSize(366)
  @IsLocalDate({ each: true })
  unavailableDates?: string[];

  @ApiPropertyOptional({ type: [WeeklyIntervalDto], description: 'Weekly local times the patient prefers' })
  @IsOptionalNotNull()
  @IsArray()
  @ArrayMaxSize(70)
  @ValidateNested({ each: true })
  @Type(() => WeeklyIntervalDto)
  @NoOverlappingIntervals()
  preferredTimes?: WeeklyIntervalDto[];
}

export class UpdatePatientDto extends PartialType(OmitType(CreatePatientDto, ['clinicId'] as const), {
  skipNullProperties: false,
}) {}

export class PatientQueryDto {
  @ApiPropertyOptional({ description: 'Search by name (case-insensitive, any part)', example: 'rivera' })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  q?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'Operator keys: limit to one clinic' })
  @IsOptional()
  @IsUUID()
  clinicId?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 200, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsNumber({ maxDecimalPlaces: 0 })
  @Min(1)
  @Max(200)
  limit?: number;

  @ApiPropertyOptional({ description: 'The nextCursor of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  cursor?: string;
}

export class PatientDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) clinicId: string;
  @ApiProperty() fullName: string;
  @ApiProperty({ example: '1986-04-12' }) dateOfBirth: string;
  @ApiProperty({ nullable: true, type: String }) email: string | null;
  @ApiProperty({ nullable: true, type: String }) phone: string | null;
  @ApiProperty({ nullable: true, type: Number, description: 'The clinician-confirmed weight: the one mg/kg doses use' })
  weightKg: number | null;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) weightConfirmedAt: string | null;
  @ApiProperty({
    nullable: true,
    type: String,
    format: 'uuid',
    description: 'The key that confirmed the weight (null: seeded or stored before confirmations were kept)',
  })
  weightConfirmedBy: string | null;
  @ApiProperty({
    nullable: true,
    type: Number,
    description: 'A weight entered by the front desk, not used for doses until a clinician confirms it',
  })
  pendingWeightKg: number | null;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) pendingWeightAt: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'uuid' }) pendingWeightBy: string | null;
  @ApiProperty({ nullable: true, type: String }) notes: string | null;
  @ApiProperty({ type: [WeeklyIntervalDto] }) unavailable: WeeklyIntervalDto[];
  @ApiProperty({ type: [String] }) unavailableDates: string[];
  @ApiProperty({ type: [WeeklyIntervalDto] }) preferredTimes: WeeklyIntervalDto[];
  @ApiProperty() version: number;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
}

export class PatientPageDto {
  @ApiProperty({ type: [PatientDto] }) items: PatientDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}
