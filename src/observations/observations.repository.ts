import { Injectable } from '@nestjs/common';
import { runSql, sql } from '../common/database/sql.js';
import { DataSource, type EntityManager } from 'typeorm';
import type { CreateObservationDto, ObservationDto } from './dto/observation.dto.js';

export interface ObservationRow {
  id: string;
  session_id: string;
  plan_id: string;
  ref: string;
  label: string;
  recorded_at: Date;
  recorded_by: string | null;
  craving: number | null;
  cows: number | null;
  phq9: number | null;
  gad7: number | null;
  bp_systolic: number | null;
  bp_diastolic: number | null;
  heart_rate: number | null;
  spo2: number | null;
  adverse_events: ObservationDto['adverseEvents'];
  note: string | null;
  dose_given: unknown;
  timezone: string;
}

export interface Owner {
  clinic_id: string;
  id: string;
  plan_id: string;
  patient_id: string;
  status?: string;
}

const SELECT = `
  SELECT o.id, o.session_id, o.plan_id, s.ref, s.label, o.recorded_at, o.recorded_by, o.craving, o.cows, o.phq9, o.gad7,
         o.bp_systolic, o.bp_diastolic, o.heart_rate, o.spo2, o.adverse_events, o.note, s.dose_given, c.timezone
    FROM session_observations o
    JOIN sessions s ON s.clinic_id = o.clinic_id AND s.id = o.session_id
    JOIN clinics c ON c.id = o.clinic_id`;

@Injectable()
export class ObservationsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** The session or plan an observation belongs to, within the caller's clinic (null: any). */
  async owner(
    table: 'sessions' | 'plans',
    id: string,
    clinicId: string | null,
    m?: EntityManager,
  ): Promise<Owner | undefined> {
    const cols =
      table === 'sessions' ? 'clinic_id, id, plan_id, patient_id, status' : 'clinic_id, id, id AS plan_id, patient_id';
    const [row] = await (m ?? this.dataSource.manager).query(
      `SELECT ${cols} FROM ${table} WHERE id = $1 ${clinicId === null ? '' : 'AND clinic_id = $2'}`,
      clinicId === null ? [id] : [id, clinicId],
    );
    return row;
  }

  async insert(m: EntityManager, s: Owner, at: Date, by: string, dto: CreateObservationDto): Promise<ObservationRow> {
    const [{ id }] = await runSql<{ id: string }>(
      m,
      sql`INSERT INTO session_observations (clinic_id, session_id, plan_id, patient_id, recorded_at, recorded_by, craving, cows, phq9, gad7,
                                         bp_systolic, bp_diastolic, heart_rate, spo2, adverse_events, note)
       VALUES (${s.clinic_id}, ${s.id}, ${s.plan_id}, ${s.patient_id}, ${at}, ${by}, ${dto.craving ?? null}, ${dto.cows ?? null},
               ${dto.phq9 ?? null}, ${dto.gad7 ?? null}, ${dto.bloodPressure?.systolic ?? null}, ${dto.bloodPressure?.diastolic ?? null},
               ${dto.heartRate ?? null}, ${dto.spo2 ?? null}, ${JSON.stringify(dto.adverseEvents ?? [])}::jsonb, ${dto.note ?? null}) RETURNING id`,
    );
    const [row] = await m.query(`${SELECT} WHERE o.clinic_id = $1 AND o.id = $2`, [s.clinic_id, id]);
    return row;
  }

  list(m: EntityManager, clinicId: string, by: 'session_id' | 'plan_id', id: string): Promise<ObservationRow[]> {
    return m.query(`${SELECT} WHERE o.clinic_id = $1 AND o.${by} = $2 ORDER BY o.recorded_at, o.id`, [clinicId, id]);
  }
}
