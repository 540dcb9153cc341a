import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Length,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import {
  canonicalTimeZone,
  IsIanaTimeZone,
  IsOptionalNotNull,
  NoOverlappingIntervals,
} from '../../common/validation/validators.js';
import { WeeklyIntervalDto } from '../../common/validation/weekly-interval.dto.js';

export class CreateClinicDto {
  @ApiProperty({ example: 'Chairside Fort Lauderdale' })
  @IsString()
  @Length(1, 200)
  name: string;

  @ApiProperty({ description: 'IANA time zone; every scheduling rule is evaluated in it', example: 'America/New_York' })
  @Transform(({ value }) => canonicalTimeZone(value))
  @IsIanaTimeZone()
  timezone: string;

  @ApiProperty({
    type: [WeeklyIntervalDto],
    description: 'Weekly opening hours in local time; several intervals per weekday allowed, none overlapping',
  })
  @IsArray()
  @ArrayMaxSize(70)
  @ValidateNested({ each: true })
  @Type(() => WeeklyIntervalDto)
  @NoOverlappingIntervals()
  openingHours: WeeklyIntervalDto[];

  @ApiPropertyOptional({
    minimum: 0,
    maximum: 7,
    default: 0,
    description: "How many local days before a session's day check-in opens; 0: on the session's own day only",
  })
  @IsOptionalNotNull()
  @IsInt()
  @Min(0)
  @Max(7)
  checkInOpensDaysBefore?: number;

  @ApiPropertyOptional({
    type: Number,
    nullable: true,
    minimum: 1,
    maximum: 50,
    description:
      'Start staggering: the most infusion starts (sessions that need a chair) in any 15-minute slot, clinic-wide; null: no limit',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(50)
  maxStartsPerSlot?: number | null;

  @ApiPropertyOptional({
    type: Number,
    nullable: true,
    minimum: 1,
    maximum: 50,
    description:
      'Start staggering per nurse: the most infusion starts one staff member has in any 15-minute slot; null: no limit',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(50)
  maxStartsPerNursePerSlot?: number | null;

  @ApiPropertyOptional({
    enum: ['off', 'balanced'],
    default: 'off',
    description:
      "'balanced': among the times every rule allows, a session that needs a chair prefers the one with the fewest chairs occupied (explicit preferred times still win); 'off': the earliest time",
  })
  @IsOptionalNotNull()
  @IsIn(['off', 'balanced'])
  levelling?: 'off' | 'balanced';
}

export class UpdateClinicDto extends PartialType(CreateClinicDto, { skipNullProperties: false }) {}

export class ClinicDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty({ example: 'America/New_York' }) timezone: string;
  @ApiProperty({ type: [WeeklyIntervalDto] }) openingHours: WeeklyIntervalDto[];
  @ApiProperty({ description: "How many local days before a session's day check-in opens (0: that day only)" })
  checkInOpensDaysBefore: number;
  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'Most infusion starts per 15-minute slot (null: no limit)',
  })
  maxStartsPerSlot: number | null;
  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'Most infusion starts per nurse per 15-minute slot (null: no limit)',
  })
  maxStartsPerNursePerSlot: number | null;
  @ApiProperty({ enum: ['off', 'balanced'] }) levelling: 'off' | 'balanced';
  @ApiProperty({ description: 'Raised on every change' }) version: number;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
}

export class ClinicPageDto {
  @ApiProperty({ type: [ClinicDto] }) items: ClinicDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}
