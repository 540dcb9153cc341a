import fc from 'fast-check';
import { KETAMINE_PROTOCOL } from '../../seed/demo-protocol.js';
import type { Gap, ProtocolStep, StepDose } from './protocol-step.js';
import {
  tailor,
  type GapOverride,
  type SessionToPlace,
  type StepTailoring,
  type Tailoring,
  type TailorResult,
} from './tailor.js';
import { validateProtocolSteps, type Issue } from './validate-steps.js';

/** A fresh, mutable copy of the demo protocol's steps. */
function demo(): ProtocolStep[] {
  return structuredClone(KETAMINE_PROTOCOL.steps) as ProtocolStep[];
}

function sessionsOf(result: TailorResult): SessionToPlace[] {
  if (!result.ok) throw new Error(`expected ok, got ${JSON.stringify(result.errors)}`);
  return result.sessions;
}

function errorsOf(result: TailorResult): Issue[] {
  if (result.ok) throw new Error(`expected a refusal, got ${result.sessions.length} sessions`);
  expect(result).not.toHaveProperty('sessions');
  return result.errors;
}

const fieldsOf = (result: TailorResult) => errorsOf(result).map((e) => e.field);
const refs = (sessions: SessionToPlace[]) => sessions.map((s) => s.ref);
const byRef = (sessions: SessionToPlace[], ref: string): SessionToPlace => {
  const found = sessions.find((s) => s.ref === ref);
  if (!found) throw new Error(`no session ${ref} in ${refs(sessions).join(', ')}`);
  return found;
};
const days = (min: number, target: number, max: number): Gap => ({ min, target, max, unit: 'days' });
const hours = (min: number, target: number, max: number): Gap => ({ min, target, max, unit: 'hours' });
const series = (key: string, n: number) => Array.from({ length: n }, (_, i) => `${key}#${i + 1}`);
const expectedRefs = (n: number) => [
  'intake#1',
  ...series('infusion', n),
  ...series('therapy', n),
  'follow_up#1',
  'booster#1',
];

/** Every constraint points at a session listed before it; refs are unique. */
function expectDependencyOrder(sessions: SessionToPlace[]): void {
  const seen = new Set<string>();
  for (const s of sessions) {
    for (const c of s.constraints)
      expect({ ref: s.ref, dependsOn: c.ref, listedEarlier: seen.has(c.ref) }).toEqual({
        ref: s.ref,
        dependsOn: c.ref,
        listedEarlier: true,
      });
    expect(seen.has(s.ref)).toBe(false);
    seen.add(s.ref);
  }
}

const INTAKE_GAP = days(1, 2, 14);
const SPACING = days(1, 2, 4);
const THERAPY_GAP = hours(0, 1, 24);
const FOLLOW_UP_GAP = days(7, 7, 10);
const BOOSTER_GAP = days(28, 28, 35);

