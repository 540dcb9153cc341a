import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import { IsBoolean, IsString, Length } from 'class-validator';
import { IsOptionalNotNull } from '../../common/validation/validators.js';

export class CreateChairDto {
  @ApiProperty({ description: 'Unique within the clinic', example: 'Chair 1' })
  @IsString()
  @Length(1, 100)
  name: string;

  @ApiPropertyOptional({ description: 'Inactive chairs are never scheduled', default: true })
  @IsOptionalNotNull()
  @IsBoolean()
  active?: boolean;
}

export class UpdateChairDto extends PartialType(CreateChairDto, { skipNullProperties: false }) {}

export class ChairDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) clinicId: string;
  @ApiProperty() name: string;
  @ApiProperty() active: boolean;
}

export class ChairListDto {
  @ApiProperty({ type: [ChairDto] }) items: ChairDto[];
}
