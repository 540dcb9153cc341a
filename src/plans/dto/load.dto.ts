import { ApiProperty } from '@nestjs/swagger';
import { IsLocalDate } from '../../common/validation/validators.js';

/** The longest range one load request covers. */
export const MAX_LOAD_DAYS = 31;

export class LoadQueryDto {
  @ApiProperty({ description: 'First local date', example: '2026-12-01' }) @IsLocalDate() from: string;
  @ApiProperty({
    description: `Last local date (inclusive), at most ${MAX_LOAD_DAYS} days after from and 730 days after today`,
    example: '2026-12-07',
  })
  @IsLocalDate()
  to: string;
}

export class LoadHourDto {
  @ApiProperty({ example: '08:00', description: 'Local wall time the hour starts at' }) hour: string;
  @ApiProperty({ example: '2026-12-01T08:00:00-05:00' }) start: string;
  @ApiProperty({
    example: 1.5,
    description: 'Chairs occupied on average over the hour (chair-minutes / 60), recovery included',
  })
  chairsOccupied: number;
  @ApiProperty({ example: 3, description: 'The most chairs occupied at once within the hour' }) peakChairs: number;
  @ApiProperty({ example: 2, description: 'Infusion starts (sessions holding a chair) in the hour' }) starts: number;
  @ApiProperty({ example: 1, description: 'The most infusion starts in one of its quarter hours' })
  peakStartsPerSlot: number;
}

export class LoadDayDto {
  @ApiProperty({ example: '2026-12-01' }) date: string;
  @ApiProperty({ type: [LoadHourDto], description: 'Hours the clinic is open, and any other hour with a chair in use' })
  hours: LoadHourDto[];
}

export class LoadDto {
  @ApiProperty({ example: 'America/New_York' }) timezone: string;
  @ApiProperty({ description: 'Active chairs' }) chairs: number;
  @ApiProperty({ type: Number, nullable: true }) maxStartsPerSlot: number | null;
  @ApiProperty({ type: Number, nullable: true }) maxStartsPerNursePerSlot: number | null;
  @ApiProperty({ type: [LoadDayDto] }) days: LoadDayDto[];
}
