// A tab that joins a running swarm (inside the private namespace; e2e/support/demoSwarm.ts):
// the Volunteer page downloads θ from its neighbours with a progress bar, verifies it against
// the manifest's hash, and then contributes windows the validator accepts.
import { expect, test } from '@playwright/test';
import { assertPrivateNetwork } from '../test/support/privateNetwork';
import { Harness, until } from '../test/support/swarmHarness';
import { startDemoSwarm } from './support/demoSwarm';

test.setTimeout(180_000);

test('a tab joining late syncs the model with a progress bar, then contributes', async ({ page }) => {
  assertPrivateNetwork();
  const h = new Harness();
  try {
    const swarm = await startDemoSwarm(h, { windowMs: 10_000 });
    await until(() => swarm.validator.currentWindow >= 2, 90_000);
    await swarm.route(page);
    await page.goto('/');
    // Every state of the download bar, however briefly it shows.
    await page.evaluate(() => {
      const seen: [number, number, string][] = [];
      (window as unknown as { __sync: [number, number, string][] }).__sync = seen;
      new MutationObserver(() => {
        const bar = document.querySelector<HTMLProgressElement>('[data-testid="sync-progress"]');
        if (bar) seen.push([bar.value, bar.max, bar.dataset.verified ?? '']);
      }).observe(document.body, { subtree: true, childList: true, attributes: true });
    });
    const joinedAt = swarm.validator.currentWindow;
    await page.getByTestId('swarm-join').click();
    await expect(page.getByTestId('swarm-panel')).toHaveAttribute('data-status', 'joined', { timeout: 30_000 });
    const included = page.locator('[data-testid="swarm-history"] tbody tr[data-included="true"]');
    await expect.poll(() => included.count(), { timeout: 90_000, intervals: [2000] }).toBeGreaterThanOrEqual(1);

    const sync = await page.evaluate(() => (window as unknown as { __sync: [number, number, string][] }).__sync);
    expect(sync.length, 'the download bar never showed').toBeGreaterThan(0);
    const total = sync[0][1];
    expect(total).toBeGreaterThan(1); // θ came in several chunks
    expect(sync.every(([, max]) => max === total)).toBe(true);
    // The bar stays, full and marked verified, once θ matched the manifest and training began.
    expect(
      sync.some(([value, , verified]) => value === total && verified === 'true'),
      JSON.stringify(sync),
    ).toBe(true);
    // Every window the tab reports ends on the validator's hash: the synced θ was right.
    const rows = await page
      .locator('[data-testid="swarm-history"] tbody tr')
      .evaluateAll((trs) => trs.map((r) => ({ window: Number(r.getAttribute('data-window')), hash: r.getAttribute('data-hash') ?? '' })));
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) {
      expect(r.window).toBeGreaterThanOrEqual(joinedAt);
      expect(r.hash, `window ${r.window}`).toBe(swarm.hashes.get(r.window));
    }
  } finally {
    await h.cleanup();
  }
});
