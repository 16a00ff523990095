// The three pages at a phone's size against a real ledger behind the validator's status API and
// the app server's relay (no swarm): nothing
// sticks out sideways, every control has an accessible name, Tab reaches the navigation and
// each page's main control with a visible focus ring, colours keep their contrast in both
// schemes; and the pages never show stale or another address's data as if it were current.
import { test as base, expect, type Page } from '@playwright/test';
import { tickLabels } from '../src/ui/charts/format';
import { injectFakeExtension } from './support/fakeExtension';
import { startLedgerApi, type FixtureWindow, type LedgerApi } from './support/ledgerApi';
import { expectNoHorizontalOverflow } from './support/layout';
import { tinyRun } from '../test/support/tinyRun';

// The development accounts the fake extension offers (//Alice, //Bob), and a refused peer.
const ALICE = '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY';
const BOB = '5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty';
const MALLORY = '5CpQ5tmsY8R1hTTE1Wb5Aq4jvJjzbVZQnXnUS8ns86LnCAVo';

const run = tinyRun({
  runId: 'a11y-e2e',
  seed: 1,
  startTime: Date.now(),
  windowMs: 40_000,
  graceMs: 12_000,
  uploadMarginMs: 1500,
  validatorKeys: ['ab'.repeat(32)],
});

const WINDOWS = [0, 1, 2, 3, 4, 5];
const hash = (w: number): string => (w + 1).toString(16).padStart(2, '0').repeat(32);

/**
 * Six closed windows in a real ledger: bob, then alice (so hers is listed first), each scored,
 * and mallory refused in window 0; alice's next contribution already in. Compression ratios
 * 172.88…172.93: the nearly flat series that once drew three "172.9" ticks.
 */
const windows: FixtureWindow[] = WINDOWS.map((w) => ({
  window: w,
  valLoss: 4 - 0.13 * w,
  nextHash: hash(w),
  denseBytesPerUpdate: 7424 * (172.88 + 0.01 * w),
  entries: [
    ...(w === 0
      ? [
          {
            address: MALLORY,
            code: 'undecodable' as const,
            reason: 'SparseLoCo payload refused (bad-magic): not a SparseLoCo payload',
            payloadBytes: 64,
            tokens: 0,
          },
        ]
      : []),
    { address: BOB, score: 0.02 + 0.001 * w, trainLoss: 3.9 - 0.1 * w, payloadBytes: 7424, tokens: 256 },
    { address: ALICE, score: 0.03 + 0.001 * w, trainLoss: 3.8 - 0.1 * w, payloadBytes: 7424, tokens: 256 },
  ],
}));

/** The ledger and the validator's status API and the app server's relay behind the page's /api/*. */
const test = base.extend<{ api: LedgerApi }>({
  api: [
    async ({ page }, provide) => {
      const api = await startLedgerApi(page, run, windows, [{ address: ALICE, payloadBytes: 7400 }]);
      await provide(api);
      await api.close();
    },
    { auto: true },
  ],
});
test.use({ viewport: { width: 390, height: 844 } });

/** What the pages must show for `address`, from the ledger's own snapshot. */
function standingOf(api: LedgerApi, address: string): { score: string; reward: string; share: string; work: string } {
  const { addresses } = api.ledger.status();
  const me = addresses.find((a) => a.address === address);
  if (!me) throw new Error(`${address} has no standing in the ledger`);
  const total = addresses.reduce((s, a) => s + a.weight, 0);
  return {
    score: `${(100 * me.scoreEma).toFixed(2)}%`,
    reward: me.reward.toExponential(2),
    share: `${((100 * me.weight) / total).toFixed(1)}%`,
    work: `${(me.workEma ?? NaN).toFixed(1)} steps a window`,
  };
}

interface Focused {
  tag: string;
  text: string;
  testId: string | null;
  role: string | null;
  ring: boolean;
}

