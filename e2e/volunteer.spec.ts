// The Volunteer page's WebGPU capability report in real Chromium, client-side routes, the
// per-page code chunks (a dashboard viewer downloads no training code), and Join against a
// real swarm: the phase bar, the ledger's verdicts, a worker that dies, a page left mid-start.
import { expect, test, type Worker as PlaywrightWorker } from '@playwright/test';
import type { Mesh } from '../src/p2p/mesh';
import { phaseSpan } from '../src/ui/phaseSpan';
import type { Ledger } from '../src/validator/ledger';
import { ADDRESS_PATTERN } from '../src/validator/status';
import { assertPrivateNetwork } from '../test/support/privateNetwork';
import { Harness, until } from '../test/support/swarmHarness';
import { startDemoSwarm } from './support/demoSwarm';
import { tinyRun } from '../test/support/tinyRun';

test('the capability report names the SwiftShader adapter and the training limits', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByRole('heading', { level: 1 })).toContainText('Help train');
  const report = page.getByTestId('gpu-report');
  await expect(report).toBeVisible();
  await expect(page.getByTestId('adapter-architecture')).toHaveText(/swiftshader/i);
  await expect(page.getByTestId('limit-maxStorageBufferBindingSize')).toContainText('1 GiB');
  await expect(page.getByTestId('limit-maxComputeWorkgroupStorageSize')).toContainText('32 KiB');
  await expect(page.getByTestId('limit-maxStorageBuffersPerShaderStage')).toContainText('✓');
  await expect(page.getByTestId('feature-subgroups')).toHaveAttribute('data-present', 'true');
  await expect(page.getByTestId('feature-shader-f16')).toHaveAttribute('data-present', 'false');
  await expect(page.getByTestId('feature-timestamp-query')).toBeVisible();
});

