import { Foundation1764028800000 } from './1764028800000-Foundation.js';
import { ProtocolTemplates1764115200000 } from './1764115200000-ProtocolTemplates.js';
import { PlansAndSessions1764201600000 } from './1764201600000-PlansAndSessions.js';
import { SessionLifecycle1764288000000 } from './1764288000000-SessionLifecycle.js';
import { Observations1764374400000 } from './1764374400000-Observations.js';
import { CalendarSync1764460800000 } from './1764460800000-CalendarSync.js';
import { AuditDetail1764547200000 } from './1764547200000-AuditDetail.js';
import { WebhookSecretRotation1764633600000 } from './1764633600000-WebhookSecretRotation.js';
import { MultiClinicAdminKeys1764720000000 } from './1764720000000-MultiClinicAdminKeys.js';
import { RuntimeRole1764806400000 } from './1764806400000-RuntimeRole.js';
import { CheckInWindow1764892800000 } from './1764892800000-CheckInWindow.js';
import { OneActiveSeries1764892800001 } from './1764892800001-OneActiveSeries.js';
import { ConfirmedWeight1764979200000 } from './1764979200000-ConfirmedWeight.js';
import { ClientRequestId1764979200001 } from './1764979200001-ClientRequestId.js';
import { FeedsFollowTheirKey1765065600000 } from './1765065600000-FeedsFollowTheirKey.js';
import { StartStaggering1796600000000 } from './1796600000000-StartStaggering.js';
import { Levelling1796700000000 } from './1796700000000-Levelling.js';
import { OutcomeFacts1796800000000 } from './1796800000000-OutcomeFacts.js';

/** Every migration, oldest first. `npm run migration:generate` adds new files; list them here. */
export const MIGRATIONS = [
  Foundation1764028800000,
  ProtocolTemplates1764115200000,
  PlansAndSessions1764201600000,
  SessionLifecycle1764288000000,
  Observations1764374400000,
  CalendarSync1764460800000,
  AuditDetail1764547200000,
  WebhookSecretRotation1764633600000,
  MultiClinicAdminKeys1764720000000,
  RuntimeRole1764806400000,
  CheckInWindow1764892800000,
  OneActiveSeries1764892800001,
  ConfirmedWeight1764979200000,
  ClientRequestId1764979200001,
  FeedsFollowTheirKey1765065600000,
  StartStaggering1796600000000,
  Levelling1796700000000,
  OutcomeFacts1796800000000,
];
