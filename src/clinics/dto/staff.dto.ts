import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsString,
  Length,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { IsOptionalNotNull, NoOverlappingIntervals } from '../../common/validation/validators.js';
import { WeeklyIntervalDto } from '../../common/validation/weekly-interval.dto.js';
import { STAFF_ROLES, type StaffRole } from '../entities/staff-member.entity.js';

export class CreateStaffDto {
  @ApiProperty({ example: 'Maria Lopez, RN' })
  @IsString()
  @Length(1, 200)
  name: string;

  @ApiProperty({ enum: STAFF_ROLES, example: 'nurse' })
  @IsIn(STAFF_ROLES)
  role: StaffRole;

  @ApiProperty({ type: [WeeklyIntervalDto], description: "Weekly availability in the clinic's local time" })
  @IsArray()
  @ArrayMaxSize(70)
  @ValidateNested({ each: true })
  @Type(() => WeeklyIntervalDto)
  @NoOverlappingIntervals()
  availability: WeeklyIntervalDto[];

  @ApiPropertyOptional({
    description: 'How many patients this person can look after at once',
    minimum: 1,
    maximum: 50,
    default: 1,
  })
  @IsOptionalNotNull()
  @IsInt()
  @Min(1)
  @Max(50)
  maxConcurrentPatients?: number;

  @ApiPropertyOptional({ default: true })
  @IsOptionalNotNull()
  @IsBoolean()
  active?: boolean;
}

export class UpdateStaffDto extends PartialType(CreateStaffDto, { skipNullProperties: false }) {}

export class StaffDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) clinicId: string;
  @ApiProperty() name: string;
  @ApiProperty({ enum: STAFF_ROLES }) role: StaffRole;
  @ApiProperty({ type: [WeeklyIntervalDto] }) availability: WeeklyIntervalDto[];
  @ApiProperty() maxConcurrentPatients: number;
  @ApiProperty() active: boolean;
}

export class StaffListDto {
  @ApiProperty({ type: [StaffDto] }) items: StaffDto[];
}