test('routes: Wallet and Dashboard navigate client-side and deep links load', async ({ page }) => {
  await page.goto('/');
  await page.getByRole('link', { name: 'Dashboard' }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Dashboard');
  await expect(page.getByRole('link', { name: 'Dashboard' })).toHaveAttribute('aria-current', 'page');
  await page.getByRole('link', { name: 'Wallet' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Wallet');
  await page.goBack();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Dashboard');
  await page.goto('/wallet');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Wallet');
  await page.goto('/no-such-page');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Page not found');
});

test('a dashboard viewer downloads no WebGPU, WebRTC, swarm or wallet code', async ({ page }) => {
  const loaded: string[] = [];
  page.on('request', (r) => loaded.push(new URL(r.url()).pathname));
  await page.goto('/dashboard');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Dashboard');
  await expect(page.getByTestId('page-loading')).toHaveCount(0);
  expect(loaded.some((p) => p.includes('/src/ui/pages/DashboardPage'))).toBe(true);
  const heavy = loaded.filter((p) => /\/src\/(gpu|p2p|swarm|wallet|compress)\/|polkadot|simple-peer|VolunteerPage|WalletPage/.test(p));
  expect(heavy).toEqual([]);
  // The Volunteer page's code arrives only when the visitor goes there, and the swarm's,
  // the wallet's and the tab validator's only when they press Join or Start.
  await page.getByRole('link', { name: 'Volunteer' }).click();
  await expect(page.getByTestId('gpu-report')).toBeVisible();
  expect(loaded.some((p) => p.includes('/src/ui/pages/VolunteerPage'))).toBe(true);
  expect(loaded.filter((p) => /\/src\/(p2p|swarm\/swarmPeer|wallet|validator\/gpuLossProbe)|polkadot|simple-peer|joinSwarm|startValidator/.test(p))).toEqual(
    [],
  );
});

test('a page whose code cannot be downloaded says so instead of going blank', async ({ page }) => {
  await page.route('**/src/ui/pages/WalletPage.tsx*', (route) => route.abort('internetdisconnected'));
  await page.goto('/');
  await expect(page.getByTestId('gpu-report')).toBeVisible();
  await page.getByRole('link', { name: 'Wallet' }).click();
  await expect(page.getByTestId('page-error')).toContainText('This page could not be loaded');
  // The shell still works: another page opens.
  await page.getByRole('link', { name: 'Dashboard' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Dashboard');
});

// --- Joining a real swarm (e2e/support/demoSwarm.ts) with the page's own joinSwarm, worker,
// mesh and signaling; faults come on cue from the test: a worker that dies, a slow start ---

const run = tinyRun({
  runId: 'volunteer-e2e',
  seed: 1,
  startTime: Date.now(),
  windowMs: 40_000,
  graceMs: 12_000,
  uploadMarginMs: 1500,
  validatorKeys: ['ab'.repeat(32)],
});

/** What the page must say of window `w`: "accepted", "none (too late)", or the validator's ledger's refusal codes in words. */
function verdictFromLedger(ledger: Ledger, address: string, row: { window: number; included: boolean; contributed: boolean }): string {
  if (row.included) return 'accepted';
  if (!row.contributed) return 'none (too late)';
  const codes = (ledger.addressHistory(address).windows.find((x) => x.window === row.window)?.codes ?? []).filter((c) => !c.startsWith('accepted'));
  return codes.length ? `not accepted: ${codes.map((c) => c.replaceAll('-', ' ')).join(', ')}` : 'not accepted';
}

const tabLinked = (mesh: Mesh): boolean => mesh.neighbours().some((id) => id.startsWith('tab-'));

test('a joined peer tracks the window clock, shows the ledger verdicts, and when its worker dies or the GPU process crashes it rejoins by itself', async ({
  page,
}) => {
  test.setTimeout(180_000);
  assertPrivateNetwork();
  const h = new Harness();
  try {
    const swarm = await startDemoSwarm(h, { scored: true, startInMs: 6000 });
    await swarm.route(page);
    const workers: PlaywrightWorker[] = [];
    page.on('worker', (w) => w.url().includes('swarmWorker') && workers.push(w)); // the swarm's, not the solo trainer's
    await page.goto('/');
    const panel = page.getByTestId('swarm-panel');
    await page.getByTestId('swarm-join').click();
    await expect(panel).toHaveAttribute('data-status', 'joined', { timeout: 60_000 });
    const address = (await page.getByTestId('swarm-identity').locator('code').textContent()) ?? '';
    expect(address).toMatch(ADDRESS_PATTERN);
    await until(() => tabLinked(swarm.mesh), 60_000);

    // While training, the bar is the share of the window's training time gone by the real
    // clock (the page ticks each second, hence the slack of a quarter of a 7 s span).
    const { run: r } = swarm;
    await expect
      .poll(
        async () => {
          const phase = page.getByTestId('swarm-phase');
          if ((await phase.getAttribute('data-phase')) !== 'training') return 'not training';
          const w = Number(/Window (\d+)/.exec((await phase.textContent()) ?? '')?.[1]);
          const shown = Number(await page.getByTestId('swarm-progress').getAttribute('data-fraction'));
          const expected = (Date.now() - (r.startTime + w * r.windowMs)) / (r.windowMs - r.uploadMarginMs);
          return Math.abs(shown - expected) <= 0.25 ? 'on time' : `shown ${shown}, expected ${expected.toFixed(3)}`;
        },
        { timeout: 60_000, intervals: [500] },
      )
      .toBe('on time');

    // The tab's first window says what the validator's ledger decided of it (a closed window's
    // record is final; the page reads it within its 10 s poll, while newer rows keep coming).
    const first = page.locator('[data-testid="swarm-history"] tbody tr').last();
    await expect(first).toBeAttached({ timeout: 60_000 });
    const row = await first.evaluate((tr) => ({
      window: Number(tr.getAttribute('data-window')),
      included: tr.getAttribute('data-included') === 'true',
      contributed: tr.getAttribute('data-contributed') === 'true',
    }));
    expect(swarm.ledger.isClosed(row.window)).toBe(true);
    await expect(page.locator(`[data-testid="swarm-history"] tbody tr[data-window="${row.window}"] [data-testid="swarm-verdict"]`)).toHaveText(
      verdictFromLedger(swarm.ledger, address, row),
      { timeout: 30_000 },
    );

    // The worker dies (an uncaught error in it): the peer stops, says why, lets go of its worker,
    // and rejoins by itself with a fresh worker that links up with the swarm again.
    expect(workers).toHaveLength(1);
    const firstGone = workers[0].waitForEvent('close');
    await workers[0].evaluate(() => {
      setTimeout(() => {
        throw new Error('an uncaught error in the worker (test)');
      });
    });
    const recovery = page.getByTestId('swarm-recovery');
    await expect(recovery).toContainText('an uncaught error in the worker (test)', { timeout: 30_000 });
    await expect(recovery).toHaveAttribute('data-action', 'rejoining');
    await firstGone;
    await expect(panel).toHaveAttribute('data-status', 'joined', { timeout: 60_000 });
    await expect(recovery).toHaveAttribute('data-done', 'true');
    await expect(recovery).toContainText('rejoined the swarm by itself');
    expect(workers).toHaveLength(2);
    await until(() => tabLinked(swarm.mesh), 60_000);
    await expect(page.getByTestId('swarm-phase')).toHaveAttribute('data-phase', 'training', { timeout: 60_000 });

    // The GPU process crashes (what a driver reset does): every device of the browser is lost.
    // The worker says so, and the tab rejoins by itself with a fresh worker and device, and
    // contributes again to the model every replica holds.
    const browser = page.context().browser();
    if (!browser) throw new Error('no browser to crash the GPU process of');
    await (await browser.newBrowserCDPSession()).send('Browser.crashGpuProcess');
    const crashWindow = Math.floor((Date.now() - swarm.run.startTime) / swarm.run.windowMs);
    await expect(recovery).toContainText('the GPU device was lost', { timeout: 30_000 });
    await expect(recovery).toHaveAttribute('data-action', 'rejoining');
    await expect(panel).toHaveAttribute('data-status', 'joined', { timeout: 90_000 });
    await expect(recovery).toContainText('rejoined the swarm by itself');
    expect(workers.length).toBeGreaterThanOrEqual(3); // one more if a first try came while the GPU process restarted
    const included = page.locator('[data-testid="swarm-history"] tbody tr[data-included="true"]').first();
    await expect.poll(async () => Number(await included.getAttribute('data-window')), { timeout: 90_000 }).toBeGreaterThan(crashWindow + 1);
    const w = Number(await included.getAttribute('data-window'));
    expect(await included.getAttribute('data-hash')).toBe(swarm.hashes.get(w));

    // Once the fresh peer is in step (training), the validator leaves: the tab keeps waiting
    // for the manifest and says it is late, and why.
    await expect(page.getByTestId('swarm-phase')).toHaveAttribute('data-phase', 'training', { timeout: 60_000 });
    swarm.validator.stop();
    await expect(page.getByTestId('swarm-phase')).toContainText(/manifest \d+ s late: the validator may be offline/, { timeout: 45_000 });
    await expect(panel).toHaveAttribute('data-status', 'joined');
    const lastGone = workers[workers.length - 1].waitForEvent('close');
    await page.getByTestId('swarm-leave').click();
    await lastGone;
    await until(() => !tabLinked(swarm.mesh), 30_000);
  } finally {
    await h.cleanup();
  }
});

test('a peer still starting when the visitor leaves the page is stopped, not left running', async ({ page }) => {
  assertPrivateNetwork();
  const h = new Harness();
  try {
    const signal = await h.signalingUrl();
    await page.route('**/api/run', (route) => route.fulfill({ json: { run: { ...run, startTime: Date.now() }, signal } }));
    // The worker's corpus download is held until the visitor has left: the peer is mid-start.
    let release = (): void => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let corpusAsked = false;
    await page.context().route('**/data/**', async (route) => {
      corpusAsked = true;
      await held;
      await route.continue();
    });
    const worker = page.waitForEvent('worker', { predicate: (w) => w.url().includes('swarmWorker') });
    await page.goto('/');
    await page.getByTestId('swarm-join').click();
    await expect(page.getByTestId('swarm-join')).toHaveText('Joining…');
    const gone = (await worker).waitForEvent('close', { timeout: 30_000 });
    await expect.poll(() => corpusAsked).toBe(true);
    await page.getByRole('link', { name: 'Wallet' }).click();
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Wallet');
    release();
    // The start finished behind a page that was gone, and stop() ended its worker.
    await gone;
  } finally {
    await h.cleanup();
  }
});

test('the phase bar spans the training deadline, then the manifest due time; syncing has no bar', () => {
  const w = 3;
  const start = run.startTime + w * run.windowMs;
  expect(phaseSpan(run, 'training', w)).toEqual({ from: start, until: start + run.windowMs - run.uploadMarginMs });
  for (const phase of ['uploading', 'waiting'] as const) {
    expect(phaseSpan(run, phase, w)).toEqual({ from: start + run.windowMs - run.uploadMarginMs, until: start + run.windowMs + run.graceMs });
  }
  expect(phaseSpan(run, 'syncing', w)).toBeUndefined();
  expect(phaseSpan(run, 'stopped', w)).toBeUndefined();
});