describe('tailor: the demo protocol as published', () => {
  const steps = demo();
  const sessions = sessionsOf(tailor(steps, { weightKg: 70 }));

  it('gives 1 intake + 6 infusions + 6 therapy sessions + 1 follow-up + 1 booster, in dependency order', () => {
    expect(sessions).toHaveLength(15);
    expect(refs(sessions)).toEqual(expectedRefs(6));
    expectDependencyOrder(sessions);
  });

  it('puts no constraint on the intake', () => {
    expect(byRef(sessions, 'intake#1').constraints).toEqual([]);
  });

  it('times the first infusion after the intake with the after gap', () => {
    expect(byRef(sessions, 'infusion#1').constraints).toEqual([
      { ref: 'intake#1', relation: 'after', gap: INTAKE_GAP, sameDay: false },
    ]);
  });

  it.each([2, 3, 4, 5, 6])('times infusion #%i after the previous infusion with the spacing', (n) => {
    expect(byRef(sessions, `infusion#${n}`).constraints).toEqual([
      { ref: `infusion#${n - 1}`, relation: 'after', gap: SPACING, sameDay: false },
    ]);
  });

  it.each([1, 2, 3, 4, 5, 6])('attaches therapy #%i after infusion #%i with the hours gap', (n) => {
    expect(byRef(sessions, `therapy#${n}`).constraints).toEqual([
      { ref: `infusion#${n}`, relation: 'after', gap: THERAPY_GAP, sameDay: false },
    ]);
  });

  it('times the follow-up after the LAST infusion', () => {
    expect(byRef(sessions, 'follow_up#1').constraints).toEqual([
      { ref: 'infusion#6', relation: 'after', gap: FOLLOW_UP_GAP, sameDay: false },
    ]);
  });

  it('times the booster after the follow-up', () => {
    expect(byRef(sessions, 'booster#1').constraints).toEqual([
      { ref: 'follow_up#1', relation: 'after', gap: BOOSTER_GAP, sameDay: false },
    ]);
  });

  it('copies what each session needs from its step', () => {
    expect(byRef(sessions, 'infusion#3')).toEqual({
      ref: 'infusion#3',
      stepKey: 'infusion',
      occurrence: 3,
      occurrences: 6,
      kind: 'infusion',
      label: 'Ketamine infusion 3/6',
      durationMinutes: 40,
      recoveryMinutes: 60,
      needsChair: true,
      staffRole: 'nurse',
      dose: { drug: 'ketamine', amount: 0.5, unit: 'mg/kg', infusionMinutes: 40, totalMg: 35 },
      sameTimeOfDay: true,
      weekdays: [1, 2, 3, 4, 5, 6],
      constraints: [{ ref: 'infusion#2', relation: 'after', gap: SPACING, sameDay: false }],
    });
    expect(byRef(sessions, 'intake#1')).toMatchObject({
      stepKey: 'intake',
      occurrence: 1,
      occurrences: 1,
      kind: 'consult',
      label: 'Intake consult',
      durationMinutes: 60,
      recoveryMinutes: 0,
      needsChair: false,
      staffRole: 'physician',
      dose: null,
      sameTimeOfDay: false,
      weekdays: [1, 2, 3, 4, 5],
    });
    expect(byRef(sessions, 'therapy#2')).toMatchObject({
      stepKey: 'therapy',
      occurrence: 2,
      occurrences: 6,
      kind: 'therapy',
      label: 'Integration therapy 2/6',
      staffRole: 'therapist',
      needsChair: false,
      dose: null,
      weekdays: null,
    });
    expect(byRef(sessions, 'booster#1')).toMatchObject({
      kind: 'booster',
      label: 'Booster infusion',
      occurrences: 1,
      needsChair: true,
      dose: { drug: 'ketamine', amount: 0.5, unit: 'mg/kg', infusionMinutes: 40, totalMg: 35 },
    });
  });

  it('does not change the template', () => {
    tailor(steps, {
      weightKg: 70,
      steps: { infusion: { occurrences: 8, amount: 0.7, spacing: { min: 2, max: 3 }, after: { max: 7 } } },
    });
    expect(steps).toEqual(KETAMINE_PROTOCOL.steps);
  });
});

