import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { MaxChars } from '../../common/validation/validators.js';

export const SEVERITIES = ['mild', 'moderate', 'severe'] as const;

export class BloodPressureDto {
  @ApiProperty({ minimum: 50, maximum: 260, example: 128 }) @IsInt() @Min(50) @Max(260) systolic: number;
  @ApiProperty({ minimum: 30, maximum: 160, example: 82 }) @IsInt() @Min(30) @Max(160) diastolic: number;
}

export class AdverseEventDto {
  @ApiProperty({ example: 'Nausea' })
  @IsString()
  @Length(1, 200)
  @Matches(/\S/, { message: 'term must not be blank' })
  term: string;
  @ApiProperty({ enum: SEVERITIES }) @IsIn(SEVERITIES) severity: (typeof SEVERITIES)[number];
  @ApiPropertyOptional({ example: 'Ondansetron 4 mg given' }) @IsOptional() @IsString() @MaxLength(500) action?: string;
}

/** At least one measure; every score in its instrument's range. */
export class CreateObservationDto {
  @ApiPropertyOptional({ minimum: 0, maximum: 10, description: 'Craving, 0–10' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(10)
  craving?: number;
  @ApiPropertyOptional({ minimum: 0, maximum: 48, description: 'COWS withdrawal score, 0–48' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(48)
  cows?: number;
  @ApiPropertyOptional({ minimum: 0, maximum: 27, description: 'PHQ-9 depression score, 0–27' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(27)
  phq9?: number;
  @ApiPropertyOptional({ minimum: 0, maximum: 21, description: 'GAD-7 anxiety score, 0–21' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(21)
  gad7?: number;
  @ApiPropertyOptional({ type: BloodPressureDto })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => BloodPressureDto)
  bloodPressure?: BloodPressureDto;
  @ApiPropertyOptional({ minimum: 20, maximum: 250, description: 'Heart rate, beats per minute' })
  @IsOptional()
  @IsInt()
  @Min(20)
  @Max(250)
  heartRate?: number;
  @ApiPropertyOptional({ minimum: 50, maximum: 100, description: 'SpO2, %' })
  @IsOptional()
  @IsInt()
  @Min(50)
  @Max(100)
  spo2?: number;
  @ApiPropertyOptional({ type: [AdverseEventDto] })
  @ValidateIf((_, v) => v !== undefined)
  @IsArray()
  @ArrayMaxSize(20)
  @IsObject({ each: true })
  @ValidateNested({ each: true })
  @Type(() => AdverseEventDto)
  adverseEvents?: AdverseEventDto[];
  @ApiPropertyOptional({ description: 'Free-text clinical note (up to 5000 characters)' })
  @IsOptional()
  @IsString()
  @MaxChars(5000)
  @Matches(/\S/, { message: 'note must not be blank' })
  note?: string;
}

export class ObservationDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) sessionId: string;
  @ApiProperty({ format: 'uuid' }) planId: string;
  @ApiProperty({ example: 'infusion#2' }) sessionRef: string;
  @ApiProperty({ example: 'Ketamine infusion 2/6' }) sessionLabel: string;
  @ApiProperty({ description: "When recorded, with the clinic's offset" }) recordedAt: string;
  @ApiProperty({ format: 'uuid', nullable: true, type: String, description: 'The API key that recorded it' })
  recordedBy: string | null;
  @ApiProperty({ nullable: true, type: Number }) craving: number | null;
  @ApiProperty({ nullable: true, type: Number }) cows: number | null;
  @ApiProperty({ nullable: true, type: Number }) phq9: number | null;
  @ApiProperty({ nullable: true, type: Number }) gad7: number | null;
  @ApiProperty({ nullable: true, type: BloodPressureDto }) bloodPressure: BloodPressureDto | null;
  @ApiProperty({ nullable: true, type: Number }) heartRate: number | null;
  @ApiProperty({ nullable: true, type: Number }) spo2: number | null;
  @ApiProperty({ type: [AdverseEventDto] }) adverseEvents: AdverseEventDto[];
  @ApiProperty({ nullable: true, type: String }) note: string | null;
  @ApiProperty({ nullable: true, type: Object, description: "The session's dose given, when completed" })
  doseGiven: unknown;
}

export class ObservationListDto {
  @ApiProperty({ type: [ObservationDto] }) items: ObservationDto[];
}
