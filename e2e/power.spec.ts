// The power setting in Chromium: Light, Medium and Full and the pauses are remembered across a
// reload; an injected battery that discharges pauses the tab's training and charging resumes
// it; a hidden tab and a device in use (an injected Idle Detection API) pause when asked; and on a real swarm Light trains fewer steps than Full,
// and what this browser has done is kept across a reload.
import { expect, test, type Page } from '@playwright/test';
import { assertPrivateNetwork } from '../test/support/privateNetwork';
import { Harness } from '../test/support/swarmHarness';
import { tinyRun } from '../test/support/tinyRun';
import { startDemoSwarm } from './support/demoSwarm';

/** A battery this test controls (charging at first) and a visibility it can flip, before the app loads. */
async function injectBatteryAndVisibility(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const battery = Object.assign(new EventTarget(), { charging: true });
    const w = window as unknown as { __battery: typeof battery; __hidden: boolean };
    w.__battery = battery;
    w.__hidden = false;
    Object.defineProperty(navigator, 'getBattery', { value: () => Promise.resolve(battery) });
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (w.__hidden ? 'hidden' : 'visible') });
  });
}

/** An Idle Detection API this test drives: the permission prompt counts its calls, the detector starts "in use". */
async function injectIdleDetector(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const w = window as unknown as { __idle?: EventTarget; __idlePrompts: number };
    w.__idlePrompts = 0;
    class ScriptedIdleDetector extends EventTarget {
      userState = 'active';
      screenState = 'unlocked';
      static requestPermission(): Promise<string> {
        w.__idlePrompts++;
        return Promise.resolve('granted');
      }
      start(): Promise<void> {
        w.__idle = this;
        return Promise.resolve();
      }
    }
    Object.defineProperty(window, 'IdleDetector', { value: ScriptedIdleDetector });
  });
}

const setUserState = (page: Page, state: 'active' | 'idle'): Promise<void> =>
  page.evaluate((s) => {
    const d = (window as unknown as { __idle: EventTarget & { userState: string } }).__idle;
    d.userState = s;
    d.dispatchEvent(new Event('change'));
  }, state);

const setCharging = (page: Page, charging: boolean): Promise<void> =>
  page.evaluate((c) => {
    const b = (window as unknown as { __battery: EventTarget & { charging: boolean } }).__battery;
    b.charging = c;
    b.dispatchEvent(new Event('chargingchange'));
  }, charging);

const setHidden = (page: Page, hidden: boolean): Promise<void> =>
  page.evaluate((h) => {
    (window as unknown as { __hidden: boolean }).__hidden = h;
    document.dispatchEvent(new Event('visibilitychange'));
  }, hidden);

test('the power setting is remembered, and battery, a hidden tab and a device in use pause it when asked', async ({ page }) => {
  await injectBatteryAndVisibility(page);
  await injectIdleDetector(page);
  // A published run (not joined here): the swarm panel and its power setting show.
  await page.route('**/api/run', (route) =>
    route.fulfill({
      json: {
        run: tinyRun({
          runId: 'power-run',
          seed: 1,
          startTime: Date.now() + 3_600_000,
          windowMs: 8000,
          graceMs: 2000,
          uploadMarginMs: 1000,
          validatorKeys: ['ab'.repeat(32)],
        }),
      },
    }),
  );
  await page.goto('/');
  const power = page.getByTestId('power');
  await expect(power).toHaveAttribute('data-level', 'full');
  await expect(power).toHaveAttribute('data-paused', 'false');
  // The first visit says what joining uses, once.
  const firstVisit = page.getByTestId('first-visit');
  await expect(firstVisit).toContainText(/GPU for 100% of each 8-second window/);
  await expect(firstVisit).toContainText(/at most \d+ kB sent for its update, .* downloads the current model \(\d+ kB\)/);
  await page.getByTestId('first-visit-ok').click();
  await expect(firstVisit).toHaveCount(0);
  await setCharging(page, false);
  await expect(power).toHaveAttribute('data-paused', 'true'); // "pause while on battery" is on by default
  await expect(page.getByTestId('power-status')).toContainText('on battery');
  await setCharging(page, true);
  await expect(power).toHaveAttribute('data-paused', 'false');
  await setHidden(page, true);
  await expect(power).toHaveAttribute('data-paused', 'false'); // not asked to pause while hidden
  await page.getByTestId('power-hidden').check();
  await expect(power).toHaveAttribute('data-paused', 'true');
  await expect(page.getByTestId('power-status')).toContainText('this tab is hidden');
  await setHidden(page, false);
  // Only when idle: the click asks for the permission; the device in use rests, idle trains.
  const idleState = page.getByTestId('power-idle-state');
  await page.getByTestId('power-idle').check();
  await expect(idleState).toHaveAttribute('data-state', 'active');
  await expect(power).toHaveAttribute('data-paused', 'true');
  await expect(page.getByTestId('power-status')).toContainText('this device is in use');
  await setUserState(page, 'idle');
  await expect(idleState).toHaveAttribute('data-state', 'idle');
  await expect(power).toHaveAttribute('data-paused', 'false');
  expect(await page.evaluate(() => (window as unknown as { __idlePrompts: number }).__idlePrompts)).toBe(1);
  await page.getByTestId('power-light').check();
  await page.getByTestId('power-battery').uncheck();
  await page.reload();
  await expect(power).toHaveAttribute('data-level', 'light');
  await expect(firstVisit).toHaveCount(0);
  await expect(page.getByTestId('power-hidden')).toBeChecked();
  await expect(page.getByTestId('power-battery')).not.toBeChecked();
  await expect(page.getByTestId('power-idle')).toBeChecked();
  await expect(idleState).toHaveAttribute('data-state', 'active'); // the detector restarts with the page
  await setUserState(page, 'idle');
  await setCharging(page, false);
  await expect(power).toHaveAttribute('data-paused', 'false'); // on battery, but no longer asked to pause for it
});