describe('tailor: doses', () => {
  it.each<[number, number, number]>([
    [0.5, 78.5, 39.3], // 39.25 rounds half up
    [0.5, 70, 35],
    [0.5, 30, 15],
    [1.0, 200, 200],
    [0.1, 30, 3],
    [0.333, 77, 25.6], // 25.641
    [0.25, 81, 20.3], // 20.25
    [0.7, 64.3, 45], // 45.01
    [0.123, 99.9, 12.3], // 12.2877
  ])('%p mg/kg × %p kg = %p mg (rounded to 0.1 mg)', (amount, weightKg, totalMg) => {
    const sessions = sessionsOf(tailor(demo(), { weightKg, steps: { infusion: { amount }, booster: { amount } } }));
    const dosed = sessions.filter((s) => s.dose);
    expect(dosed.map((s) => s.ref)).toEqual([...series('infusion', 6), 'booster#1']);
    for (const s of dosed)
      expect(s.dose).toEqual({ drug: 'ketamine', amount, unit: 'mg/kg', infusionMinutes: 40, totalMg });
  });

  // 0.15 × 31 is 4.6499999999999995 in floating point, so Math.round(x * 10) / 10 gives 4.6, while
  // 0.5 × 78.5 = 39.25 gives 39.3: the same half-way case rounds differently depending on float noise.
  it('rounds half-way totals up consistently (0.15 mg/kg × 31 kg = 4.65 mg → 4.7 mg, like 39.25 → 39.3)', () => {
    const sessions = sessionsOf(tailor(demo(), { weightKg: 31, steps: { infusion: { amount: 0.15 } } }));
    expect(byRef(sessions, 'infusion#1').dose!.totalMg).toBe(4.7);
  });

  const mgStep = (over: Partial<StepDose> = {}): ProtocolStep[] => [
    {
      key: 'drip',
      kind: 'infusion',
      label: 'Drip',
      durationMinutes: 60,
      recoveryMinutes: 30,
      needsChair: true,
      staffRole: 'nurse',
      dose: { drug: 'iron', amount: 25, unit: 'mg', infusionMinutes: 30, min: 10, max: 50, ...over },
      repeat: 3,
      spacing: days(7, 7, 7),
    },
  ];

  it.each<[string, Tailoring]>([
    ['no weight', {}],
    ['a weight', { weightKg: 80 }],
    ['a null weight', { weightKg: null }],
  ])('keeps mg doses unchanged and needs no weight (%s)', (_name, t) => {
    const sessions = sessionsOf(tailor(mgStep(), t));
    expect(sessions.map((s) => s.dose)).toEqual(
      [1, 2, 3].map(() => ({ drug: 'iron', amount: 25, unit: 'mg', infusionMinutes: 30, totalMg: 25 })),
    );
  });

  it('applies escalation to mg doses too', () => {
    const sessions = sessionsOf(tailor(mgStep({ escalationPerOccurrence: 5 }), { weightKg: 80 }));
    expect(sessions.map((s) => [s.dose!.amount, s.dose!.totalMg])).toEqual([
      [25, 25],
      [30, 30],
      [35, 35],
    ]);
  });

  it('needs no weight for a template without mg/kg doses', () => {
    const steps = demo();
    for (const s of steps) delete s.dose;
    const sessions = sessionsOf(tailor(steps));
    expect(refs(sessions)).toEqual(expectedRefs(6));
    expect(sessions.every((s) => s.dose === null)).toBe(true);
  });

  it.each<[string, Tailoring]>([
    ['no tailoring at all', {}],
    ['an undefined weight', { weightKg: undefined }],
    ['a null weight', { weightKg: null }],
    ['a zero weight', { weightKg: 0 }],
    ['a negative weight', { weightKg: -70 }],
    ['a NaN weight', { weightKg: NaN }],
  ])('refuses mg/kg doses with %s, naming weightKg', (_name, t) => {
    const errors = errorsOf(tailor(demo(), t));
    expect(new Set(errors.map((e) => e.field))).toEqual(new Set(['weightKg']));
    expect(errors[0].message).toMatch(/weight/);
  });

  it('also refuses when called with no tailoring argument', () => {
    expect(new Set(fieldsOf(tailor(demo())))).toEqual(new Set(['weightKg']));
  });

  // The source says "Several steps may need the weight; say it once", but each message names its
  // step ('infusion', 'booster'), so the field+message de-duplication never merges them.
  it('names the missing weight once even when several steps need it', () => {
    expect(fieldsOf(tailor(demo(), {}))).toEqual(['weightKg']);
  });
});

