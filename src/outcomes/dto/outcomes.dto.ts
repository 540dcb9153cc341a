import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, IsUUID, Matches } from 'class-validator';
import { IsLocalDate } from '../../common/validation/validators.js';

export class OutcomesQueryDto {
  @ApiPropertyOptional({
    description: 'Comma-separated version numbers (default: every published version)',
    example: '1,2',
  })
  @IsOptional()
  @IsString()
  @Matches(/^[1-9][0-9]{0,8}(,[1-9][0-9]{0,8}){0,49}$/, {
    message: 'versions must be version numbers separated by commas, e.g. 1,2',
  })
  versions?: string;

  @ApiPropertyOptional({
    description:
      'First local date of the period in which plans started (their first session); default: a year before `to`',
    example: '2026-01-01',
  })
  @IsOptional()
  @IsLocalDate()
  from?: string;

  @ApiPropertyOptional({
    description: "Last local date (inclusive); default: today in the clinic's zone",
    example: '2026-12-31',
  })
  @IsOptional()
  @IsLocalDate()
  to?: string;
}

export class OperationsQueryDto {
  @ApiPropertyOptional({
    description: 'First local date of the period in which plans started; default: a year before `to`',
    example: '2026-01-01',
  })
  @IsOptional()
  @IsLocalDate()
  from?: string;

  @ApiPropertyOptional({
    description: "Last local date (inclusive); default: today in the clinic's zone",
    example: '2026-12-31',
  })
  @IsOptional()
  @IsLocalDate()
  to?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'Operator keys: the clinic (clinic keys use their own)' })
  @IsOptional()
  @IsUUID()
  clinicId?: string;
}
