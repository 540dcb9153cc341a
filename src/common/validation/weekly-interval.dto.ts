import { ApiProperty } from '@nestjs/swagger';
import { IsInt, Max, Min } from 'class-validator';
import { IsAfterTime, IsLocalEndTime, IsLocalTime } from './validators.js';

/** A recurring weekly interval in the clinic's local time. */
export class WeeklyIntervalDto {
  @ApiProperty({ description: 'ISO weekday: 1 = Monday … 7 = Sunday', minimum: 1, maximum: 7, example: 1 })
  @IsInt()
  @Min(1)
  @Max(7)
  weekday: number;

  @ApiProperty({ description: 'Local start time, HH:mm', example: '08:00' })
  @IsLocalTime()
  start: string;

  @ApiProperty({ description: 'Local end time, HH:mm (24:00 = end of day); later than start', example: '18:00' })
  @IsLocalEndTime()
  @IsAfterTime('start')
  end: string;
}