describe('tailor: occurrences', () => {
  it.each([4, 5, 6, 7, 8])('accepts %i infusions; therapy and the follow-up follow the count', (n) => {
    const sessions = sessionsOf(tailor(demo(), { weightKg: 70, steps: { infusion: { occurrences: n } } }));
    expect(sessions).toHaveLength(1 + 2 * n + 2);
    expect(refs(sessions)).toEqual(expectedRefs(n));
    expectDependencyOrder(sessions);
    expect(byRef(sessions, `infusion#${n}`)).toMatchObject({
      occurrence: n,
      occurrences: n,
      label: `Ketamine infusion ${n}/${n}`,
    });
    expect(byRef(sessions, `therapy#${n}`)).toMatchObject({
      occurrences: n,
      constraints: [{ ref: `infusion#${n}`, relation: 'after', gap: THERAPY_GAP, sameDay: false }],
    });
    expect(byRef(sessions, 'follow_up#1').constraints).toEqual([
      { ref: `infusion#${n}`, relation: 'after', gap: FOLLOW_UP_GAP, sameDay: false },
    ]);
  });

  it.each([3, 9, 0, -1, 4.5, 52, 53, NaN])('refuses %p infusions, naming steps.infusion.occurrences', (n) => {
    const errors = errorsOf(tailor(demo(), { weightKg: 70, steps: { infusion: { occurrences: n } } }));
    expect(errors).toEqual([{ field: 'steps.infusion.occurrences', message: 'occurrences must be between 4 and 8' }]);
  });

  it('refuses repeating a one-off step', () => {
    expect(errorsOf(tailor(demo(), { weightKg: 70, steps: { intake: { occurrences: 2 } } }))).toEqual([
      { field: 'steps.intake.occurrences', message: 'occurrences must be between 1 and 1' },
    ]);
  });

  it.each([1, 6, 3])('refuses overriding the occurrences of an attached step (%i)', (n) => {
    const errors = errorsOf(tailor(demo(), { weightKg: 70, steps: { therapy: { occurrences: n } } }));
    expect(errors.map((e) => e.field)).toEqual(['steps.therapy.occurrences']);
    expect(errors[0].message).toMatch(/infusion/);
  });

  it.each<[string, StepTailoring]>([
    ['spacing', { spacing: { max: 12 } }],
    ['after', { after: { max: 12 } }],
  ])('refuses tailoring the %s of an attached step', (_name, t) => {
    expect(fieldsOf(tailor(demo(), { weightKg: 70, steps: { therapy: t } }))).toContain('steps.therapy');
  });

  it(`caps occurrences at MAX_REPEAT even if the template allows more`, () => {
    const steps: ProtocolStep[] = [
      {
        key: 'a',
        kind: 'consult',
        label: 'A',
        durationMinutes: 30,
        recoveryMinutes: 0,
        needsChair: false,
        staffRole: null,
        repeat: 2,
        repeatMax: 60,
        spacing: days(1, 1, 1),
      },
    ];
    expect(sessionsOf(tailor(steps, { steps: { a: { occurrences: 52 } } }))).toHaveLength(52);
    expect(fieldsOf(tailor(steps, { steps: { a: { occurrences: 53 } } }))).toEqual(['steps.a.occurrences']);
  });
});