/** Presses Tab from the top of the page until `done` holds for the focused element (at most `max` times). */
async function tabUntil(page: Page, done: (f: Focused) => boolean, max = 30): Promise<Focused[]> {
  const seen: Focused[] = [];
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const f = await page.evaluate((): Focused => {
      const el = document.activeElement as HTMLElement | null;
      const style = el ? getComputedStyle(el) : null;
      return {
        tag: el?.tagName.toLowerCase() ?? '',
        text: (el?.getAttribute('aria-label') ?? el?.textContent ?? '').trim().slice(0, 60),
        testId: el?.getAttribute('data-testid') ?? null,
        role: el?.getAttribute('role') ?? null,
        ring: !!style && style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2,
      };
    });
    seen.push(f);
    if (done(f)) return seen;
  }
  throw new Error(`Tab never reached the control; focus went through: ${seen.map((f) => f.testId ?? f.text).join(' → ')}`);
}

/** The skip link, then the three navigation links, each with a visible focus ring. */
function expectNavigationReached(seen: Focused[]): void {
  for (const name of ['Skip to content', 'Volunteer', 'Wallet', 'Dashboard']) {
    const f = seen.find((s) => s.tag === 'a' && s.text === name);
    expect(f, `Tab reaches the "${name}" link`).toBeDefined();
    expect(f?.ring, `the "${name}" link shows where focus is`).toBe(true);
  }
}

/** Every visible button, input, select and textarea has an accessible name. */
async function expectNamedControls(page: Page): Promise<void> {
  const controls = await page.locator('button:visible, input:visible, select:visible, textarea:visible').all();
  expect(controls.length).toBeGreaterThan(0);
  for (const c of controls) await expect(c).toHaveAccessibleName(/\S/);
}

test('each page fits a phone, names its controls, and Tab reaches the navigation and the main control', async ({ page }) => {
  await injectFakeExtension(page, { accounts: ['//Alice', '//Bob'] });

  // Volunteer: Join the swarm is the page's main button.
  await page.goto('/');
  await expect(page.getByTestId('swarm-join')).toBeEnabled();
  await expect(page.getByTestId('gpu-report')).toBeVisible();
  await expectNoHorizontalOverflow(page, 'the Volunteer page');
  await expectNamedControls(page);
  let seen = await tabUntil(page, (f) => f.testId === 'swarm-join');
  expectNavigationReached(seen);
  expect(seen.at(-1)?.ring, 'Join shows a focus ring').toBe(true);

  // Wallet, with an account chosen: the certificate, long addresses and the score history.
  await page.goto('/wallet');
  // The page's code loads on demand: tab through it once it is there, not through its placeholder.
  await expect(page.getByTestId('wallet-connect')).toBeVisible();
  seen = await tabUntil(page, (f) => f.testId === 'wallet-connect');
  expectNavigationReached(seen);
  expect(seen.at(-1)?.ring, 'Connect wallet shows a focus ring').toBe(true);
  await page.keyboard.press('Enter');
  await page.getByRole('radio', { name: /Account 1/ }).check();
  await expect(page.getByTestId('wallet-history')).toHaveAttribute('data-windows', '6');
  await expect(page.getByTestId('wallet-standing')).toHaveText(/^reward score /);
  await expectNoHorizontalOverflow(page, 'the Wallet page');
  await expectNamedControls(page);

  // Dashboard: charts and four wide tables, each table in a named, focusable scroll region.
  await page.goto('/dashboard');
  await expect(page.getByTestId('dashboard')).toHaveAttribute('data-state', 'ok');
  await expect(page.getByTestId('dashboard-loss-chart').locator('canvas')).toHaveCount(1);
  await expect(page.locator('[data-testid="dashboard-accepted"] tbody tr')).toHaveCount(12);
  // Charts size themselves to their column after the first frame: wait until every one fits.
  await expect
    .poll(() =>
      page.evaluate(() => [...document.querySelectorAll('canvas')].every((c) => c.getBoundingClientRect().right <= document.documentElement.clientWidth + 0.5)),
    )
    .toBe(true);
  await expectNoHorizontalOverflow(page, 'the Dashboard');
  const regions = page.locator('.table-scroll');
  await expect(regions).toHaveCount(3);
  for (const r of await regions.all()) {
    await expect(r).toHaveAttribute('role', 'region');
    await expect(r).toHaveAttribute('tabindex', '0');
    await expect(r).toHaveAccessibleName(/\S/);
  }
  // The peers table is wider than a phone: its region scrolls, and the keyboard can scroll it.
  seen = await tabUntil(page, (f) => f.role === 'region' && f.text === 'Peers table');
  expectNavigationReached(seen);
  expect(
    seen.filter((f) => f.role === 'region').every((f) => f.ring),
    'scroll regions show a focus ring',
  ).toBe(true);
  const peers = page.getByRole('region', { name: 'Peers table' });
  expect(await peers.evaluate((el) => el.scrollWidth > el.clientWidth)).toBe(true);
  await page.keyboard.press('ArrowRight');
  await expect.poll(() => peers.evaluate((el) => el.scrollLeft)).toBeGreaterThan(0);
});

