import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';
import { IsLocalDate } from '../../common/validation/validators.js';
import { STEP_STAFF_ROLES } from '../../protocols/domain/protocol-step.js';
import { ResourceRefDto } from './plan.dto.js';

export const MAX_AVAILABILITY_DAYS = 28;

export class AvailabilityQueryDto {
  @ApiProperty({ description: 'First local date', example: '2026-12-01' }) @IsLocalDate() from: string;
  @ApiProperty({
    description: `Last local date (inclusive), at most ${MAX_AVAILABILITY_DAYS} days after from and 730 days after today`,
    example: '2026-12-14',
  })
  @IsLocalDate()
  to: string;

  @ApiProperty({ minimum: 5, maximum: 720, example: 40 })
  @Type(() => Number)
  @IsInt()
  @Min(5)
  @Max(720)
  durationMinutes: number;

  @ApiPropertyOptional({ minimum: 0, maximum: 720, default: 0, description: 'Chair/staff time after the session' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(720)
  recoveryMinutes?: number;

  @ApiPropertyOptional({ enum: STEP_STAFF_ROLES, description: 'A staff member of this role must be free' })
  @IsOptional()
  @IsIn(STEP_STAFF_ROLES)
  role?: (typeof STEP_STAFF_ROLES)[number];

  @ApiPropertyOptional({ description: 'A chair must be free', default: false })
  @IsOptional()
  @Transform(({ value }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean()
  needsChair?: boolean;
}

export class FreeSlotDto {
  @ApiProperty({ example: '2026-12-01T08:00:00-05:00' }) start: string;
  @ApiProperty({ example: '2026-12-01' }) localDate: string;
  @ApiProperty({ example: '08:00' }) localTime: string;
  @ApiProperty({ type: ResourceRefDto, nullable: true, description: 'A chair that is free (the first in order)' })
  chair: ResourceRefDto | null;
  @ApiProperty({ type: ResourceRefDto, nullable: true, description: 'A staff member who is free' })
  staff: ResourceRefDto | null;
  @ApiProperty({ description: 'How many chairs are free' }) freeChairs: number;
  @ApiProperty({ description: 'How many staff members of the role are free' }) freeStaff: number;
}

export class AvailabilityDto {
  @ApiProperty({ example: 'America/New_York' }) timezone: string;
  @ApiProperty({ type: [FreeSlotDto] }) slots: FreeSlotDto[];
}