describe('tailor: dose overrides', () => {
  it.each([
    [0.1, 8],
    [0.35, 28],
    [0.75, 60],
    [1.0, 80],
  ])('accepts %p mg/kg for the infusions (%p mg at 80 kg), leaving the booster at 0.5', (amount, totalMg) => {
    const sessions = sessionsOf(tailor(demo(), { weightKg: 80, steps: { infusion: { amount } } }));
    const infusions = sessions.filter((x) => x.stepKey === 'infusion');
    expect(infusions).toHaveLength(6);
    for (const s of infusions) expect(s.dose).toMatchObject({ amount, totalMg });
    expect(byRef(sessions, 'booster#1').dose).toMatchObject({ amount: 0.5, totalMg: 40 });
  });

  it.each([0.09, 1.01, 0, -0.5, 5])('refuses %p mg/kg, naming steps.infusion.amount', (amount) => {
    const errors = errorsOf(tailor(demo(), { weightKg: 80, steps: { infusion: { amount } } }));
    expect(errors).toEqual([
      { field: 'steps.infusion.amount', message: `amount (${amount} mg/kg) must lie within [0.1, 1]` },
    ]);
  });

  it('refuses a dose for a step without one', () => {
    expect(fieldsOf(tailor(demo(), { weightKg: 80, steps: { intake: { amount: 0.5 } } }))).toEqual([
      'steps.intake.amount',
    ]);
  });

  describe('with escalation', () => {
    // 0.5 mg/kg + 0.1 per further occurrence, 2–6 occurrences: 1.0 at the 6th, so the template is valid.
    const escalating = (): ProtocolStep[] => {
      const steps = demo();
      Object.assign(steps[1], { repeat: 4, repeatMin: 2, repeatMax: 6 });
      steps[1].dose!.escalationPerOccurrence = 0.1;
      return steps;
    };

    it('is a valid template', () => {
      expect(validateProtocolSteps(escalating())).toEqual([]);
    });

    it.each<[string, StepTailoring, number[], number[]]>([
      ['as published', {}, [0.5, 0.6, 0.7, 0.8], [40, 48, 56, 64]],
      ['6 occurrences', { occurrences: 6 }, [0.5, 0.6, 0.7, 0.8, 0.9, 1], [40, 48, 56, 64, 72, 80]],
      ['2 occurrences', { occurrences: 2 }, [0.5, 0.6], [40, 48]],
      [
        'starting at 0.6, 5 occurrences',
        { amount: 0.6, occurrences: 5 },
        [0.6, 0.7, 0.8, 0.9, 1],
        [48, 56, 64, 72, 80],
      ],
      ['starting at 0.1', { amount: 0.1 }, [0.1, 0.2, 0.3, 0.4], [8, 16, 24, 32]],
    ])('doses each occurrence: %s', (_name, t, amounts, totals) => {
      const sessions = sessionsOf(tailor(escalating(), { weightKg: 80, steps: { infusion: t } }));
      const infusions = sessions.filter((s) => s.stepKey === 'infusion');
      expect(infusions.map((s) => s.dose!.amount)).toEqual(amounts);
      expect(infusions.map((s) => s.dose!.totalMg)).toEqual(totals);
      expect(byRef(sessions, 'booster#1').dose!.amount).toBe(0.5); // no escalation on the booster
    });

    it('refuses a tailored count whose escalation leaves the range, naming occurrences', () => {
      const errors = errorsOf(
        tailor(escalating(), { weightKg: 80, steps: { infusion: { amount: 0.6, occurrences: 6 } } }),
      );
      expect(errors).toEqual([
        {
          field: 'steps.infusion.occurrences',
          message: 'escalation reaches 1.1 mg/kg at occurrence 6, outside [0.1, 1]',
        },
      ]);
    });

    it('refuses a tapering that reaches 0', () => {
      const steps = escalating();
      steps[1].dose!.escalationPerOccurrence = -0.1; // 0.5 → 0.1 at the 5th
      steps[1].repeatMax = 5;
      expect(validateProtocolSteps(steps)).toEqual([]);
      expect(
        sessionsOf(tailor(steps, { weightKg: 80, steps: { infusion: { occurrences: 5 } } }))
          .filter((s) => s.stepKey === 'infusion')
          .map((s) => s.dose!.amount),
      ).toEqual([0.5, 0.4, 0.3, 0.2, 0.1]);
      const errors = errorsOf(tailor(steps, { weightKg: 80, steps: { infusion: { amount: 0.4, occurrences: 5 } } }));
      expect(errors).toEqual([
        {
          field: 'steps.infusion.occurrences',
          message: 'escalation reaches 0 mg/kg at occurrence 5, outside [0.1, 1]',
        },
      ]);
    });

    it('refuses a count beyond what the escalation allows even on an unvalidated template', () => {
      const steps = demo();
      steps[1].dose!.escalationPerOccurrence = 0.1; // 1.0 at the 6th, 1.1 at the 7th
      expect(sessionsOf(tailor(steps, { weightKg: 80, steps: { infusion: { occurrences: 6 } } }))).toHaveLength(15);
      expect(fieldsOf(tailor(steps, { weightKg: 80, steps: { infusion: { occurrences: 7 } } }))).toEqual([
        'steps.infusion.occurrences',
      ]);
      // With 8, both the 7th and 8th leave the range: the first one is reported.
      expect(errorsOf(tailor(steps, { weightKg: 80, steps: { infusion: { occurrences: 8 } } }))).toEqual([
        {
          field: 'steps.infusion.occurrences',
          message: 'escalation reaches 1.1 mg/kg at occurrence 7, outside [0.1, 1]',
        },
      ]);
    });
  });
});

