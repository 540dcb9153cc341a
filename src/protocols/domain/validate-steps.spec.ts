import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import { KETAMINE_PROTOCOL } from '../../seed/demo-protocol.js';
import { ProtocolStepDto } from '../dto/protocol-step.dto.js';
import { gapDays, MAX_REPEAT, MAX_TEMPLATE_SPAN_DAYS, type Gap, type ProtocolStep } from './protocol-step.js';
import { doseAt, templateSpanDays, validateProtocolSteps, type Issue } from './validate-steps.js';

// Demo step indices: 0 intake, 1 infusion, 2 therapy, 3 follow_up, 4 booster.

/** A fresh, mutable copy of the demo protocol's steps. */
function demo(): ProtocolStep[] {
  return structuredClone(KETAMINE_PROTOCOL.steps) as ProtocolStep[];
}

/** The demo steps after `change`. */
function demoWith(change: (steps: ProtocolStep[]) => void): ProtocolStep[] {
  const steps = demo();
  change(steps);
  return steps;
}

const days = (min: number, target: number, max: number): Gap => ({ min, target, max, unit: 'days' });
const hours = (min: number, target: number, max: number): Gap => ({ min, target, max, unit: 'hours' });

/** A minimal valid step; `over` replaces any field. */
function step(key: string, over: Partial<ProtocolStep> = {}): ProtocolStep {
  return {
    key,
    kind: 'consult',
    label: key,
    durationMinutes: 30,
    recoveryMinutes: 0,
    needsChair: false,
    staffRole: null,
    repeat: 1,
    ...over,
  };
}

const fields = (issues: Issue[]) => issues.map((i) => i.field);

