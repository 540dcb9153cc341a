import chromium from '@sparticuz/chromium';
import axe from 'axe-core';
import { DateTime } from 'luxon';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium as playwright, type Browser, type BrowserContext, type Page } from 'playwright-core';
import request from 'supertest';
import { seedDemo } from '../../src/seed/demo-seed.js';
import { bearer, startTestApp, type TestApp } from '../support/test-app.js';

// ---------------------------------------------------------------------------------------------
// The web app in real headless Chromium (shipped inside @sparticuz/chromium) against the real
// service on its own database with the demo data: every click goes through /v1 as a user's would.
// Screenshots go to docs/screenshots/ when UPDATE_SCREENSHOTS=1 (else to a temp folder).
// ---------------------------------------------------------------------------------------------

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const webDir = path.join(root, 'dist/web');
const shotDir =
  process.env.UPDATE_SCREENSHOTS === '1'
    ? path.join(root, 'docs/screenshots')
    : mkdtempSync(path.join(os.tmpdir(), 'chairside-shots-'));
const NOW = '2026-12-03T14:00:00Z'; // Thursday 09:00 in Fort Lauderdale

/** The built app, built here if a developer runs `npm test` without `npm run build` first. */
function ensureBuilt(): void {
  if (existsSync(path.join(webDir, 'index.html'))) return;
  execFileSync(
    process.execPath,
    [path.join(root, 'node_modules/vite/bin/vite.js'), 'build', '--config', path.join(root, 'web/vite.config.ts')],
    { cwd: root, stdio: 'ignore' },
  );
}

async function launch(): Promise<Browser> {
  return playwright.launch({
    executablePath: await chromium.executablePath(),
    headless: true,
    args: [
      '--no-sandbox',
      '--headless',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--no-default-browser-check',
    ],
  });
}

/** axe-core on the page as it is: no serious or critical violation (WCAG 2 A/AA rules). */
async function expectAccessible(page: Page, screen: string): Promise<void> {
  // evaluate() runs outside the page's CSP, which allows no inline scripts.
  await page.evaluate(axe.source);
  const result = (await page.evaluate(
    "axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa', 'best-practice'] } })",
  )) as axe.AxeResults;
  const bad = result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map(
      (v) =>
        `${v.id} (${v.impact}): ${v.nodes
          .map((n) => n.target.join(' '))
          .slice(0, 3)
          .join(', ')}`,
    );
  expect({ screen, violations: bad }).toEqual({ screen, violations: [] });
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(shotDir, `${name}.png`) });
}

