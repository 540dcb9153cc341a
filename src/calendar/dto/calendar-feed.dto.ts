import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, IsUUID, Matches } from 'class-validator';
import { PageQueryDto } from '../../common/paging/page-query.dto.js';
import { IsOptionalNotNull, MaxChars } from '../../common/validation/validators.js';
import { FEED_SCOPES, type FeedScope } from '../calendar.repository.js';

export class CreateCalendarFeedDto {
  @ApiProperty({
    enum: FEED_SCOPES,
    description:
      'What the feed holds: every session of the clinic, or those of one chair, one staff member or one patient. ' +
      "Only a patient feed carries a patient's name.",
    example: 'chair',
  })
  @IsIn(FEED_SCOPES)
  scope: FeedScope;

  @ApiPropertyOptional({ format: 'uuid', description: 'The chair; required with scope `chair`, refused otherwise' })
  @IsOptionalNotNull()
  @IsUUID()
  chairId?: string;

  @ApiPropertyOptional({
    format: 'uuid',
    description: 'The staff member; required with scope `staff`, refused otherwise',
  })
  @IsOptionalNotNull()
  @IsUUID()
  staffId?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'The patient; required with scope `patient`, refused otherwise' })
  @IsOptionalNotNull()
  @IsUUID()
  patientId?: string;

  @ApiPropertyOptional({
    description:
      "The calendar's name in subscribers' apps (X-WR-CALNAME); by default the clinic's name, with the chair, staff member or patient",
    maxLength: 200,
    example: 'Chair 1 – infusions',
  })
  @IsOptionalNotNull()
  @IsString()
  @MaxChars(200)
  @Matches(/\S/, { message: 'name must not be blank' })
  name?: string;

  @ApiPropertyOptional({
    format: 'uuid',
    description: "Required with an operator key; a clinic key's own clinic by default",
  })
  @IsOptional()
  @IsUUID()
  clinicId?: string;
}

export class CalendarFeedQueryDto extends PageQueryDto {
  @ApiPropertyOptional({
    format: 'uuid',
    description: "The clinic (operator keys; a clinic key sees only its own clinic's feeds)",
  })
  @IsOptional()
  @IsUUID()
  clinicId?: string;
}

export class CalendarFeedCreatorDto {
  @ApiProperty({ format: 'uuid', description: 'The API key that created the feed' }) keyId: string;
  @ApiProperty({ description: "The key's name" }) name: string;
  @ApiProperty({ description: "The key's role", example: 'front_desk' }) role: string;
  @ApiProperty({ description: "The key's first characters, as in the key listing", example: 'cs_Hx2f9aQ' })
  keyPrefix: string;
}

export class CalendarFeedDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) clinicId: string;
  @ApiProperty({ enum: FEED_SCOPES }) scope: FeedScope;
  @ApiProperty({
    format: 'uuid',
    nullable: true,
    type: String,
    description: 'The chair, staff member or patient; null for a clinic feed',
  })
  scopeId: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'The name given at creation, if any' }) name: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({
    type: CalendarFeedCreatorDto,
    nullable: true,
    description:
      'The API key that created the feed. Revoking that key revokes the feed. Null when the creator is not known.',
  })
  createdBy: CalendarFeedCreatorDto | null;
}

export class CreatedCalendarFeedDto extends CalendarFeedDto {
  @ApiProperty({
    description:
      'The subscription URL (webcal clients: replace https:// by webcal://). It embeds the token: shown once, treat it as a secret.',
    example: 'https://chairside.example.org/v1/calendar/feeds/cfd_Hx2f9aQ….ics',
  })
  url: string;

  @ApiProperty({
    description:
      'The feed token (256 random bits). Shown once; only its SHA-256 is stored. Revoke the feed to stop it.',
    example: 'cfd_Hx2f9aQ…',
  })
  token: string;
}

export class CalendarFeedPageDto {
  @ApiProperty({ type: [CalendarFeedDto], description: 'Active (not revoked) feeds, newest first' })
  items: CalendarFeedDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}
