// A laptop's day on a real swarm: a tab stopped for three windows (what a sleep does to a page)
// says so when it wakes, fetches the swarm's model again and contributes again. (A GPU process
// that crashes under a joined tab is e2e/volunteer.spec.ts's, beside a worker that dies.)
import { expect, test, type Page } from '@playwright/test';
import { assertPrivateNetwork } from '../test/support/privateNetwork';
import { Harness } from '../test/support/swarmHarness';
import { startDemoSwarm } from './support/demoSwarm';

const WINDOW_MS = 8000;

async function joinAndTrain(page: Page): Promise<void> {
  await page.goto('/');
  await page.getByTestId('swarm-join').click();
  const panel = page.getByTestId('swarm-panel');
  await expect(panel).toHaveAttribute('data-status', 'joined', { timeout: 60_000 });
  await expect(panel).toHaveAttribute('data-phase', 'training', { timeout: 90_000 });
}

/** The newest window the tab reported whose contribution the manifest included. */
const newestIncluded = (page: Page): Promise<number> =>
  page.evaluate(() =>
    Math.max(
      -1,
      ...[...document.querySelectorAll('[data-testid="swarm-history"] tbody tr[data-included="true"]')].map((tr) => Number(tr.getAttribute('data-window'))),
    ),
  );

test('a tab frozen for three windows says so when it wakes, fetches the swarm’s model and contributes again', async ({ page }) => {
  test.setTimeout(200_000);
  assertPrivateNetwork();
  const h = new Harness();
  try {
    const swarm = await startDemoSwarm(h, { windowMs: WINDOW_MS, startInMs: 6000 });
    await swarm.route(page);
    await joinAndTrain(page);
    // The page's thread stops as a sleeping machine's does: the debugger holds it at its next
    // statement, so no timer, message or network event reaches the page until it resumes.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Debugger.enable');
    await cdp.send('Debugger.pause');
    await new Promise((resolve) => setTimeout(resolve, 3.5 * WINDOW_MS));
    await cdp.send('Debugger.resume');
    await cdp.send('Debugger.disable');
    const thawWindow = Math.floor((Date.now() - swarm.run.startTime) / WINDOW_MS);

    const recovery = page.getByTestId('swarm-recovery');
    await expect(recovery).toHaveAttribute('data-action', 'resyncing', { timeout: 30_000 });
    // It says why (it stood still), for how long, and what it noticed because of it.
    await expect(recovery).toContainText(/this tab stood still for (2[6-9]|3\d) s \(the device slept, or the browser froze the tab\): window \d+/);
    await expect(recovery).toHaveAttribute('data-done', 'true', { timeout: 60_000 });
    // In step again: a window after the thaw that the swarm's manifest included, and this tab's
    // model the one the validator published for it.
    await expect.poll(() => newestIncluded(page), { timeout: 60_000 }).toBeGreaterThan(thawWindow);
    const w = await newestIncluded(page);
    const hash = await page.locator(`[data-testid="swarm-history"] tbody tr[data-window="${w}"]`).getAttribute('data-hash');
    expect(hash).toBe(swarm.hashes.get(w));
  } finally {
    await h.cleanup();
  }
});