describe('tailor: gap overrides', () => {
  const spacingOf = (t: GapOverride) => {
    const sessions = sessionsOf(tailor(demo(), { weightKg: 70, steps: { infusion: { spacing: t } } }));
    const gaps = series('infusion', 6)
      .slice(1)
      .map((ref) => byRef(sessions, ref).constraints[0].gap);
    for (const g of gaps) expect(g).toEqual(gaps[0]);
    expect(byRef(sessions, 'infusion#1').constraints[0].gap).toEqual(INTAKE_GAP); // the after gap is untouched
    return gaps[0];
  };

  it.each<[string, GapOverride, Gap]>([
    ['nothing', {}, SPACING],
    ['min 2, max 3', { min: 2, max: 3 }, days(2, 2, 3)],
    ['min 3 (target moved up into the range)', { min: 3 }, days(3, 3, 4)],
    ['max 1 (target moved down into the range)', { max: 1 }, days(1, 1, 1)],
    ['min 4, max 4', { min: 4, max: 4 }, days(4, 4, 4)],
    ['target 3', { target: 3 }, days(1, 3, 4)],
    ['min 2, max 4, target 4', { min: 2, max: 4, target: 4 }, days(2, 4, 4)],
    ['the template bounds themselves', { min: 1, target: 2, max: 4 }, SPACING],
  ])('narrows the spacing within bounds: %s', (_name, t, expected) => {
    expect(spacingOf(t)).toEqual(expected);
  });

  it.each<[string, GapOverride, string[]]>([
    ['min below the template', { min: 0 }, ['steps.infusion.spacing.min']],
    ['max above the template', { max: 5 }, ['steps.infusion.spacing.max']],
    ['both widened', { min: 0, max: 5 }, ['steps.infusion.spacing.min', 'steps.infusion.spacing.max']],
    ['max below min', { min: 3, max: 2 }, ['steps.infusion.spacing.max']],
    ['target above the narrowed range', { min: 2, max: 3, target: 4 }, ['steps.infusion.spacing.target']],
    ['target below the narrowed range', { min: 2, max: 3, target: 1 }, ['steps.infusion.spacing.target']],
    ['target above the template', { target: 5 }, ['steps.infusion.spacing.target']],
    ['a negative min', { min: -1 }, ['steps.infusion.spacing.min']],
  ])('refuses a spacing with %s', (_name, t, expected) => {
    expect(fieldsOf(tailor(demo(), { weightKg: 70, steps: { infusion: { spacing: t } } }))).toEqual(expected);
  });

  it('narrows the after gap of the first infusion only', () => {
    const sessions = sessionsOf(tailor(demo(), { weightKg: 70, steps: { infusion: { after: { max: 7 } } } }));
    expect(byRef(sessions, 'infusion#1').constraints[0].gap).toEqual(days(1, 2, 7));
    expect(byRef(sessions, 'infusion#2').constraints[0].gap).toEqual(SPACING);
  });

  it('narrows the follow-up gap, moving its target', () => {
    const sessions = sessionsOf(tailor(demo(), { weightKg: 70, steps: { follow_up: { after: { min: 8 } } } }));
    expect(byRef(sessions, 'follow_up#1').constraints[0].gap).toEqual(days(8, 8, 10));
  });

  it.each<[string, StepTailoring, string[]]>([
    ['infusion after min 0', { after: { min: 0 } }, ['steps.infusion.after.min']],
    ['infusion after max 15', { after: { max: 15 } }, ['steps.infusion.after.max']],
    ['infusion after target 20', { after: { target: 20 } }, ['steps.infusion.after.target']],
  ])('refuses widening the after gap: %s', (_name, t, expected) => {
    expect(fieldsOf(tailor(demo(), { weightKg: 70, steps: { infusion: t } }))).toEqual(expected);
  });

  it.each<[string, StepTailoring, string]>([
    ['spacing', { spacing: { max: 1 } }, 'steps.intake.spacing'],
    ['after gap', { after: { max: 1 } }, 'steps.intake.after'],
  ])('refuses a %s override on a step without one', (_name, t, field) => {
    expect(fieldsOf(tailor(demo(), { weightKg: 70, steps: { intake: t } }))).toEqual([field]);
  });
});

