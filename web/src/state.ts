import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Chair, Clinic, Closure, Role, Staff } from './types.js';

export type Screen =
  | { name: 'day'; date?: string }
  | { name: 'patients' }
  | { name: 'patient'; patientId: string }
  | { name: 'book'; patientId?: string }
  | { name: 'adjust'; planId: string; sessionId?: string }
  | { name: 'protocols'; protocolId?: string }
  | { name: 'admin' };

export interface Me {
  role: Role;
  clinics: Clinic[];
  clinic: Clinic;
  chairs: Chair[];
  staff: Staff[];
  closures: Closure[];
}

export interface AppState {
  me: Me;
  go(screen: Screen): void;
  /** Re-reads the clinic's set-up (chairs, staff, closures). */
  refreshClinic(): Promise<void>;
}

export const AppContext = createContext<AppState | null>(null);
export function useApp(): AppState {
  const s = useContext(AppContext);
  if (!s) throw new Error('no app state');
  return s;
}

/** What the role matrix lets a role do, for showing only what it may (the server still enforces it). */
export const can = {
  complete: (r: Role) => r !== 'front_desk',
  observe: (r: Role) => r !== 'front_desk',
  tailor: (r: Role) => r !== 'front_desk',
  confirmWeight: (r: Role) => r !== 'front_desk',
  clinicalAdjust: (r: Role) => r !== 'front_desk',
  editProtocols: (r: Role) => r !== 'front_desk',
  admin: (r: Role) => r === 'admin',
};

export const ROLE_LABEL: Record<Role, string> = { front_desk: 'Front desk', clinician: 'Clinician', admin: 'Admin' };
