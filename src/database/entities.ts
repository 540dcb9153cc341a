import { ApiKeyEntity } from '../api-keys/entities/api-key.entity.js';
import { AuditEventEntity } from '../audit/entities/audit-event.entity.js';
import { ChairEntity } from '../clinics/entities/chair.entity.js';
import { ClinicEntity } from '../clinics/entities/clinic.entity.js';
import { ClosureEntity } from '../clinics/entities/closure.entity.js';
import { StaffMemberEntity } from '../clinics/entities/staff-member.entity.js';
import { PatientEntity } from '../patients/entities/patient.entity.js';
import { PlanEntity } from '../plans/entities/plan.entity.js';
import { SessionEntity } from '../sessions/entities/session.entity.js';
import { ProtocolVersionEntity } from '../protocols/entities/protocol-version.entity.js';
import { ProtocolEntity } from '../protocols/entities/protocol.entity.js';

/** Every entity TypeORM maps; the schema itself comes only from migrations/. */
export const ENTITIES = [
  ClinicEntity,
  ChairEntity,
  StaffMemberEntity,
  ClosureEntity,
  PatientEntity,
  ApiKeyEntity,
  AuditEventEntity,
  ProtocolEntity,
  ProtocolVersionEntity,
  PlanEntity,
  SessionEntity,
];