describe('validateProtocolSteps', () => {
  describe('valid templates', () => {
    it('accepts the demo ketamine protocol', () => {
      expect(validateProtocolSteps(demo())).toEqual([]);
    });

    it('does not change the steps it checks', () => {
      const steps = demo();
      validateProtocolSteps(steps);
      expect(steps).toEqual(KETAMINE_PROTOCOL.steps);
    });

    it.each<[string, ProtocolStep[]]>([
      ['a single step', [step('only')]],
      ['an empty template', []],
      ['a gap with min = target = max', [step('a'), step('b', { after: { step: 'a', gap: days(3, 3, 3) } })]],
      ['a gap of zero days', [step('a'), step('b', { after: { step: 'a', gap: days(0, 0, 0) } })]],
      ['a repeating step with spacing', [step('a', { repeat: 3, spacing: hours(12, 24, 48) })]],
      [
        'repeatMin = repeat = repeatMax',
        [step('a', { repeat: 2, repeatMin: 2, repeatMax: 2, spacing: days(1, 1, 1) })],
      ],
      ['repeatMax > 1 with repeat 1 and spacing', [step('a', { repeat: 1, repeatMax: 3, spacing: days(1, 2, 3) })]],
      ['independent steps (no after)', [step('a'), step('b'), step('c')]],
      [
        'a step after an attached step',
        [
          step('a', { repeat: 2, spacing: days(1, 1, 2) }),
          step('b', { attachedTo: { step: 'a', position: 'before', gap: hours(0, 1, 2) } }),
          step('c', { after: { step: 'b', gap: days(1, 1, 1) } }),
        ],
      ],
      [
        'sameDay with an hours gap',
        [step('a'), step('b', { attachedTo: { step: 'a', position: 'after', gap: hours(0, 2, 8), sameDay: true } })],
      ],
      [
        'sameDay with a 0-day min',
        [step('a'), step('b', { attachedTo: { step: 'a', position: 'after', gap: days(0, 0, 1), sameDay: true } })],
      ],
      ['dose amount at its min', demoWith((s) => (s[1].dose!.amount = 0.1))],
      ['dose amount at its max', demoWith((s) => (s[1].dose!.amount = 1.0))],
      [
        'dose with min = max = amount',
        demoWith((s) => (s[1].dose = { ...s[1].dose!, amount: 0.5, min: 0.5, max: 0.5 })),
      ],
      ['infusionMinutes = durationMinutes', demoWith((s) => (s[1].dose!.infusionMinutes = 40))],
      ['escalation staying in range at repeatMax', demoWith((s) => (s[1].dose!.escalationPerOccurrence = 0.05))],
      // 0.3 + 7 × 0.1 is 0.9999999999999999 in floating point; doseAt rounds it to 1.
      [
        'escalation reaching max exactly at repeatMax',
        demoWith((s) => Object.assign(s[1].dose!, { amount: 0.3, escalationPerOccurrence: 0.1 })),
      ],
      ['tapering staying in range', demoWith((s) => (s[1].dose!.escalationPerOccurrence = -0.05))],
      ['escalation of 0', demoWith((s) => (s[1].dose!.escalationPerOccurrence = 0))],
      [
        'mg doses',
        demoWith((s) => (s[1].dose = { drug: 'x', amount: 25, unit: 'mg', infusionMinutes: 30, min: 10, max: 50 })),
      ],
    ])('accepts %s', (_name, steps) => {
      expect(validateProtocolSteps(steps)).toEqual([]);
    });
  });

  describe('semantic rules, each naming its field', () => {
    it.each<[string, (s: ProtocolStep[]) => void, string[]]>([
      // gaps
      ['spacing max below min', (s) => (s[1].spacing = days(3, 3, 2)), ['steps.1.spacing.max']],
      ['spacing target below min', (s) => (s[1].spacing = days(2, 1, 4)), ['steps.1.spacing.target']],
      ['spacing target above max', (s) => (s[1].spacing = days(1, 5, 4)), ['steps.1.spacing.target']],
      ['after gap max below min', (s) => (s[1].after!.gap = days(5, 5, 4)), ['steps.1.after.gap.max']],
      ['after gap target outside', (s) => (s[3].after!.gap = days(7, 11, 10)), ['steps.3.after.gap.target']],
      [
        'attachment gap max below min',
        (s) => (s[2].attachedTo!.gap = hours(24, 24, 0)),
        ['steps.2.attachedTo.gap.max'],
      ],
      [
        'attachment gap target outside',
        (s) => (s[2].attachedTo!.gap = hours(2, 1, 24)),
        ['steps.2.attachedTo.gap.target'],
      ],
      // doses
      ['dose max below min', (s) => Object.assign(s[1].dose!, { min: 1.0, max: 0.1 }), ['steps.1.dose.max']],
      ['dose amount below its range', (s) => (s[1].dose!.amount = 0.05), ['steps.1.dose.amount']],
      ['dose amount above its range', (s) => (s[4].dose!.amount = 1.5), ['steps.4.dose.amount']],
      [
        'escalation leaving the range at repeatMax',
        (s) => (s[1].dose!.escalationPerOccurrence = 0.1),
        ['steps.1.dose.escalationPerOccurrence'],
      ],
      [
        'tapering leaving the range at repeatMax',
        (s) => (s[1].dose!.escalationPerOccurrence = -0.1),
        ['steps.1.dose.escalationPerOccurrence'],
      ],
      [
        'escalation that fits at repeat but not at repeatMax',
        (s) => Object.assign(s[1].dose!, { amount: 0.5, escalationPerOccurrence: 0.09 }), // 0.95 at 6, 1.13 at 8
        ['steps.1.dose.escalationPerOccurrence'],
      ],
      [
        'infusionMinutes beyond durationMinutes',
        (s) => (s[1].dose!.infusionMinutes = 41),
        ['steps.1.dose.infusionMinutes'],
      ],
      // keys and references
      ['a duplicate key', (s) => s.push({ ...s[4] }), ['steps.5.key']],
      ['a step after itself', (s) => (s[1].after!.step = 'infusion'), ['steps.1.after.step']],
      ['a step attached to itself', (s) => (s[2].attachedTo!.step = 'therapy'), ['steps.2.attachedTo.step']],
      [
        'a step after a later step',
        (s) => (s[0].after = { step: 'booster', gap: days(1, 1, 1) }),
        ['steps.0.after.step'],
      ],
      ['a step attached to a later step', (s) => (s[2].attachedTo!.step = 'booster'), ['steps.2.attachedTo.step']],
      ['a step after an unknown step', (s) => (s[3].after!.step = 'nope'), ['steps.3.after.step']],
      ['a step attached to an unknown step', (s) => (s[2].attachedTo!.step = 'nope'), ['steps.2.attachedTo.step']],
      [
        'a step attached to an attached step',
        (s) => s.push(step('notes', { attachedTo: { step: 'therapy', position: 'after', gap: hours(0, 1, 2) } })),
        ['steps.5.attachedTo.step'],
      ],
      // attachments
      [
        'sameDay with a gap of at least one day',
        (s) => Object.assign(s[2].attachedTo!, { gap: days(1, 1, 2), sameDay: true }),
        ['steps.2.attachedTo.sameDay'],
      ],
      ['an attached step with repeat 2', (s) => (s[2].repeat = 2), ['steps.2.repeat']],
      ['an attached step with repeatMin', (s) => (s[2].repeatMin = 1), ['steps.2.repeat']],
      ['an attached step with repeatMax', (s) => (s[2].repeatMax = 2), ['steps.2.repeat']],
      ['an attached step with after', (s) => (s[2].after = { step: 'intake', gap: days(1, 1, 1) }), ['steps.2.after']],
      ['an attached step with spacing', (s) => (s[2].spacing = days(1, 1, 1)), ['steps.2.spacing']],
      // repeats
      ['repeatMin above repeat', (s) => (s[1].repeatMin = 7), ['steps.1.repeatMin']],
      ['repeatMax below repeat', (s) => (s[1].repeatMax = 5), ['steps.1.repeatMax']],
      ['a repeating step without spacing', (s) => delete s[1].spacing, ['steps.1.spacing']],
      ['repeat 2 without spacing', (s) => (s[3].repeat = 2), ['steps.3.spacing']],
      ['repeatMax 2 without spacing', (s) => (s[3].repeatMax = 2), ['steps.3.spacing']],
    ])('refuses %s', (_name, change, expected) => {
      expect(fields(validateProtocolSteps(demoWith(change)))).toEqual(expected);
    });

    it.each<[string, (s: ProtocolStep[]) => void, RegExp]>([
      ['max below min', (s) => (s[1].spacing = days(3, 3, 2)), /max \(2\) must not be below min \(3\)/],
      ['target outside', (s) => (s[1].spacing = days(1, 5, 4)), /target \(5\) must lie within \[1, 4\]/],
      ['dose outside its range', (s) => (s[1].dose!.amount = 1.5), /1\.5 mg\/kg.*\[0\.1, 1\]/],
      ['escalation', (s) => (s[1].dose!.escalationPerOccurrence = 0.1), /1\.2 mg\/kg at occurrence 8/],
      ['duplicate key', (s) => s.push({ ...s[4] }), /duplicate key 'booster' \(also step 4\)/],
      ['self dependency', (s) => (s[1].after!.step = 'infusion'), /itself/],
      [
        'later dependency',
        (s) => (s[0].after = { step: 'booster', gap: days(1, 1, 1) }),
        /'booster', which comes later/,
      ],
      ['unknown step', (s) => (s[3].after!.step = 'nope'), /unknown step 'nope'/],
    ])('says what is wrong: %s', (_name, change, message) => {
      const issues = validateProtocolSteps(demoWith(change));
      expect(issues).toHaveLength(1);
      expect(issues[0].message).toMatch(message);
    });

    it('flags only the step that points forward in a two-step cycle', () => {
      const steps = [
        step('a', { after: { step: 'b', gap: days(1, 1, 1) } }),
        step('b', { after: { step: 'a', gap: days(1, 1, 1) } }),
      ];
      expect(fields(validateProtocolSteps(steps))).toEqual(['steps.0.after.step']);
    });

    it('reports a dose range error without also reporting the amount', () => {
      // max < min and the amount outside both: only the range is reported.
      const steps = demoWith((s) => Object.assign(s[1].dose!, { min: 1.0, max: 0.2, amount: 2 }));
      expect(fields(validateProtocolSteps(steps))).toEqual(['steps.1.dose.max']);
    });

    it('reports every problem at once, in step order', () => {
      const steps = demoWith((s) => {
        s[0].after = { step: 'infusion', gap: days(1, 1, 1) };
        s[1].spacing = days(3, 3, 2);
        s[1].dose!.amount = 2;
        s[1].repeatMin = 7;
        s[2].repeat = 3;
        s[3].after!.gap = days(7, 20, 10);
        s.push({ ...s[4] });
      });
      expect(fields(validateProtocolSteps(steps))).toEqual([
        'steps.0.after.step',
        'steps.1.repeatMin',
        'steps.1.dose.amount',
        'steps.1.spacing.max',
        'steps.2.repeat',
        'steps.3.after.gap.target',
        'steps.5.key',
      ]);
    });
  });

  describe('total span limit', () => {
    it('is 365 days', () => {
      expect(MAX_TEMPLATE_SPAN_DAYS).toBe(365);
    });

    const afterGap = (gap: Gap) => [step('a'), step('b', { after: { step: 'a', gap } })];
    const repeating = (afterMax: number) => [
      step('a'),
      step('b', {
        after: { step: 'a', gap: days(0, 0, afterMax) },
        repeat: 2,
        repeatMin: 1,
        repeatMax: 13,
        spacing: days(7, 14, 30),
      }),
    ];

    it.each<[string, ProtocolStep[], number]>([
      ['a 364-day gap', afterGap(days(1, 1, 364)), 364],
      ['a 365-day gap', afterGap(days(1, 1, 365)), 365],
      ['8760 hours', afterGap(hours(1, 1, 8760)), 365],
      ['5 days + 12 × 30-day spacing', repeating(5), 365],
      ['the demo protocol', demo(), 87],
    ])('accepts %s (span %i days)', (_name, steps, span) => {
      expect(templateSpanDays(steps)).toBe(span);
      expect(validateProtocolSteps(steps)).toEqual([]);
    });

    it.each<[string, ProtocolStep[], number]>([
      ['a 366-day gap', afterGap(days(1, 1, 366)), 366],
      ['8761 hours (rounded up to 366 days)', afterGap(hours(1, 1, 8761)), 366],
      ['6 days + 12 × 30-day spacing', repeating(6), 366],
      ['the demo with a 400-day booster gap', demoWith((s) => (s[4].after!.gap = days(28, 28, 400))), 452],
    ])('refuses %s (span %i days) on the whole step list', (_name, steps, span) => {
      expect(templateSpanDays(steps)).toBe(span);
      const issues = validateProtocolSteps(steps);
      expect(issues).toEqual([{ field: 'steps', message: expect.stringContaining(`${span} days`) }]);
      expect(issues[0].message).toContain('365');
    });

    it('checks the span only once every other rule passes', () => {
      const steps = afterGap(days(1, 0, 400)); // a 400-day span, and a target outside [1, 400]
      expect(fields(validateProtocolSteps(steps))).toEqual(['steps.1.after.gap.target']);
    });
  });
});