test('a client-side route change moves focus to the new page and retitles the tab', async ({ page }) => {
  await page.goto('/');
  await expect(page).toHaveTitle('Volunteer · Tessera');
  await page.getByRole('link', { name: 'Dashboard' }).click();
  await expect(page).toHaveTitle('Dashboard · Tessera');
  await expect(page.locator('main#main')).toBeFocused();
  // The next Tab goes into the new page, not back through the header.
  await expect(page.getByTestId('dashboard')).toHaveAttribute('data-state', 'ok');
  await page.keyboard.press('Tab');
  expect(await page.evaluate(() => !!document.activeElement?.closest('main'))).toBe(true);
});

/** WCAG contrast ratio of two CSS colours as getComputedStyle writes them (rgb/rgba). */
function contrastInPage(page: Page, pairs: { fg: string; bg: string }[]): Promise<number[]> {
  return page.evaluate((list) => {
    const lum = (css: string): number => {
      const [r, g, b] = (css.match(/[\d.]+/g) ?? [])
        .slice(0, 3)
        .map((v) => Number(v) / 255)
        .map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
      return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    return list.map(({ fg, bg }) => {
      const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
      return (a + 0.05) / (b + 0.05);
    });
  }, pairs);
}

for (const colorScheme of ['light', 'dark'] as const) {
  test(`${colorScheme} scheme: button text ≥ 4.5:1 and every chart line ≥ 3:1 against its card`, async ({ page }) => {
    await page.emulateMedia({ colorScheme });
    await page.goto('/');
    const join = page.getByTestId('swarm-join');
    await expect(join).toBeEnabled();
    const button = await join.evaluate((el) => ({ fg: getComputedStyle(el).color, bg: getComputedStyle(el).backgroundColor }));
    const [buttonRatio] = await contrastInPage(page, [button]);
    expect(buttonRatio, `Join: ${button.fg} on ${button.bg}`).toBeGreaterThanOrEqual(4.5);

    await page.getByRole('link', { name: 'Dashboard' }).click();
    await expect(page.getByTestId('dashboard-peer-loss-chart')).toHaveAttribute('data-points', '6');
    const lines = await page.locator('.chart .u-legend .u-series .u-marker').evaluateAll((markers) =>
      markers
        .map((m) => ({
          fg: getComputedStyle(m).borderTopColor,
          bg: getComputedStyle(m.closest('.card') as Element).backgroundColor,
          width: getComputedStyle(m).borderTopWidth,
        }))
        .filter((m) => m.width !== '0px'),
    );
    expect(lines.length, JSON.stringify(lines)).toBeGreaterThanOrEqual(9);
    const ratios = await contrastInPage(page, lines);
    ratios.forEach((r, i) => expect(r, `chart line ${lines[i].fg} on ${lines[i].bg}`).toBeGreaterThanOrEqual(3));
  });
}

test('the dashboard lists accepted contributions and scores, labels its axes and legends, and keeps its last snapshot when a poll fails', async ({
  page,
  api,
}) => {
  const { historyAsked } = api;
  const alice = standingOf(api, ALICE);
  await page.clock.install();
  await page.goto('/dashboard');
  await expect(page.getByTestId('dashboard')).toHaveAttribute('data-state', 'ok');

  // Accepted contributions, newest first, with their score; scores and rewards per address.
  const accepted = page.locator('[data-testid="dashboard-accepted"] tbody tr');
  await expect(accepted.first()).toHaveAttribute('data-window', '5');
  await expect(accepted.first().getByTestId('dashboard-accepted-score')).toHaveText('3.50%');
  await expect(accepted).toHaveCount(12);
  const aliceRow = page.locator(`[data-testid="dashboard-peers"] tbody tr[data-address="${ALICE}"]`);
  await expect(aliceRow.getByTestId('dashboard-peer-score')).toHaveText(alice.score);
  await expect(aliceRow.getByTestId('dashboard-peer-reward')).toHaveText(alice.reward);
  await expect(aliceRow.getByTestId('dashboard-peer-weight')).toHaveText(alice.share);
  await expect(aliceRow.getByTestId('dashboard-peer-work')).toHaveText(alice.work);
  // A shortened model hash carries the whole hash.
  await expect(page.getByTestId('dashboard-window-hash').first()).toHaveAttribute('title', hash(5));

  // Legends show each series' latest value (not uPlot's "--"); tick labels are all distinct.
  const traffic = page.getByTestId('dashboard-traffic-chart');
  await expect(traffic.locator('.u-legend .u-value')).toHaveText(['5', '14.85', '172.9']);
  await expect(page.locator('.chart .u-legend .u-value', { hasText: /^--$/ })).toHaveCount(0);
  for (const chart of await page.locator('.chart-plot').all()) {
    const name = await chart.getAttribute('data-testid');
    const ticks = JSON.parse((await chart.getAttribute('data-ticks')) ?? '[]') as string[][];
    expect(ticks.length, `${name} has an x axis and its y axes`).toBeGreaterThanOrEqual(2);
    for (const [axis, labels] of ticks.entries()) {
      // Decimals follow the tick spacing: no label repeats, so none had to be blanked.
      expect(labels.length, `${name} axis ${axis} has ticks`).toBeGreaterThanOrEqual(2);
      expect(
        labels.every((l) => l !== ''),
        `${name} axis ${axis}: ${labels.join(', ')}`,
      ).toBe(true);
      expect(new Set(labels).size, `${name} axis ${axis}: ${labels.join(', ')} are distinct`).toBe(labels.length);
      if (axis === 0)
        expect(
          labels.every((l) => /^\d+$/.test(l)),
          `${name} window ticks ${labels.join(', ')} are whole numbers`,
        ).toBe(true);
    }
  }
  // The nearly flat compression ratio reads as about 173, not as three "172.9" ticks.
  const ratioTicks = (JSON.parse((await traffic.getAttribute('data-ticks')) ?? '[]') as string[][])[2].map(Number);
  expect(Math.max(...ratioTicks) - Math.min(...ratioTicks)).toBeGreaterThanOrEqual(1);

  // The validator's status API goes down: the relay answers 502, and the last snapshot stays,
  // marked stale with the relay's error; no history reload.
  const fullDownloads = historyAsked.filter((a) => a === '-1').length; // 2 in dev: StrictMode mounts twice
  await api.stopValidator();
  await page.clock.fastForward(5_000);
  await expect(page.getByTestId('dashboard-stale')).toContainText('validator unreachable');
  await expect(page.getByTestId('dashboard-stale')).toContainText(/last update \d+ s ago/);
  await expect(page.getByTestId('dashboard')).toHaveAttribute('data-state', 'ok');
  await expect(page.getByTestId('dashboard')).toHaveAttribute('data-stale', 'true');
  await expect(accepted).toHaveCount(12);
  await expect(page.getByTestId('dashboard-loss-chart')).toHaveAttribute('data-points', '6');
  // It comes back: the next good answer clears the note.
  await api.startValidator();
  await page.clock.fastForward(5_000);
  await expect(page.getByTestId('dashboard-stale')).toHaveCount(0);
  await expect(page.getByTestId('dashboard')).toHaveAttribute('data-stale', 'false');
  expect(
    historyAsked.filter((a) => a === '-1'),
    'the chart history is not downloaded again',
  ).toHaveLength(fullDownloads);
  expect(historyAsked.filter((a) => a === '5').length, 'later polls ask only for windows after the last one held').toBeGreaterThan(0);
});

test('tick labels take the decimals their spacing needs, and a repeated label is left blank', () => {
  expect(tickLabels([3.25, 3.5, 3.75, 4], 0.25)).toEqual(['3.25', '3.50', '3.75', '4.00']);
  expect(tickLabels([0, 2, 4], 2)).toEqual(['0', '2', '4']);
  expect(tickLabels([172.88, 172.9, 172.92], 0.02)).toEqual(['172.88', '172.90', '172.92']);
  // Were the increment finer than the labels can show, equal neighbours are blanked, not repeated.
  expect(tickLabels([172.9, 172.9, 173], 1)).toEqual(['173', '', '']);
  expect(tickLabels([120_000, 240_000], 120_000)).toEqual(['120k', '240k']);
});

test("the Wallet page never shows the previous account's record, and keeps its own through a failed poll", async ({ page, api }) => {
  // Bob's record is held back until released: the switch must not show Alice's meanwhile.
  const releaseBob = api.holdAddress(BOB);
  await injectFakeExtension(page, { accounts: ['//Alice', '//Bob'] });
  await page.clock.install();
  await page.setViewportSize({ width: 1280, height: 800 }); // a wide chart: room for ticks between windows
  await page.goto('/wallet');
  await page.getByTestId('wallet-connect').click();
  const record = page.getByTestId('wallet-history');
  await page.getByRole('radio', { name: /Account 1/ }).check();
  await expect(record).toHaveAttribute('data-windows', '6');
  await expect(record.getByTestId('wallet-history-table').locator('tbody tr').first()).toContainText('3.50%');
  // Windows are whole numbers: no "0.5" ticks however wide the chart.
  const xTicks = (JSON.parse((await page.getByTestId('wallet-history-chart').getAttribute('data-ticks')) ?? '[]') as string[][])[0];
  expect(xTicks, 'window ticks').toEqual(['0', '1', '2', '3', '4', '5']);
  await expect(page.getByTestId('wallet-standing')).toContainText(`${standingOf(api, ALICE).share} of the weights`);

  // Bob's record has not arrived: nothing of Alice's may be shown as his.
  await page.getByRole('radio', { name: /Account 2/ }).check();
  await expect(record).toHaveAttribute('data-address', BOB);
  await expect(record).toHaveAttribute('data-loaded', 'false');
  await expect(record.getByTestId('wallet-history-table').locator('tbody tr')).toHaveCount(0);
  await expect(record).toContainText('Loading this address’s record');
  releaseBob();
  await expect(record).toHaveAttribute('data-windows', '6');
  await expect(record.getByTestId('wallet-history-table').locator('tbody tr').first()).toContainText('2.50%');
  await expect(page.getByTestId('wallet-standing')).toContainText(`${standingOf(api, BOB).share} of the weights`);

  // The validator's status API goes down: Bob's record stays on screen with the relay's error.
  await api.stopValidator();
  await page.clock.fastForward(10_000);
  await expect(page.getByTestId('wallet-history-error')).toContainText('validator unreachable');
  await expect(record).toHaveAttribute('data-windows', '6');
  await expect(record.getByTestId('wallet-history-table').locator('tbody tr').first()).toContainText('2.50%');
});
