import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsIn,
  IsOptional,
  IsString,
  IsUUID,
  registerDecorator,
  type ValidationOptions,
} from 'class-validator';
import { PageQueryDto } from '../../common/paging/page-query.dto.js';
import { MaxChars } from '../../common/validation/validators.js';
import { webhookUrlSyntaxError } from '../network-policy.js';
import {
  WEBHOOK_ENDPOINT_STATUSES,
  WEBHOOK_EVENT_TYPES,
  WEBHOOK_MESSAGE_STATUSES,
  type WebhookEndpointStatus,
  type WebhookEventType,
  type WebhookMessageStatus,
} from '../webhook-event-types.js';

/** An absolute http(s) URL without credentials or fragment; the message says what is wrong. */
function IsWebhookUrl(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isWebhookUrl',
      target: target.constructor,
      propertyName: String(propertyName),
      options,
      validator: {
        validate: (v: unknown) => typeof v === 'string' && webhookUrlSyntaxError(v) === undefined,
        defaultMessage: (args) =>
          (typeof args?.value === 'string' && webhookUrlSyntaxError(args.value)) || 'url must be a string',
      },
    });
}

export class CreateWebhookDto {
  @ApiProperty({
    description:
      'Where events are POSTed: an absolute http(s) URL, at most 2000 characters, without credentials or fragment. Private and loopback addresses are refused unless the operator allows them.',
    example: 'https://example.org/hooks/chairside',
    maxLength: 2000,
  })
  @IsString()
  @MaxChars(2000)
  @IsWebhookUrl()
  url: string;

  @ApiProperty({
    enum: WEBHOOK_EVENT_TYPES,
    isArray: true,
    description: 'The events to receive (at least one)',
    example: ['session.created', 'session.cancelled'],
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(WEBHOOK_EVENT_TYPES.length)
  @ArrayUnique()
  @IsIn(WEBHOOK_EVENT_TYPES, { each: true })
  eventTypes: WebhookEventType[];

  @ApiPropertyOptional({
    description: 'A note for people, e.g. what receives the events',
    maxLength: 500,
    example: 'Reminder service',
  })
  @IsOptional()
  @IsString()
  @MaxChars(500)
  description?: string;

  @ApiPropertyOptional({
    format: 'uuid',
    description: 'Operator keys: the clinic whose events are sent. Clinic keys may omit it.',
  })
  @IsOptional()
  @IsUUID()
  clinicId?: string;
}

export class WebhookQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ format: 'uuid', description: 'Operator keys: only this clinic' })
  @IsOptional()
  @IsUUID()
  clinicId?: string;
}

export class WebhookMessageQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: WEBHOOK_MESSAGE_STATUSES, description: 'Only messages in this state' })
  @IsOptional()
  @IsIn(WEBHOOK_MESSAGE_STATUSES)
  status?: WebhookMessageStatus;
}

export class WebhookDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) clinicId: string;
  @ApiProperty({ example: 'https://example.org/hooks/chairside' }) url: string;
  @ApiProperty({ enum: WEBHOOK_EVENT_TYPES, isArray: true }) eventTypes: WebhookEventType[];
  @ApiProperty({ nullable: true, type: String }) description: string | null;
  @ApiProperty({ enum: WEBHOOK_ENDPOINT_STATUSES, description: '`disabled` after the receiver answered 410 Gone' })
  status: WebhookEndpointStatus;
  @ApiProperty({ nullable: true, type: String, description: 'Why the endpoint was disabled' }) statusReason:
    string | null;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
}

export class CreatedWebhookDto extends WebhookDto {
  @ApiProperty({
    description:
      'The signing secret (`whsec_` + base64 of 32 random bytes) for verifying `webhook-signature` (Standard Webhooks). Shown only here, once.',
    example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  })
  secret: string;
}

export class RotatedWebhookSecretDto extends WebhookDto {
  @ApiProperty({
    description: 'The new signing secret (`whsec_` + base64 of 32 random bytes). Shown only here, once.',
    example: 'whsec_Yk3nQ0vJ8yqS2mX1cR7tB4wZ6pL9dF0gH5jK8uN2aE4=',
  })
  secret: string;

  @ApiProperty({
    format: 'date-time',
    description:
      'Until then every attempt is signed with both the new and the replaced secret (`webhook-signature: v1,<new> v1,<old>`), ' +
      'so receivers holding either one verify; afterwards with the new one only.',
  })
  previousSecretExpiresAt: string;
}

export class WebhookPageDto {
  @ApiProperty({ type: [WebhookDto] }) items: WebhookDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}

export class WebhookAttemptDto {
  @ApiProperty({
    description: 'Counts from 1; a number may be missing when an instance stopped in the middle of a send',
  })
  attempt: number;
  @ApiProperty({ format: 'date-time' }) startedAt: string;
  @ApiProperty() durationMs: number;
  @ApiProperty({ nullable: true, type: Number, description: "The receiver's status, null when no response came" })
  statusCode: number | null;
  @ApiProperty({ nullable: true, type: String, example: 'timeout after 15000 ms' }) error: string | null;
}

export class WebhookMessageDto {
  @ApiProperty({
    description: 'The message id, also sent as `webhook-id` on every attempt (the idempotency key)',
    example: 'msg_3f0c2b6e8d3a4f0f9d8e7c6b5a493827',
  })
  id: string;
  @ApiProperty({ enum: WEBHOOK_EVENT_TYPES }) eventType: string;
  @ApiProperty({
    enum: WEBHOOK_MESSAGE_STATUSES,
    description: '`failed` after the last retry (or a 410): replay it with …/retry',
  })
  status: WebhookMessageStatus;
  @ApiProperty({ description: 'Attempts made so far' }) attempts: number;
  @ApiProperty({
    format: 'date-time',
    nullable: true,
    type: String,
    description: 'When the next attempt is due (pending messages only)',
  })
  nextAttemptAt: string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) deliveredAt: string | null;
  @ApiProperty({ nullable: true, type: Number, description: 'Status of the last response' }) lastStatus: number | null;
  @ApiProperty({ nullable: true, type: String }) lastError: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ type: [WebhookAttemptDto], description: 'Every delivery attempt, oldest first' })
  deliveryAttempts: WebhookAttemptDto[];
}

export class WebhookMessagePageDto {
  @ApiProperty({ type: [WebhookMessageDto] }) items: WebhookMessageDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}
