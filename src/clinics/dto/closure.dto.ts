import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Length, ValidateIf } from 'class-validator';
import { IsLocalDate, IsLocalEndTime, IsLocalTime } from '../../common/validation/validators.js';

/**
 * A closure in local terms. Without times it closes whole days (startDate … endDate); with
 * times it runs from startDate startTime to endDate endTime (e.g. an afternoon staff meeting).
 */
export class CreateClosureDto {
  @ApiProperty({ example: '2026-12-25' })
  @IsLocalDate()
  startDate: string;

  @ApiPropertyOptional({ description: 'Last day of the closure (defaults to startDate)', example: '2026-12-26' })
  @IsOptional()
  @IsLocalDate()
  endDate?: string;

  @ApiPropertyOptional({ description: 'Local start time; with endTime makes a part-day closure', example: '12:00' })
  @ValidateIf((o: CreateClosureDto) => o.startTime !== undefined || o.endTime !== undefined)
  @IsLocalTime()
  startTime?: string;

  @ApiPropertyOptional({ description: 'Local end time (24:00 allowed)', example: '17:00' })
  @ValidateIf((o: CreateClosureDto) => o.startTime !== undefined || o.endTime !== undefined)
  @IsLocalEndTime()
  endTime?: string;

  @ApiProperty({ example: 'Christmas Day' })
  @IsString()
  @Length(1, 500)
  reason: string;
}

export class ClosureQueryDto {
  @ApiPropertyOptional({ description: 'Only closures ending on or after this local date', example: '2026-12-01' })
  @IsOptional()
  @IsLocalDate()
  from?: string;

  @ApiPropertyOptional({ description: 'Only closures starting on or before this local date', example: '2026-12-31' })
  @IsOptional()
  @IsLocalDate()
  to?: string;
}

export class ClosureDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) clinicId: string;
  @ApiProperty({ example: '2026-12-25' }) startDate: string;
  @ApiProperty({ example: '2026-12-25' }) endDate: string;
  @ApiProperty({ nullable: true, type: String, example: null }) startTime: string | null;
  @ApiProperty({ nullable: true, type: String, example: null }) endTime: string | null;
  @ApiProperty() reason: string;
}

export class ClosureListDto {
  @ApiProperty({ type: [ClosureDto] }) items: ClosureDto[];
}
