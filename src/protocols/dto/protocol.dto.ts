import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsOptional,
  IsString,
  IsUUID,
  Length,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import { PageQueryDto } from '../../common/paging/page-query.dto.js';
import type { ProtocolStep } from '../domain/protocol-step.js';
import { ProtocolStepDto } from './protocol-step.dto.js';

export class DraftDto {
  @ApiProperty({ example: 'Ketamine infusion series for opioid withdrawal' }) @IsString() @Length(1, 200) name: string;
  @ApiProperty({ example: 'Opioid withdrawal' }) @IsString() @Length(1, 200) indication: string;
  @ApiPropertyOptional({ nullable: true, type: String }) @IsOptional() @IsString() @MaxLength(5000) description?:
    string | null;

  @ApiProperty({
    type: [ProtocolStepDto],
    description: 'Steps in dependency order: each may refer only to earlier steps',
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(30)
  @ValidateNested({ each: true })
  @Type(() => ProtocolStepDto)
  steps: ProtocolStepDto[];
}

export class CreateProtocolDto extends DraftDto {
  @ApiPropertyOptional({ format: 'uuid', description: "Defaults to the key's clinic; required with an operator key" })
  @IsOptional()
  @IsUUID()
  clinicId?: string;
}

export class ProtocolVersionSummaryDto {
  @ApiProperty({ example: 1 }) version: number;
  @ApiProperty({ format: 'date-time' }) publishedAt: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) retiredAt: string | null;
}

export class ProtocolDraftViewDto {
  @ApiProperty({ description: 'Raised on every change of the draft; the ETag is "d<revision>"' }) revision: number;
  @ApiProperty({ description: 'True when the draft differs from the latest published version' }) changed: boolean;
  @ApiProperty({ type: [ProtocolStepDto] }) steps: ProtocolStep[];
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
}

export class ProtocolDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) clinicId: string;
  @ApiProperty() name: string;
  @ApiProperty() indication: string;
  @ApiProperty({ nullable: true, type: String }) description: string | null;
  @ApiProperty({ type: ProtocolDraftViewDto }) draft: ProtocolDraftViewDto;
  @ApiProperty({ type: [ProtocolVersionSummaryDto] }) versions: ProtocolVersionSummaryDto[];
  @ApiProperty({ nullable: true, type: Number, description: 'Highest published version still in use for new plans' })
  currentVersion: number | null;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
}

export class ProtocolVersionDto {
  @ApiProperty({ format: 'uuid' }) protocolId: string;
  @ApiProperty({ format: 'uuid' }) clinicId: string;
  @ApiProperty() version: number;
  @ApiProperty() name: string;
  @ApiProperty() indication: string;
  @ApiProperty({ nullable: true, type: String }) description: string | null;
  @ApiProperty({ type: [ProtocolStepDto] }) steps: ProtocolStep[];
  @ApiProperty({ format: 'date-time' }) publishedAt: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) retiredAt: string | null;
}

export class ProtocolPageDto {
  @ApiProperty({ type: [ProtocolDto] }) items: ProtocolDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}

export class ProtocolQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ format: 'uuid', description: 'Operator keys: limit to one clinic' })
  @IsOptional()
  @IsUUID()
  clinicId?: string;
}