describe('templateSpanDays', () => {
  it.each<[string, ProtocolStep[], number]>([
    ['no steps', [], 0],
    ['a single one-off step', [step('a')], 0],
    ['a step after another, days', [step('a'), step('b', { after: { step: 'a', gap: days(1, 2, 9) } })], 9],
    [
      'a step after another, 36 hours (rounded up to 2 days)',
      [step('a'), step('b', { after: { step: 'a', gap: hours(1, 2, 36) } })],
      2,
    ],
    [
      'a step after another, 24 hours (1 day)',
      [step('a'), step('b', { after: { step: 'a', gap: hours(1, 2, 24) } })],
      1,
    ],
    ['repeat uses spacing max: 5 × 3 days', [step('a', { repeat: 6, spacing: days(1, 2, 3) })], 15],
    ['repeatMax wins over repeat: 9 × 3 days', [step('a', { repeat: 6, repeatMax: 10, spacing: days(1, 2, 3) })], 27],
    ['repeat with hours spacing: 2 × ceil(30/24)', [step('a', { repeat: 3, spacing: hours(10, 20, 30) })], 4],
    [
      'chained after the last occurrence: 2 + 3 × 4 + 10',
      [
        step('a'),
        step('b', { after: { step: 'a', gap: days(1, 1, 2) }, repeat: 4, spacing: days(1, 1, 4) }),
        step('c', { after: { step: 'b', gap: days(1, 1, 10) } }),
      ],
      24,
    ],
    [
      'an attachment after, in hours: 3 × 2 + ceil(25/24)',
      [
        step('a', { repeat: 4, spacing: days(1, 1, 2) }),
        step('b', { attachedTo: { step: 'a', position: 'after', gap: hours(0, 1, 25) } }),
      ],
      8,
    ],
    [
      'an attachment before ends with its anchor',
      [
        step('a', { repeat: 4, spacing: days(1, 1, 2) }),
        step('b', { attachedTo: { step: 'a', position: 'before', gap: days(0, 1, 5) } }),
      ],
      6,
    ],
    [
      'a step after an attached step: 6 + 1 + 3',
      [
        step('a', { repeat: 4, spacing: days(1, 1, 2) }),
        step('b', { attachedTo: { step: 'a', position: 'after', gap: hours(0, 1, 24) } }),
        step('c', { after: { step: 'b', gap: days(1, 1, 3) } }),
      ],
      10,
    ],
    [
      'the longest of independent chains',
      [
        step('a'),
        step('b', { after: { step: 'a', gap: days(1, 1, 20) } }),
        step('c', { repeat: 3, spacing: days(1, 1, 15) }),
      ],
      30,
    ],
    // intake 0; infusion 14 + 7 × 4 = 42; therapy 43; follow-up 42 + 10 = 52; booster 52 + 35 = 87.
    ['the demo protocol', demo(), 87],
  ])('%s → %i days', (_name, steps, expected) => {
    expect(templateSpanDays(steps)).toBe(expected);
  });
});

