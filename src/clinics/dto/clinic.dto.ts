import { ApiProperty, PartialType } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsString, Length, ValidateNested } from 'class-validator';
import { canonicalTimeZone, IsIanaTimeZone, NoOverlappingIntervals } from '../../common/validation/validators.js';
import { WeeklyIntervalDto } from '../../common/validation/weekly-interval.dto.js';

export class CreateClinicDto {
  @ApiProperty({ example: 'Chairside Fort Lauderdale' })
  @IsString() @Length(1, 200)
  name: string;

  @ApiProperty({ description: 'IANA time zone; every scheduling rule is evaluated in it', example: 'America/New_York' })
  @Transform(({ value }) => canonicalTimeZone(value)) @IsIanaTimeZone()
  timezone: string;

  @ApiProperty({
    type: [WeeklyIntervalDto],
    description: 'Weekly opening hours in local time; several intervals per weekday allowed, none overlapping',
  })
  @IsArray() @ArrayMaxSize(70) @ValidateNested({ each: true }) @Type(() => WeeklyIntervalDto) @NoOverlappingIntervals()
  openingHours: WeeklyIntervalDto[];
}

export class UpdateClinicDto extends PartialType(CreateClinicDto, { skipNullProperties: false }) {}

export class ClinicDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty({ example: 'America/New_York' }) timezone: string;
  @ApiProperty({ type: [WeeklyIntervalDto] }) openingHours: WeeklyIntervalDto[];
  @ApiProperty({ description: 'Raised on every change' }) version: number;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
}

export class ClinicPageDto {
  @ApiProperty({ type: [ClinicDto] }) items: ClinicDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}