describe('web app (headless Chromium)', () => {
  let t: TestApp;
  let base: string;
  let keys: Record<string, string>;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const cspErrors: string[] = [];
  const pageErrors: string[] = [];

  const api = () => request(t.http);
  const patientId = async (name: string) =>
    (await api().get('/v1/patients').query({ q: name }).set(bearer(keys.CHAIRSIDE_FRONT_DESK_KEY)).expect(200)).body
      .items[0].id as string;
  const plansOf = async (id: string) =>
    (await api().get(`/v1/patients/${id}/plans`).set(bearer(keys.CHAIRSIDE_CLINICIAN_KEY)).expect(200)).body.items as {
      id: string;
      version: number;
      sessions: { id: string; ref: string; start: string; end: string; localDate: string; status: string }[];
    }[];

  /** Moves the service's clock and the browser's together. */
  async function setNow(iso: string): Promise<void> {
    t.clock.set(DateTime.fromISO(iso, { zone: 'utc' }));
    await page.clock.setFixedTime(new Date(iso));
  }

  async function signIn(key: string, role: string): Promise<void> {
    await page.goto(base);
    await page.evaluate('sessionStorage.clear()');
    await page.reload();
    await page.getByLabel('API key').fill(key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('role').filter({ hasText: role }).first().waitFor();
  }
  async function signOut(): Promise<void> {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API key').waitFor();
  }
  const nav = (name: string) =>
    page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name, exact: true }).click();

  beforeAll(async () => {
    mkdirSync(shotDir, { recursive: true });
    ensureBuilt();
    t = await startTestApp({ now: NOW });
    await t.app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(t.http.address() as AddressInfo).port}/`;
    const seeded = await seedDemo(t.app, mkdtempSync(path.join(os.tmpdir(), 'chairside-e2e-')));
    keys = Object.fromEntries(
      readFileSync(seeded.keysFile, 'utf8')
        .trim()
        .split('\n')
        .map((l) => l.replace(/^export /, '').split('=') as [string, string]),
    );
    browser = await launch();
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await context.addInitScript('window.CHAIRSIDE_POLL_MS = 700');
    page = await context.newPage();
    page.setDefaultTimeout(8000);
    await page.clock.setFixedTime(new Date(NOW));
    page.on('console', (m) => {
      if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) cspErrors.push(m.text());
    });
    page.on('pageerror', (e) => pageErrors.push(e.message));
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  afterEach(async () => {
    // The screen as it was when a test ended (for a failure's post-mortem).
    await page
      ?.screenshot({
        path: path.join(
          os.tmpdir(),
          `chairside-e2e-${(expect.getState().currentTestName ?? 'x').replace(/\W+/g, '-').slice(-60)}.png`,
        ),
      })
      .catch(() => undefined);
    expect(pageErrors).toEqual([]);
    expect(cspErrors).toEqual([]);
  });

  it('is served at / with the API under /v1 still answering problem+json, and its bundle is under 300 kB gzipped', async () => {
    const html = await api().get('/').expect(200);
    expect(html.headers['content-type']).toMatch(/text\/html/);
    expect(html.text).not.toMatch(/<script>(?!<)/); // no inline script
    await api()
      .get('/any/screen')
      .expect(200)
      .expect('content-type', /text\/html/);
    await api()
      .get('/v1/no-such-thing')
      .set(bearer(keys.CHAIRSIDE_FRONT_DESK_KEY))
      .expect(404)
      .expect('content-type', /problem\+json/);
    await api().get('/assets/missing.js').expect(404);
    const js = readdirSync(path.join(webDir, 'assets')).filter((f) => /\.(js|css)$/.test(f));
    const gz = js.reduce((n, f) => n + gzipSync(readFileSync(path.join(webDir, 'assets', f))).length, 0);
    expect(gz).toBeLessThan(300 * 1024);
  });

  it('the front desk signs in, sees its clinic and role, and is not offered clinician or admin actions', async () => {
    await signIn(keys.CHAIRSIDE_FRONT_DESK_KEY, 'Front desk');
    await page.getByTestId('who').filter({ hasText: 'Chairside Fort Lauderdale' }).first().waitFor();
    // The key is kept for the tab only: sessionStorage, never localStorage or the URL.
    expect(await page.evaluate('localStorage.length')).toBe(0);
    expect(await page.evaluate('Object.keys(sessionStorage).sort()')).toEqual(['chairside.clinic', 'chairside.key']);
    expect(page.url()).toBe(base);
    expect(await page.getByRole('button', { name: 'Calendars & keys' }).count()).toBe(0);
    await nav('Protocols');
    await page.getByTestId('steps').waitFor();
    expect(await page.getByRole('button', { name: 'Save draft' }).count()).toBe(0);
    expect(await page.getByLabel('Step 2 recovery minutes').isDisabled()).toBe(true);
    // Outcomes are clinical records' figures: not shown to the front desk.
    expect(await page.getByTestId('outcomes').count()).toBe(0);
    await expectAccessible(page, 'protocols (front desk)');
  }, 60_000);

  it('registers a patient (field errors beside their fields), finds one as you type, books a series from the preview, once on a double click', async () => {
    await nav('Patients');
    await page.getByRole('button', { name: 'Register a patient' }).click();
    await page.getByLabel('Full name').fill('Riley Park');
    await page.getByLabel('Date of birth').fill('1990-05-06');
    await page.getByLabel('Phone').fill('call me');
    await page.getByRole('button', { name: 'Register', exact: true }).click();
    await page
      .locator('.field.invalid .field-error')
      .first()
      .filter({ hasText: /phone number/i })
      .first()
      .waitFor();
    await page.getByLabel('Phone').fill('+1 954 555 0101');
    await page.getByLabel('Weight (kg)').fill('70.5');
    await page.getByRole('button', { name: 'Register', exact: true }).click();
    await page.getByRole('heading', { name: 'Riley Park' }).waitFor();

    await nav('Patients');
    await page.getByLabel('Search by name').fill('morg');
    const row = page.getByRole('row', { name: /Morgan Ellis/ });
    await row.waitFor();
    await expect(page.getByTestId('patient-list').locator('tbody tr').count()).resolves.toBe(1);
    await expectAccessible(page, 'patients');
    await row.getByRole('button', { name: 'Book a series' }).click();
    await page.getByTestId('book-patient').waitFor();
    await page.getByLabel('Earliest start').fill('2026-12-07');
    await page.getByRole('button', { name: 'Preview' }).click();
    const strip = page.getByTestId('preview-strip');
    await strip.waitFor();
    expect(await strip.locator('li').count()).toBeGreaterThanOrEqual(10);
    await expect(strip.locator('li').nth(1).textContent()).resolves.toMatch(/\+\d+ (day|h|min)/);
    await expectAccessible(page, 'book: preview');
    await shot(page, 'book-preview');
    await page.getByRole('button', { name: /^Book \d+ sessions$/ }).dblclick();
    await page.getByTestId('booked').waitFor();
    const plans = await plansOf(await patientId('Morgan Ellis'));
    expect(plans).toHaveLength(1);
  }, 60_000);

  it('a weight the front desk entered waits: booking is refused in plain words until a clinician confirms it on the patient page', async () => {
    // Riley Park was registered by the front desk with 70.5 kg: pending, and the demo protocol doses in mg/kg.
    await nav('Book a series');
    await page.getByLabel('Find the patient').fill('Riley');
    await page.getByRole('button', { name: /Riley Park/ }).click();
    await page.getByLabel('Earliest start').fill('2026-12-07');
    await page.getByRole('button', { name: 'Preview' }).click();
    const refusal = page.getByRole('alert').filter({ hasText: 'Weight not confirmed (409)' });
    await refusal
      .filter({ hasText: /Riley Park's weight \(70\.5 kg\).*A clinician must confirm the weight/ })
      .waitFor();
    expect(await refusal.textContent()).not.toMatch(/PATCH|\/v1/);
    expect(await page.getByTestId('preview-strip').count()).toBe(0);
    await expectAccessible(page, 'book: weight refusal');
    // The front desk sees the weight waiting on the patient page, can edit it (it stays pending), cannot confirm it.
    await page.getByRole('button', { name: "Open Riley Park's patient page" }).click();
    await page
      .getByTestId('pending-weight')
      .filter({ hasText: '70.5 kg entered by front desk, awaiting clinician confirmation' })
      .waitFor();
    expect(await page.getByRole('button', { name: /Confirm weight/ }).count()).toBe(0);
    await page.getByRole('button', { name: 'Edit' }).click();
    await page.getByText(/A weight you enter waits for a clinician to confirm it/).waitFor();
    await expect(page.getByLabel('Weight (kg)').inputValue()).resolves.toBe('70.5');
    await page.getByRole('button', { name: 'Cancel' }).click();

    // A clinician, in another tab (its own sessionStorage, so its own key), confirms it.
    const desk = page;
    page = await context.newPage();
    page.setDefaultTimeout(8000);
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) cspErrors.push(m.text());
    });
    try {
      await page.clock.setFixedTime(new Date(NOW));
      await signIn(keys.CHAIRSIDE_CLINICIAN_KEY, 'Clinician');
      await nav('Patients');
      await page.getByLabel('Search by name').fill('Riley');
      const row = page.getByRole('row', { name: /Riley Park/ });
      await row.getByTestId('pending-weight').filter({ hasText: '70.5 kg entered by front desk' }).waitFor();
      await row.getByRole('button', { name: 'Confirm weight 70.5 kg for Riley Park' }).waitFor();
      await expectAccessible(page, 'patients: pending weight (clinician)');
      await shot(page, 'patients-pending-weight');
      await row.getByRole('button', { name: 'Riley Park', exact: true }).click();
      await page.getByRole('heading', { name: 'Riley Park' }).waitFor();
      await page.getByRole('button', { name: /Confirm weight/ }).click();
      await page
        .getByTestId('weight')
        .filter({ hasText: /^70\.5 kg$/ })
        .waitFor();
      expect(await page.getByTestId('pending-weight').count()).toBe(0);
    } finally {
      await page.close();
      page = desk;
    }
    const riley = (
      await api()
        .get(`/v1/patients/${await patientId('Riley Park')}`)
        .set(bearer(keys.CHAIRSIDE_CLINICIAN_KEY))
        .expect(200)
    ).body;
    expect(riley).toMatchObject({ weightKg: 70.5, pendingWeightKg: null });
    expect(await plansOf(riley.id)).toHaveLength(0);
  }, 60_000);

  it('a refusal shows its binding constraint and earliest workable start, which books with one click', async () => {
    await nav('Book a series');
    await page.getByLabel('Find the patient').fill('Riley');
    await page.getByRole('button', { name: /Riley Park/ }).click();
    await page.getByLabel('Earliest start').fill('2026-12-24');
    await page.getByLabel('Start within (days)').fill('1');
    await page.getByRole('button', { name: 'Preview' }).click();
    await page
      .getByTestId('binding')
      .filter({ hasText: /closure 2026-12-24 \(Christmas Eve\)/ })
      .first()
      .waitFor();
    await shot(page, 'book-refusal');
    await page.getByTestId('use-earliest').click();
    await page.getByTestId('preview-strip').waitFor();
    await expect(page.getByLabel('Earliest start').inputValue()).resolves.toBe('2026-12-28');
    await page.getByRole('button', { name: /^Book \d+ sessions$/ }).click();
    await page.getByTestId('booked').waitFor();
    const plans = await plansOf(await patientId('Riley Park'));
    expect(plans).toHaveLength(1);
    expect(plans[0].sessions[0].localDate >= '2026-12-28').toBe(true);
  }, 60_000);

  it('the booked series is on the day board; the front desk checks in, a clinician completes', async () => {
    const [plan] = await plansOf(await patientId('Morgan Ellis'));
    const first = plan.sessions[0];
    await page.getByRole('button', { name: 'See the first day on the board' }).count(); // (Riley's booking is on screen)
    await nav('Day board');
    await page.getByTestId('board-date').fill(first.localDate);
    const block = page.locator(`[data-session="${first.id}"]`);
    await block.waitFor();
    await expect(block.getAttribute('aria-label')).resolves.toMatch(/Morgan Ellis/);
    await expectAccessible(page, 'day board');
    await shot(page, 'day-board');

    // The session's own day, after it ended.
    await setNow(DateTime.fromISO(first.end).plus({ minutes: 5 }).toUTC().toISO()!);
    await block.click();
    await page.getByRole('button', { name: 'Check in' }).click();
    await page.getByTestId('session-status').filter({ hasText: 'Checked in' }).first().waitFor();
    expect(await page.getByRole('button', { name: 'Complete…' }).count()).toBe(0); // front desk
    // The front desk may reschedule and change chair or staff, not change doses, skip or end a plan.
    await page.getByRole('button', { name: 'Adjust plan…' }).click();
    await page.getByLabel('Change').locator('option').first().waitFor({ state: 'attached' }); // the plan is loaded
    const kinds = await page.getByLabel('Change').locator('option').allTextContents();
    expect(kinds.map((k) => k.split(' ')[0])).toEqual(['Reschedule', 'Change', 'Change']);
    expect(kinds.join(' ')).not.toMatch(/dose|Skip|End the plan/);
    await signOut();

    await signIn(keys.CHAIRSIDE_CLINICIAN_KEY, 'Clinician');
    await page.getByTestId('board-date').fill(first.localDate);
    await block.click();
    await page.getByRole('button', { name: 'Complete…' }).click();
    await expectAccessible(page, 'day board: complete');
    await page.getByRole('button', { name: 'Mark completed' }).click();
    await page.getByTestId('session-status').filter({ hasText: 'Completed' }).first().waitFor();
    await page.getByRole('button', { name: 'Close' }).click();
    await page.locator(`[data-session="${first.id}"].st-completed`).waitFor();
    const done = (await api().get(`/v1/sessions/${first.id}`).set(bearer(keys.CHAIRSIDE_CLINICIAN_KEY)).expect(200))
      .body;
    expect(done.status).toBe('completed');
  }, 60_000);

  it('the board stays current without a reload: a change made elsewhere shows up', async () => {
    const [plan] = await plansOf(await patientId('Morgan Ellis'));
    const next = plan.sessions[plan.sessions.length - 1]; // the booster: calling it off moves nothing else
    await page.getByTestId('board-date').fill(next.localDate);
    const block = page.locator(`[data-session="${next.id}"]`);
    await block.waitFor();
    await api()
      .post(`/v1/sessions/${next.id}/cancel`)
      .set(bearer(keys.CHAIRSIDE_FRONT_DESK_KEY))
      .send({ reason: 'Called to reschedule' })
      .expect(200);
    await page.locator(`[data-session="${next.id}"].st-cancelled`).waitFor({ timeout: 8000 });
  }, 30_000);

  it('reschedules with cascade (preview as a before/after list, then commit); a stale If-Match is answered 412 and reloaded', async () => {
    const pid = await patientId('Morgan Ellis');
    const [plan] = await plansOf(pid);
    // An infusion that can move a day later within its gaps (at most 4 days after the previous one),
    // onto a weekday: its attached therapy session follows it (the cascade).
    const zone = 'America/New_York';
    const dateOf = (s: { start: string }) => DateTime.fromISO(s.start, { zone }).startOf('day');
    const infusions = plan.sessions.filter((s) => s.ref.startsWith('infusion#') && s.status === 'scheduled');
    const target = infusions.find((s, i) => {
      const prev = plan.sessions.filter((x) => x.ref.startsWith('infusion#') && x.start < s.start).pop();
      const next = infusions[i + 1];
      const moved = dateOf(s).plus({ days: 1 });
      return (
        prev &&
        moved.diff(dateOf(prev), 'days').days <= 4 &&
        moved.weekday <= 5 &&
        (!next || dateOf(next).diff(moved, 'days').days >= 1)
      );
    })!;
    expect(target).toBeDefined();
    await nav('Patients');
    await page.getByLabel('Search by name').fill('Morgan');
    await page.getByRole('button', { name: 'Morgan Ellis' }).click();
    await page.getByRole('heading', { name: 'Adjustment log' }).waitFor();
    await expectAccessible(page, 'patient page');
    await shot(page, 'patient');
    await page.getByRole('button', { name: 'Adjust plan…' }).first().click();
    await page.getByLabel('Session').selectOption(target.id);
    // The form takes the session's own date once it is picked: change it only after that.
    await page.waitForFunction(
      `Array.from(document.querySelectorAll('input[type=date]')).some((i) => i.value === '${dateOf(target).toISODate()}')`,
    );
    const day = dateOf(target).plus({ days: 1 });
    await page.getByLabel('New date').fill(day.toISODate()!);
    await page.getByRole('button', { name: 'Preview the change' }).click();
    const diff = page.getByTestId('diff');
    await diff.waitFor();
    await expect(diff.locator('.diff-moved').count()).resolves.toBeGreaterThanOrEqual(2); // the infusion and what follows it
    await expectAccessible(page, 'adjust: preview');
    await shot(page, 'adjust-preview');
    await page.getByRole('button', { name: 'Commit the change' }).click();
    await page.getByTestId('committed').waitFor();
    const moved = (await plansOf(pid))[0];
    expect(moved.version).toBe(plan.version + 1);
    expect(dateOf(moved.sessions.find((s) => s.ref === target.ref)!).toISODate()).toBe(day.toISODate());

    // Someone else changes the plan meanwhile.
    const third = moved.sessions.find(
      (s) => s.ref.startsWith('infusion#') && s.status === 'scheduled' && s.ref !== target.ref,
    )!;
    await api()
      .post(`/v1/plans/${moved.id}/adjustments`)
      .set({ ...bearer(keys.CHAIRSIDE_CLINICIAN_KEY), 'If-Match': `"p${moved.version}"` })
      .send({ type: 'change_dose', sessionId: third.id, amount: 0.6, reason: 'Tolerating well' })
      .expect(200);
    await page.getByLabel('Change').selectOption('change_dose');
    await page.getByLabel('Session').selectOption(third.id);
    await page.getByLabel(/New dose/).fill('0.7');
    await page.getByLabel(/Reason/).fill('Better tolerated');
    await page.getByRole('button', { name: 'Preview the change' }).click();
    await page.getByTestId('stale').waitFor();
    await shot(page, 'adjust-stale');
    await page.getByRole('button', { name: 'Reload the plan' }).click();
    await page.getByText(`Plan version ${moved.version + 1} `).waitFor();
    await page.getByLabel(/New dose/).fill('0.7');
    await page.getByRole('button', { name: 'Preview the change' }).click();
    await page.getByTestId('diff').filter({ hasText: '0.6 mg/kg' }).waitFor(); // the other change is there now
  }, 60_000);

  it('a clinician edits the protocol draft (server errors beside their cells), saves and publishes it', async () => {
    await nav('Protocols');
    const recovery = page.getByLabel('Step 2 recovery minutes');
    await recovery.fill('9999');
    await page.getByRole('button', { name: 'Save draft' }).click();
    await page.locator('td.invalid .field-error').first().filter({ hasText: /720/ }).first().waitFor();
    await expectAccessible(page, 'protocol editor');
    await recovery.fill('45');
    await page.getByRole('button', { name: 'Save draft' }).click();
    await page.getByText('Draft saved.').waitFor();
    await shot(page, 'protocol-editor');
    await page.getByRole('button', { name: 'Publish version 3' }).click();
    await page.getByText('Published.').waitFor();
    await page.getByTestId('versions').filter({ hasText: 'Version 3' }).first().waitFor();
    const proto = (
      await api()
        .get(`/v1/protocols/${keys.CHAIRSIDE_PROTOCOL_ID}/versions/3`)
        .set(bearer(keys.CHAIRSIDE_FRONT_DESK_KEY))
        .expect(200)
    ).body;
    expect(proto.steps[1].recoveryMinutes).toBe(45);
    await signOut();
  }, 60_000);

  it('a clinician compares the protocol versions side by side: headline figures and charts by infusion', async () => {
    await signIn(keys.CHAIRSIDE_CLINICIAN_KEY, 'Clinician');
    await nav('Protocols');
    const figures = page.getByTestId('outcomes-figures');
    await figures.waitFor();
    const id = keys.CHAIRSIDE_PROTOCOL_ID;
    const report = (
      await api().get(`/v1/protocols/${id}/outcomes`).set(bearer(keys.CHAIRSIDE_CLINICIAN_KEY)).expect(200)
    ).body;
    const ops = (
      await api()
        .get('/v1/outcomes/operations')
        .query(report.period)
        .set(bearer(keys.CHAIRSIDE_CLINICIAN_KEY))
        .expect(200)
    ).body;
    // The latest two versions with data (a version published without plans, if any, is not picked).
    expect(await figures.locator('thead th').allTextContents()).toEqual(['Figure', 'Version 1', 'Version 2']);
    const row = async (label: string) =>
      (
        await figures
          .getByRole('row', { name: new RegExp(`^${label}`) })
          .locator('td')
          .allTextContents()
      ).map((x) => x.trim());
    const v = (n: number) => report.versions.find((x: { version: number }) => x.version === n);
    // Earlier tests book and end series on the demo protocol: the figures are read from the API.
    type C = { suppressed?: true; count: number; n: number; share: number };
    const few = 'fewer than 5 patients';
    const count = (c: C) => (c.suppressed ? few : String(c.count));
    const pct = (x: number) => `${Math.round(x * 1000) / 10} %`;
    const share = (c: C) => (c.suppressed ? few : `${pct(c.share)} (${c.count} of ${c.n})`);
    for (const [label, of] of [
      ['Plans started', (n: number) => v(n).plans.started],
      ['Completed', (n: number) => v(n).plans.completed],
      ['Ended early', (n: number) => v(n).plans.endedEarly],
    ] as const)
      expect(await row(label)).toEqual([count(of(1)), count(of(2))]);
    for (const [k, n] of [1, 2].entries()) {
      expect((await row('Craving fell'))[k]).toBe(share(v(n).observations.cravingHalved));
      const noShow = ops.rows.find(
        (r: { protocolId: string; version: number; month: string }) =>
          r.protocolId === id && r.version === n && r.month === 'all',
      ).noShowRate;
      expect((await row('No-show rate'))[k]).toBe(share(noShow));
      expect((await row('Adherence'))[k]).toMatch(/^\d+(\.\d+)? days off target \(mean, \d+ gaps\)$/);
    }
    expect(v(1).plans.started.count).toBeGreaterThanOrEqual(16);
    // One point per figure shown (suppressed ones are gaps), one line per version, in both charts.
    for (const measure of ['craving', 'cows'] as const) {
      const chartEl = page.getByTestId(`chart-${measure}`);
      for (const n of [1, 2]) {
        const shown = v(n).observations.byInfusion.filter(
          (b: Record<string, { suppressed?: boolean }>) => !b[measure].suppressed,
        ).length;
        expect(shown).toBeGreaterThan(3);
        expect(await chartEl.locator(`g[data-version="${n}"] .pt`).count()).toBe(shown);
        expect(await chartEl.locator(`g[data-version="${n}"] polyline`).count()).toBeGreaterThanOrEqual(1);
      }
      const label = await chartEl.locator('svg').getAttribute('aria-label');
      expect(label).toMatch(/version 1: infusion 1 \d/);
    }
    const craving1 = v(1).observations.byInfusion[0].craving;
    expect(await page.getByTestId('chart-craving').locator('g[data-version="1"] .pt title').first().textContent()).toBe(
      `Version 1, infusion 1: ${craving1.median}`,
    );
    await page.getByLabel('Charts show the').selectOption('mean');
    await page
      .getByTestId('chart-craving')
      .locator('g[data-version="1"] .pt title')
      .first()
      .filter({ hasText: `infusion 1: ${craving1.mean}` })
      .waitFor({ state: 'attached' });
    await page.getByLabel('Charts show the').selectOption('median');
    await expectAccessible(page, 'protocol outcomes');
    await page.getByTestId('outcomes').screenshot({ path: path.join(shotDir, 'protocol-outcomes.png') });
    await signOut();
  }, 60_000);

  it('an admin creates a calendar feed and an API key (its secret shown once)', async () => {
    await signIn(keys.CHAIRSIDE_ADMIN_KEY, 'Admin');
    await nav('Calendars & keys');
    await page.getByRole('button', { name: 'Create feed' }).click();
    await page
      .getByTestId('feed-url')
      .filter({ hasText: /\/v1\/calendar\/feeds\/cfd_.+\.ics$/ })
      .first()
      .waitFor();
    await page.getByLabel('Name').fill('Front desk tablet');
    await page.getByRole('button', { name: 'Create key' }).click();
    await page.getByTestId('new-key').filter({ hasText: /^cs_/ }).first().waitFor();
    await expectAccessible(page, 'admin');
    await shot(page, 'admin');
    await signOut();
  }, 60_000);

  it('renders a 40-chair day with 300 sessions in under 300 ms after its data arrives, at 1024×768 too', async () => {
    const zone = 'America/New_York';
    const date = '2026-12-08';
    const chairs = Array.from({ length: 40 }, (_, i) => ({
      id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      clinicId: 'x',
      name: `Chair ${i + 1}`,
      active: true,
    }));
    const sessions = Array.from({ length: 300 }, (_, i) => {
      const start = DateTime.fromISO(`${date}T08:00`, { zone }).plus({ minutes: Math.floor(i / 40) * 75 });
      const chair = chairs[i % 40];
      return {
        id: `10000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
        planId: 'p',
        patientId: 'q',
        ref: `infusion#${i}`,
        stepKey: 'infusion',
        occurrence: 1,
        kind: 'infusion',
        label: 'Ketamine infusion',
        start: start.toISO(),
        end: start.plus({ minutes: 40 }).toISO(),
        occupiedUntil: start.plus({ minutes: 70 }).toISO(),
        localDate: date,
        localTime: start.toFormat('HH:mm'),
        chair: { id: chair.id, name: chair.name },
        staff: { id: 's', name: 'Nurse' },
        dose: { drug: 'ketamine', unit: 'mg/kg', amount: 0.5, totalMg: 35 },
        status: 'scheduled',
        version: 1,
        checkedInAt: null,
        actualStart: null,
        actualEnd: null,
        doseGiven: null,
        statusReason: null,
        patient: { id: 'q', fullName: `Patient ${i}` },
      };
    });
    const big = await context.newPage();
    await big.clock.setFixedTime(new Date(NOW));
    await big.route('**/v1/clinics/*/chairs', (r) => r.fulfill({ json: { items: chairs } }));
    // The day's sessions only on that day: the board goes from an empty day to 300 blocks.
    await big.route('**/v1/sessions?*', (r) =>
      r.fulfill({
        json: {
          timezone: zone,
          items: new URL(r.request().url()).searchParams.get('from') === date ? sessions : [],
          nextCursor: null,
        },
      }),
    );
    await big.goto(base);
    await big.getByLabel('API key').fill(keys.CHAIRSIDE_FRONT_DESK_KEY);
    await big.getByRole('button', { name: 'Sign in' }).click();
    await big.getByTestId('board-date').fill(date);
    await big.locator('.block').nth(299).waitFor();
    const ms = Number(await big.evaluate('document.body.dataset.dayboardRenderMs'));
    expect(await big.locator('.block').count()).toBe(300);
    expect(ms).toBeLessThan(300);
    process.stdout.write(`day board, 40 chairs and 300 sessions: rendered in ${ms} ms after the data arrived\n`);
    await big.setViewportSize({ width: 1024, height: 768 });
    await shot(big, 'day-board-40-chairs-tablet');
    await big.close();
  }, 60_000);
});