describe('gapDays', () => {
  it.each<[number, 'hours' | 'days', number]>([
    [0, 'days', 0],
    [3, 'days', 3],
    [0, 'hours', 0],
    [1, 'hours', 1],
    [24, 'hours', 1],
    [25, 'hours', 2],
    [48, 'hours', 2],
    [8760, 'hours', 365],
  ])('%i %s → %i days', (value, unit, expected) => {
    expect(gapDays(value, unit)).toBe(expected);
  });
});

describe('doseAt', () => {
  it.each<[number, number | undefined, number, number]>([
    [0.5, undefined, 1, 0.5],
    [0.5, undefined, 6, 0.5],
    [0.5, 0, 4, 0.5],
    [0.5, 0.1, 1, 0.5],
    [0.5, 0.1, 2, 0.6],
    [0.5, 0.1, 3, 0.7],
    [0.3, 0.1, 8, 1], // 0.9999999999999999 before rounding
    [0.1, 0.2, 2, 0.3], // 0.30000000000000004 before rounding
    [0.5, -0.1, 5, 0.1],
    [0.5, -0.1, 6, 0],
    [25, 5, 4, 40],
    [0.1, 0.05, 4, 0.25],
    [0.123, 0.001, 3, 0.125],
  ])('doseAt(%p, %p, occurrence %i) = %p', (base, escalation, occurrence, expected) => {
    expect(doseAt(base, escalation, occurrence)).toBe(expected);
  });

  it('rounds to 3 decimals', () => {
    expect(doseAt(0.1, 1 / 3, 2)).toBe(0.433);
  });
});

