// `npm run screenshots`: the three pages on a live local swarm (e2e/support/demoSwarm.ts), at
// desktop and phone sizes, written to docs/screenshots/ for the README. Not part of `npm test`.
import { mkdirSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { assertPrivateNetwork } from '../test/support/privateNetwork';
import { Harness, until } from '../test/support/swarmHarness';
import { startDemoSwarm } from './support/demoSwarm';
import { injectFakeExtension, signCertificateOnWalletPage } from './support/fakeExtension';
import { expectNoHorizontalOverflow } from './support/layout';

const OUT = 'docs/screenshots';
const SIZES = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } } as const;

test.setTimeout(300_000);

async function shoot(page: Page, name: string): Promise<void> {
  for (const [size, viewport] of Object.entries(SIZES)) {
    await page.setViewportSize(viewport);
    // Nothing may stick out sideways on a phone: the page must not scroll horizontally (charts
    // resize on the window's resize event, so the layout is given until it settles).
    await expect(() => expectNoHorizontalOverflow(page, `${name} at ${size}`)).toPass({ timeout: 5000 });
    await page.screenshot({ path: `${OUT}/${name}-${size}.png`, fullPage: true });
  }
}

test('screenshots of the Dashboard, Volunteer and Wallet pages', async ({ page }) => {
  assertPrivateNetwork();
  mkdirSync(OUT, { recursive: true });
  const h = new Harness();
  try {
    const swarm = await startDemoSwarm(h, { windowMs: 12_000, startInMs: 15_000, scored: true });
    await injectFakeExtension(page, { accounts: ['//Alice'] });
    await swarm.route(page);
    // A volunteer with a wallet: certificate signed on the Wallet page, then joined.
    await signCertificateOnWalletPage(page);
    await page.getByRole('link', { name: 'Volunteer' }).click();
    await page.getByTestId('swarm-join').click();
    await expect(page.getByTestId('swarm-panel')).toHaveAttribute('data-status', 'joined', { timeout: 30_000 });
    await until(() => swarm.validator.currentWindow >= 5, 150_000);
    await expect.poll(() => page.locator('[data-testid="swarm-history"] tbody tr').count(), { timeout: 60_000 }).toBeGreaterThanOrEqual(2);
    await shoot(page, 'volunteer');

    await page.getByRole('link', { name: 'Wallet' }).click();
    // Real data, not placeholders ("0 signed, 0 accepted", "…"): contributions this tab signed,
    // the validator's standing for the account and at least one point of its score history.
    await expect(page.getByTestId('wallet-counts')).toHaveText(/^[1-9]\d* signed, \d+ accepted$/, { timeout: 30_000 });
    await expect(page.getByTestId('wallet-standing')).toHaveText(/^reward score /, { timeout: 30_000 });
    await expect
      .poll(async () => Number(await page.getByTestId('wallet-history-chart').getAttribute('data-points')), { timeout: 30_000 })
      .toBeGreaterThanOrEqual(1);
    await shoot(page, 'wallet');

    await page.getByRole('link', { name: 'Dashboard' }).click();
    await expect
      .poll(async () => Number(await page.getByTestId('dashboard-loss-chart').getAttribute('data-points')), { timeout: 30_000 })
      .toBeGreaterThanOrEqual(4);
    await expect(page.locator('[data-testid="dashboard-rejections"] li')).not.toHaveCount(0);
    await shoot(page, 'dashboard');
  } finally {
    await h.cleanup();
  }
});
