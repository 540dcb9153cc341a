import { Controller, Get, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiGoneResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { Actor } from '../common/auth/actor.js';
import { CurrentActor } from '../common/auth/current-actor.decorator.js';
import { ALL_ROLES, Roles } from '../common/auth/roles.decorator.js';
import { ProblemDto } from '../common/http/problem.dto.js';
import { SyncPageDto, SyncQueryDto } from './dto/sync.dto.js';
import { SyncService } from './sync.service.js';

const DESCRIPTION = `Keeps a client's copy of a clinic's sessions up to date, like Google Calendar's sync tokens.

**Full sync** (no token): the clinic's sessions that are not cancelled, ordered by id, \`limit\` per page. Every page
but the last carries \`nextPageToken\`; pass it as \`pageToken\` for the next page. Only the last page carries
\`nextSyncToken\`: keep it.

**Incremental sync** (\`syncToken\` = a kept \`nextSyncToken\`): one item per session that changed since the token was
issued, in its current state (\`revision\` rises on every change: keep the highest). Cancelled sessions come with
\`status: "cancelled"\`, deleted ones as tombstones \`{id, planId, status: "cancelled", revision, deleted: true}\`; they
cannot be filtered out. Paged the same way; the last page carries the next \`nextSyncToken\`. No changes: an empty
\`items\` and a \`nextSyncToken\` (possibly the same). A token may be used again as long as it is valid.

A change is never skipped, whatever order transactions commit in; it may come twice (for instance a change made
while a full sync was paging comes again in the next incremental sync), so apply items by \`revision\`.

**Tokens** are opaque and signed, tied to the clinic, and valid for 30 days. A token that is older, tampered with,
of another clinic, or of the wrong kind (a page token as \`syncToken\` or the reverse) gets
\`410 Gone\` with \`code: FULL_SYNC_REQUIRED\` and \`reason: "fullSyncRequired"\`: discard the copy and do a full sync.
\`syncToken\` and \`pageToken\` together, or any unknown query parameter (a filter), are a 400.

Every session item returned is audited as a read (\`session.sync\`).`;

@ApiTags('sync')
@ApiBadRequestResponse({
  description:
    'Invalid input (bad `limit`, both tokens, an operator key without `clinicId`); `errors` names each field',
  type: ProblemDto,
})
@ApiNotFoundResponse({
  description: 'Another clinic (clinic keys) or no such clinic (operator keys)',
  type: ProblemDto,
})
@Controller('sync')
export class SyncController {
  constructor(private readonly service: SyncService) {}

  @Get('sessions')
  @Roles(...ALL_ROLES)
  @ApiOperation({ summary: 'Sessions, fully or changed since a sync token (paged)', description: DESCRIPTION })
  @ApiOkResponse({ type: SyncPageDto })
  @ApiGoneResponse({
    description:
      'The token is unknown, tampered with, expired (older than 30 days), of another clinic or of the wrong kind: `code` FULL_SYNC_REQUIRED, `reason` "fullSyncRequired"; start over with a full sync',
    type: ProblemDto,
  })
  sessions(@CurrentActor() actor: Actor, @Query() q: SyncQueryDto): Promise<SyncPageDto> {
    return this.service.sessions(actor, q);
  }
}