describe('ProtocolStepDto shape rules (class-validator)', () => {
  /** The dotted path of every property with a failed constraint, e.g. `dose.unit`. */
  function invalidPaths(plain: object): string[] {
    const out: string[] = [];
    const walk = (errors: ValidationError[], prefix: string) => {
      for (const e of errors) {
        const path = `${prefix}${e.property}`;
        if (e.constraints && Object.keys(e.constraints).length) out.push(path);
        if (e.children?.length) walk(e.children, `${path}.`);
      }
    };
    walk(validateSync(plainToInstance(ProtocolStepDto, plain)), '');
    return out;
  }

  const plainDemo = (i: number): Record<string, any> =>
    structuredClone(KETAMINE_PROTOCOL.steps[i]) as Record<string, any>;

  it.each([0, 1, 2, 3, 4])('accepts demo step %i', (i) => {
    expect(invalidPaths(plainDemo(i))).toEqual([]);
  });

  it.each<[string, (s: Record<string, any>) => void]>([
    ['staffRole null', (s) => (s.staffRole = null)],
    ['key of one letter', (s) => (s.key = 'a')],
    ['key of 40 characters', (s) => (s.key = 'a'.repeat(40))],
    ['key with digits, _ and -', (s) => (s.key = 'step_2-b')],
    ['durationMinutes 5', (s) => (s.durationMinutes = 5)],
    ['recoveryMinutes 0', (s) => (s.recoveryMinutes = 0)],
    ['repeat 1', (s) => Object.assign(s, { repeat: 1, repeatMin: 1 })],
    [`repeat ${MAX_REPEAT}`, (s) => Object.assign(s, { repeat: MAX_REPEAT, repeatMax: MAX_REPEAT })],
    ['weekdays 1–7', (s) => (s.weekdays = [1, 2, 3, 4, 5, 6, 7])],
    ['dose amount with 3 decimals', (s) => (s.dose.amount = 0.125)],
    ['a negative escalation', (s) => (s.dose.escalationPerOccurrence = -0.05)],
    ['a gap of 0', (s) => (s.spacing = { min: 0, target: 0, max: 0, unit: 'hours' })],
  ])('accepts %s', (_name, change) => {
    const s = plainDemo(1);
    change(s);
    expect(invalidPaths(s)).toEqual([]);
  });

  it.each<[string, (s: Record<string, any>) => void, string]>([
    ['an unknown kind', (s) => (s.kind = 'massage'), 'kind'],
    ['an unknown staff role', (s) => (s.staffRole = 'janitor'), 'staffRole'],
    ['an unknown dose unit', (s) => (s.dose.unit = 'mcg'), 'dose.unit'],
    ['an unknown spacing unit', (s) => (s.spacing.unit = 'weeks'), 'spacing.unit'],
    ['an unknown after gap unit', (s) => (s.after.gap.unit = 'minutes'), 'after.gap.unit'],
    [
      'an unknown attachment position',
      (s) => (s.attachedTo = { step: 'intake', position: 'during', gap: { min: 0, target: 0, max: 1, unit: 'hours' } }),
      'attachedTo.position',
    ],
    ['durationMinutes 0', (s) => (s.durationMinutes = 0), 'durationMinutes'],
    ['negative durationMinutes', (s) => (s.durationMinutes = -40), 'durationMinutes'],
    ['durationMinutes 4 (below 5)', (s) => (s.durationMinutes = 4), 'durationMinutes'],
    ['fractional durationMinutes', (s) => (s.durationMinutes = 40.5), 'durationMinutes'],
    ['durationMinutes 721', (s) => (s.durationMinutes = 721), 'durationMinutes'],
    ['negative recoveryMinutes', (s) => (s.recoveryMinutes = -1), 'recoveryMinutes'],
    ['infusionMinutes 0', (s) => (s.dose.infusionMinutes = 0), 'dose.infusionMinutes'],
    ['negative infusionMinutes', (s) => (s.dose.infusionMinutes = -5), 'dose.infusionMinutes'],
    ['dose amount 0', (s) => (s.dose.amount = 0), 'dose.amount'],
    ['negative dose amount', (s) => (s.dose.amount = -0.5), 'dose.amount'],
    ['dose amount with 4 decimals', (s) => (s.dose.amount = 0.1234), 'dose.amount'],
    ['dose min 0', (s) => (s.dose.min = 0), 'dose.min'],
    ['a negative gap min', (s) => (s.spacing.min = -1), 'spacing.min'],
    ['a gap above 8760', (s) => (s.after.gap.max = 8761), 'after.gap.max'],
    ['repeat 0', (s) => (s.repeat = 0), 'repeat'],
    ['repeat 53', (s) => (s.repeat = 53), 'repeat'],
    ['fractional repeat', (s) => (s.repeat = 2.5), 'repeat'],
    ['repeatMin 0', (s) => (s.repeatMin = 0), 'repeatMin'],
    ['repeatMax 53', (s) => (s.repeatMax = 53), 'repeatMax'],
    ['key with upper case', (s) => (s.key = 'Infusion'), 'key'],
    ['key starting with a digit', (s) => (s.key = '1st'), 'key'],
    ['key starting with _', (s) => (s.key = '_x'), 'key'],
    ['empty key', (s) => (s.key = ''), 'key'],
    ['key with a space', (s) => (s.key = 'ket infusion'), 'key'],
    ['key with a dot', (s) => (s.key = 'inf.usion'), 'key'],
    ['key of 41 characters', (s) => (s.key = 'a'.repeat(41)), 'key'],
    ['numeric key', (s) => (s.key = 12), 'key'],
    ['weekday 8', (s) => (s.weekdays = [1, 8]), 'weekdays'],
    ['weekday 0', (s) => (s.weekdays = [0, 1]), 'weekdays'],
    ['fractional weekday', (s) => (s.weekdays = [1.5]), 'weekdays'],
    ['repeated weekday', (s) => (s.weekdays = [1, 1]), 'weekdays'],
    ['eight weekdays', (s) => (s.weekdays = [1, 2, 3, 4, 5, 6, 7, 7]), 'weekdays'],
    ['needsChair as a string', (s) => (s.needsChair = 'yes'), 'needsChair'],
  ])('refuses %s, naming %s', (_name, change, path) => {
    const s = plainDemo(1);
    change(s);
    const paths = invalidPaths(s);
    expect(paths).toContain(path);
    expect(new Set(paths)).toEqual(new Set([path]));
  });
});
