import type { ProtocolStep } from '../protocols/domain/protocol-step.js';

const MON_SAT = [1, 2, 3, 4, 5, 6];

/**
 * The reference protocol: intake consult, six ketamine infusions 1–4 days apart (target 2) at the
 * same time of day, therapy within 24 h after each infusion, a follow-up a week after the last
 * infusion and a booster four weeks later. Doses are 0.5 mg/kg over 40 minutes (0.1–1.0 allowed).
 */
export const KETAMINE_PROTOCOL = {
  name: 'Ketamine infusion series for opioid withdrawal',
  indication: 'Opioid withdrawal',
  description:
    'Intake consult with the physician; six ketamine infusions (0.5 mg/kg over 40 minutes, 60 minutes of monitored ' +
    'recovery in the chair) every 1–4 days; a therapy session within 24 hours after each infusion; a follow-up ' +
    'assessment one week after the last infusion; a booster infusion four weeks after that.',
  steps: [
    {
      key: 'intake',
      kind: 'consult',
      label: 'Intake consult',
      durationMinutes: 60,
      recoveryMinutes: 0,
      needsChair: false,
      staffRole: 'physician',
      repeat: 1,
      weekdays: [1, 2, 3, 4, 5],
    },
    {
      key: 'infusion',
      kind: 'infusion',
      label: 'Ketamine infusion',
      durationMinutes: 40,
      recoveryMinutes: 60,
      needsChair: true,
      staffRole: 'nurse',
      dose: { drug: 'ketamine', amount: 0.5, unit: 'mg/kg', infusionMinutes: 40, min: 0.1, max: 1.0 },
      repeat: 6,
      repeatMin: 4,
      repeatMax: 8,
      after: { step: 'intake', gap: { min: 1, target: 2, max: 14, unit: 'days' } },
      spacing: { min: 1, target: 2, max: 4, unit: 'days' },
      sameTimeOfDay: true,
      weekdays: MON_SAT,
    },
    {
      key: 'therapy',
      kind: 'therapy',
      label: 'Integration therapy',
      durationMinutes: 50,
      recoveryMinutes: 0,
      needsChair: false,
      staffRole: 'therapist',
      repeat: 1,
      attachedTo: { step: 'infusion', position: 'after', gap: { min: 0, target: 1, max: 24, unit: 'hours' } },
    },
    {
      key: 'follow_up',
      kind: 'follow_up',
      label: 'Follow-up assessment',
      durationMinutes: 30,
      recoveryMinutes: 0,
      needsChair: false,
      staffRole: 'physician',
      repeat: 1,
      after: { step: 'infusion', gap: { min: 7, target: 7, max: 10, unit: 'days' } },
      weekdays: [1, 2, 3, 4, 5],
    },
    {
      key: 'booster',
      kind: 'booster',
      label: 'Booster infusion',
      durationMinutes: 40,
      recoveryMinutes: 60,
      needsChair: true,
      staffRole: 'nurse',
      dose: { drug: 'ketamine', amount: 0.5, unit: 'mg/kg', infusionMinutes: 40, min: 0.1, max: 1.0 },
      repeat: 1,
      after: { step: 'follow_up', gap: { min: 28, target: 28, max: 35, unit: 'days' } },
      weekdays: MON_SAT,
    },
  ] satisfies ProtocolStep[],
};

/**
 * The protocol's second version, as the demo clinic revised it: infusions every 2–4 days (target
 * 3) instead of 1–4 (target 2), giving each infusion more time to settle before the next.
 */
export const KETAMINE_PROTOCOL_V2 = {
  ...KETAMINE_PROTOCOL,
  description: KETAMINE_PROTOCOL.description.replace('every 1–4 days', 'every 2–4 days (target 3)'),
  steps: KETAMINE_PROTOCOL.steps.map((s) =>
    s.key === 'infusion' ? { ...s, spacing: { min: 2, target: 3, max: 4, unit: 'days' as const } } : s,
  ) satisfies ProtocolStep[],
};
