import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayUnique, IsArray, IsIn, IsOptional, IsString, IsUUID, Length } from 'class-validator';
import { IsOptionalNotNull } from '../../common/validation/validators.js';
import { API_ROLES, type ApiRole } from '../entities/api-key.entity.js';

export const MAX_ADDITIONAL_CLINICS = 50;

export class CreateApiKeyDto {
  @ApiProperty({ description: 'What the key is for, e.g. "Front desk tablet"', example: 'Front desk tablet' })
  @IsString()
  @Length(1, 100)
  name: string;

  @ApiProperty({ enum: API_ROLES, example: 'front_desk' })
  @IsIn(API_ROLES)
  role: ApiRole;

  @ApiPropertyOptional({
    format: 'uuid',
    description:
      'The clinic the key belongs to. A clinic admin may omit it (their own clinic). An operator key omitting it creates another operator key (admin role only).',
  })
  @IsOptional()
  @IsUUID()
  clinicId?: string;

  @ApiPropertyOptional({
    type: [String],
    format: 'uuid',
    maxItems: MAX_ADDITIONAL_CLINICS,
    description:
      'Further clinics an admin key may act in (operator keys only; the key still belongs to `clinicId`). ' +
      'A request picks one with the `Chairside-Clinic` header; without the header the key acts in `clinicId`.',
  })
  @IsOptionalNotNull()
  @IsArray()
  @ArrayMaxSize(MAX_ADDITIONAL_CLINICS)
  @ArrayUnique()
  @IsUUID('all', { each: true })
  additionalClinicIds?: string[];
}

export class ApiKeyDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({
    format: 'uuid',
    nullable: true,
    type: String,
    description: 'null for an operator key spanning every clinic',
  })
  clinicId: string | null;
  @ApiProperty({
    type: [String],
    format: 'uuid',
    description:
      "Further clinics this admin key may act in (with the `Chairside-Clinic` header); a clinic's admin sees only those they share",
  })
  additionalClinicIds: string[];
  @ApiProperty() name: string;
  @ApiProperty({ enum: API_ROLES }) role: ApiRole;
  @ApiProperty({ description: 'First characters of the key, to tell keys apart', example: 'cs_Hx2f9aQ' })
  keyPrefix: string;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) revokedAt: string | null;
}

export class CreatedApiKeyDto extends ApiKeyDto {
  @ApiProperty({ description: 'The secret key. Shown once; only its hash is stored.', example: 'cs_Hx2f9aQ…' })
  key: string;
}

export class ApiKeyPageDto {
  @ApiProperty({ type: [ApiKeyDto] }) items: ApiKeyDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}
