import { ApiProperty } from '@nestjs/swagger';
import { ADJUSTMENT_TYPES } from './adjust-request.dto.js';

export class SessionChangeDto {
  @ApiProperty({
    format: 'uuid',
    nullable: true,
    type: String,
    description: 'null for a session an add would create (preview)',
  })
  sessionId: string | null;
  @ApiProperty({ example: 'infusion#4' }) ref: string;
  @ApiProperty({
    type: Object,
    nullable: true,
    example: { status: 'scheduled' },
    description: 'null for an added session',
  })
  before: Record<string, unknown> | null;
  @ApiProperty({ type: Object, example: { status: 'cancelled' } }) after: Record<string, unknown>;
}

export class AdjustmentResultDto {
  @ApiProperty({ enum: ADJUSTMENT_TYPES }) type: string;
  @ApiProperty({ description: 'true: nothing was written' }) preview: boolean;
  @ApiProperty({ description: "The plan's version after the change (unchanged in a preview)" }) planVersion: number;
  @ApiProperty({ enum: ['active', 'completed', 'ended_early'] }) planStatus: string;
  @ApiProperty({ type: [SessionChangeDto] }) changes: SessionChangeDto[];
}

export class AdjustmentDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ description: 'The plan version this change produced' }) planVersion: number;
  @ApiProperty({ example: 'check_in' }) type: string;
  @ApiProperty({ nullable: true, type: String }) reason: string | null;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) actorKeyId: string | null;
  @ApiProperty({ nullable: true, type: String }) actorRole: string | null;
  @ApiProperty({ format: 'date-time' }) occurredAt: string;
  @ApiProperty({ description: 'Per affected session: sessionId, ref, before, after', type: [Object] })
  changes: unknown[];
}

export class AdjustmentListDto {
  @ApiProperty({ type: [AdjustmentDto] }) items: AdjustmentDto[];
}