describe('tailor: refusals', () => {
  it('refuses an unknown step key', () => {
    expect(errorsOf(tailor(demo(), { weightKg: 70, steps: { massage: { occurrences: 1 } } }))).toEqual([
      { field: 'steps.massage', message: "the template has no step 'massage'" },
    ]);
  });

  it('reports every problem at once', () => {
    const errors = errorsOf(
      tailor(demo(), {
        steps: {
          massage: {},
          infusion: { occurrences: 9, amount: 2, spacing: { min: 0, max: 5 }, after: { target: 30 } },
          therapy: { occurrences: 3 },
          booster: { amount: 0.01 },
          follow_up: { after: { min: 9, max: 8 } },
        },
      }),
    );
    expect(new Set(errors.map((e) => e.field))).toEqual(
      new Set([
        'steps.massage',
        'steps.infusion.occurrences',
        'steps.infusion.amount',
        'weightKg',
        'steps.infusion.spacing.min',
        'steps.infusion.spacing.max',
        'steps.infusion.after.target',
        'steps.therapy.occurrences',
        'steps.booster.amount',
        'steps.follow_up.after.max',
      ]),
    );
    for (const e of errors) expect(e.message.length).toBeGreaterThan(10);
  });
});

describe('tailor: properties', () => {
  const weight = fc.double({ min: 30, max: 200, noNaN: true, noDefaultInfinity: true });
  const amount = fc.integer({ min: 100, max: 1000 }).map((m) => m / 1000); // 0.1–1.0, ≤ 3 decimals
  const narrowedSpacing = fc
    .tuple(
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 0, max: 3 }),
      fc.boolean(),
      fc.boolean(),
      fc.boolean(),
    )
    .map(([a, b, pick, withMin, withMax, withTarget]): GapOverride => {
      const [min, max] = a <= b ? [a, b] : [b, a];
      const target = Math.min(min + pick, max);
      return {
        ...(withMin ? { min } : {}),
        ...(withMax ? { max } : {}),
        ...(withTarget && withMin && withMax ? { target } : {}),
      };
    });
  const validTailoring = fc.record({
    weightKg: weight,
    occurrences: fc.integer({ min: 4, max: 8 }),
    amount: fc.option(amount, { nil: undefined }),
    boosterAmount: fc.option(amount, { nil: undefined }),
    spacing: fc.option(narrowedSpacing, { nil: undefined }),
  });
  const toTailoring = (v: {
    weightKg: number;
    occurrences: number;
    amount?: number;
    boosterAmount?: number;
    spacing?: GapOverride;
  }): Tailoring => ({
    weightKg: v.weightKg,
    steps: {
      infusion: {
        occurrences: v.occurrences,
        ...(v.amount !== undefined ? { amount: v.amount } : {}),
        ...(v.spacing ? { spacing: v.spacing } : {}),
      },
      ...(v.boosterAmount !== undefined ? { booster: { amount: v.boosterAmount } } : {}),
    },
  });

  it('accepts every valid tailoring of the demo and gives a consistent plan', () => {
    const steps = demo();
    fc.assert(
      fc.property(validTailoring, (v) => {
        const sessions = sessionsOf(tailor(steps, toTailoring(v)));
        const n = v.occurrences;
        expect(sessions).toHaveLength(1 + 2 * n + 2);
        expect(refs(sessions)).toEqual(expectedRefs(n));
        expectDependencyOrder(sessions);
        for (const s of sessions) {
          if (!s.dose) continue;
          expect(s.dose.amount).toBeGreaterThanOrEqual(0.1);
          expect(s.dose.amount).toBeLessThanOrEqual(1.0);
          expect(s.dose.amount).toBe(s.stepKey === 'infusion' ? (v.amount ?? 0.5) : (v.boosterAmount ?? 0.5));
          expect(Math.abs(s.dose.totalMg - s.dose.amount * v.weightKg)).toBeLessThanOrEqual(0.05 + 1e-9);
          expect(Math.abs(s.dose.totalMg * 10 - Math.round(s.dose.totalMg * 10))).toBeLessThan(1e-9);
        }
        for (let k = 2; k <= n; k++) {
          const gap = byRef(sessions, `infusion#${k}`).constraints[0].gap;
          expect(gap.min).toBe(v.spacing?.min ?? 1);
          expect(gap.max).toBe(v.spacing?.max ?? 4);
          expect(gap.target).toBeGreaterThanOrEqual(gap.min);
          expect(gap.target).toBeLessThanOrEqual(gap.max);
        }
      }),
      { numRuns: 200 },
    );
    expect(steps).toEqual(KETAMINE_PROTOCOL.steps);
  });

  // Each slot, when present, breaks one bound and names one field.
  const badMilli = fc
    .oneof(fc.integer({ min: -1000, max: 99 }), fc.integer({ min: 1001, max: 100_000 }))
    .map((m) => m / 1000);
  const breakers = fc
    .record(
      {
        occurrences: fc.oneof(fc.integer({ min: -5, max: 3 }), fc.integer({ min: 9, max: 60 })),
        amount: badMilli,
        boosterAmount: badMilli,
        spacingMin: fc.integer({ min: -10, max: 0 }),
        spacingMax: fc.integer({ min: 5, max: 100 }),
        afterMax: fc.integer({ min: 15, max: 400 }),
        followUpMin: fc.integer({ min: -10, max: 6 }),
        weight: fc.constantFrom(undefined, null, 0, -70),
        unknownKey: fc.constantFrom('massage', 'infusion2', 'intake_', 'x'),
        therapyOccurrences: fc.integer({ min: 1, max: 10 }),
      },
      { requiredKeys: [] },
    )
    .filter((b) => Object.keys(b).length > 0);

  it('refuses every tailoring with a value outside the bounds, naming each one', () => {
    fc.assert(
      fc.property(validTailoring, breakers, (v, b) => {
        const t = toTailoring(v);
        const s = t.steps!;
        const expected: string[] = [];
        const has = (k: keyof typeof b) => Object.prototype.hasOwnProperty.call(b, k);
        const breakWith = (field: string, apply: () => void) => {
          apply();
          expected.push(field);
        };
        if (has('occurrences')) breakWith('steps.infusion.occurrences', () => (s.infusion.occurrences = b.occurrences));
        if (has('amount')) breakWith('steps.infusion.amount', () => (s.infusion.amount = b.amount));
        if (has('boosterAmount')) breakWith('steps.booster.amount', () => (s.booster = { amount: b.boosterAmount }));
        if (has('spacingMin'))
          breakWith(
            'steps.infusion.spacing.min',
            () => (s.infusion.spacing = { ...s.infusion.spacing, min: b.spacingMin }),
          );
        if (has('spacingMax'))
          breakWith(
            'steps.infusion.spacing.max',
            () => (s.infusion.spacing = { ...s.infusion.spacing, max: b.spacingMax }),
          );
        if (has('afterMax')) breakWith('steps.infusion.after.max', () => (s.infusion.after = { max: b.afterMax }));
        if (has('followUpMin'))
          breakWith('steps.follow_up.after.min', () => (s.follow_up = { after: { min: b.followUpMin } }));
        if (has('weight')) breakWith('weightKg', () => (t.weightKg = b.weight));
        if (has('unknownKey')) breakWith(`steps.${b.unknownKey}`, () => (s[b.unknownKey!] = {}));
        if (has('therapyOccurrences'))
          breakWith('steps.therapy.occurrences', () => (s.therapy = { occurrences: b.therapyOccurrences }));

        const result = tailor(demo(), t);
        expect(result.ok).toBe(false);
        const fields = new Set(errorsOf(result).map((e) => e.field));
        for (const f of expected) expect(fields).toContain(f);
      }),
      { numRuns: 200 },
    );
  });
});