/** Steps the tab trained in window `w` (its history row), once the row is there. */
async function stepsIn(page: Page, w: number): Promise<number> {
  const row = page.locator(`[data-testid="swarm-history"] tbody tr[data-window="${w}"]`);
  await expect(row).toBeAttached({ timeout: 60_000 });
  return Number(await row.locator('td').nth(1).textContent());
}

/** The window the tab is in now, from the panel. */
const windowNow = async (page: Page): Promise<number> => Number(await page.getByTestId('swarm-panel').getAttribute('data-window'));

test('on a real swarm, Light trains fewer steps a window than Full, and a discharging battery stops training until it charges', async ({ page }) => {
  test.setTimeout(240_000);
  assertPrivateNetwork();
  const h = new Harness();
  try {
    const swarm = await startDemoSwarm(h, { startInMs: 6000 });
    await swarm.route(page);
    await injectBatteryAndVisibility(page);
    await page.goto('/');
    await page.getByTestId('power-awake').check();
    await expect(page.getByTestId('power-wake-lock')).toHaveAttribute('data-state', 'off');
    await page.getByTestId('swarm-join').click();
    const panel = page.getByTestId('swarm-panel');
    await expect(panel).toHaveAttribute('data-status', 'joined', { timeout: 60_000 });
    // Joined, with "keep the screen on": Chromium grants the real Screen Wake Lock.
    await expect(page.getByTestId('power-wake-lock')).toHaveAttribute('data-state', 'held');
    await expect(panel).toHaveAttribute('data-phase', 'training', { timeout: 90_000 });
    // A whole window at Full (the one after the current, so none of it ran before the setting).
    const fullWindow = (await windowNow(page)) + 1;
    const full = await stepsIn(page, fullWindow);
    await page.getByTestId('power-light').check();
    const lightWindow = (await windowNow(page)) + 1;
    const light = await stepsIn(page, lightWindow);
    expect(full, `window ${fullWindow} at Full`).toBeGreaterThanOrEqual(4);
    expect(light, `window ${lightWindow} at Light, ${full} steps at Full`).toBeLessThanOrEqual(full / 2);
    // On battery: the next whole window trains nothing; charging again, training resumes.
    await page.getByTestId('power-full').check();
    await setCharging(page, false);
    const pausedWindow = (await windowNow(page)) + 1;
    expect(await stepsIn(page, pausedWindow), `window ${pausedWindow} on battery`).toBe(0);
    await setCharging(page, true);
    const resumedWindow = (await windowNow(page)) + 1;
    expect(await stepsIn(page, resumedWindow), `window ${resumedWindow} charging`).toBeGreaterThan(0);

    // What this browser has done survives a reload, as do the settings; the swarm's loss is charted.
    const record = page.getByTestId('browser-record');
    const windows = Number(await record.getAttribute('data-windows'));
    const tokens = Number(await record.getAttribute('data-tokens'));
    expect(windows).toBeGreaterThanOrEqual(3); // Full, Light and the resumed window contributed; the paused one did not
    expect(tokens).toBeGreaterThan(0);
    await page.reload();
    await expect(record).toHaveAttribute('data-windows', String(windows));
    await expect(record).toHaveAttribute('data-tokens', String(tokens));
    await expect(page.getByTestId('power')).toHaveAttribute('data-level', 'full');
    await expect
      .poll(async () => Number(await page.getByTestId('volunteer-loss-chart').getAttribute('data-points')), { timeout: 30_000 })
      .toBeGreaterThanOrEqual(2);
  } finally {
    await h.cleanup();
  }
});
