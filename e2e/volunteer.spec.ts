// The Volunteer page's WebGPU capability report in real Chromium, client-side routes, the
// per-page code chunks (a dashboard viewer downloads no training code), and what Join does
// when the peer fails or the page goes away while it starts.
import { expect, test, type Page } from '@playwright/test';
import type { RunConfig } from '../src/swarm/runConfig';
import { phaseSpan } from '../src/ui/phaseSpan';

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
  expect(loaded.filter((p) => /\/src\/(p2p|swarm\/swarmPeer|wallet|validator\/gpuLossProbe)|polkadot|simple-peer|joinSwarm|startValidator/.test(p))).toEqual([]);
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

// --- Joining, with the swarm's code replaced by a stand-in (no signaling, WebRTC or GPU) ---

const run: RunConfig = {
  runId: 'volunteer-e2e', preset: 'tiny', seed: 1, startTime: Date.now(), windowMs: 40_000, graceMs: 12_000, uploadMarginMs: 1500, minSteps: 2,
  batchSize: 2, seqLen: 32, outerLr: 1, innerSchedule: { maxLr: 3e-3, minLr: 3e-4, warmupSteps: 5, decaySteps: 300 }, validatorKeys: ['ab'.repeat(32)],
};

/**
 * joinSwarm.ts as the page downloads it on Join, replaced by a module whose startPeer counts
 * starts and stops; its run rejects when the test calls __failJoin, and in 'slow' mode it
 * finishes starting only when the test calls __releaseJoin.
 */
const ALICE = '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY';

const FAKE_JOIN = `
const log = (window.__join ??= { starts: 0, stops: 0 });
export async function startPeer(run, signal, setView) {
  log.starts++;
  if (window.__joinMode === 'slow') await new Promise((resolve) => (window.__releaseJoin = resolve));
  const now = Date.now();
  const report = (window, included) => ({ window, steps: 40, tokens: 2560, trainLoss: 3.1, contributed: true, accepted: 2, included, hash: String(window).repeat(64).slice(0, 64), computeMs: 1, waitMs: 1, commMs: 1, bytesUp: 1024, bytesDown: 2048 });
  setView((v) => ({ ...v, status: 'joined', name: 'tab-fake', address: '${ALICE}', phase: 'waiting', window: 3, phaseSpan: { from: now - 3000, until: now + 9000 }, history: [report(2, false), report(1, true)] }));
  let stopped = false;
  let end;
  const running = new Promise((resolve, reject) => {
    end = resolve;
    window.__failJoin = () => reject(new Error('the GPU device was lost (test)'));
  });
  return { stop: () => { if (!stopped) { stopped = true; log.stops++; end(); } }, running };
}`;

async function openWithFakeJoin(page: Page, mode: 'fail' | 'slow'): Promise<void> {
  await page.addInitScript((m) => ((window as unknown as { __joinMode: string }).__joinMode = m), mode);
  await page.route('**/api/run', (route) => route.fulfill({ json: { run } }));
  await page.route('**/src/ui/joinSwarm.ts*', (route) => route.fulfill({ contentType: 'text/javascript', body: FAKE_JOIN }));
  // The validator's ledger for the tab's address: window 2 refused, and why.
  const windows = [
    { window: 2, accepted: 0, rejected: 1, score: 0.02, powT: 0.4, codes: ['no-proof-of-work'] },
    { window: 1, accepted: 1, rejected: 0, score: 0.03, powT: 4.1, codes: ['accepted'] },
  ];
  await page.route('**/api/status/address?*', (route) => route.fulfill({ json: { address: ALICE, windows } }));
  await page.goto('/');
}

const failJoin = (page: Page): Promise<void> => page.evaluate(() => (window as unknown as { __failJoin(): void }).__failJoin());
const joinLog = (page: Page): Promise<{ starts: number; stops: number }> => page.evaluate(() => (window as unknown as { __join: { starts: number; stops: number } }).__join);

test('a peer that stops on an error is released, says why, and Join starts a new one', async ({ page }) => {
  await openWithFakeJoin(page, 'fail');
  const panel = page.getByTestId('swarm-panel');
  await page.getByTestId('swarm-join').click();
  await expect(panel).toHaveAttribute('data-status', 'joined');
  // The phase bar of a peer waiting for the manifest: a quarter of the way to its due time
  // (the page's clock ticks each second, so the first frame may lag by up to one).
  const bar = page.getByTestId('swarm-progress');
  await expect(bar).toHaveAttribute('data-phase', 'waiting');
  await expect.poll(async () => Number(await bar.getAttribute('data-fraction'))).toBeGreaterThan(0.2);
  expect(Number(await bar.getAttribute('data-fraction'))).toBeLessThan(0.6);
  await expect(page.getByTestId('swarm-phase')).toContainText(/manifest due in \d+ s/);
  // Each window says what became of the tab's contribution, a refusal with the validator's reason.
  await expect(page.getByTestId('swarm-verdict')).toHaveText(['not accepted: no proof of work', 'accepted']);
  await failJoin(page);
  await expect(panel).toHaveAttribute('data-status', 'error');
  await expect(panel.getByRole('alert')).toContainText('the GPU device was lost (test)');
  expect(await joinLog(page)).toEqual({ starts: 1, stops: 1 });
  await page.getByTestId('swarm-join').click();
  await expect(panel).toHaveAttribute('data-status', 'joined');
  expect(await joinLog(page)).toEqual({ starts: 2, stops: 1 });
  await failJoin(page);
  await expect(panel).toHaveAttribute('data-status', 'error');
  expect(await joinLog(page)).toEqual({ starts: 2, stops: 2 });
});

test('a peer still starting when the visitor leaves the page is stopped, not left running', async ({ page }) => {
  await openWithFakeJoin(page, 'slow');
  await page.getByTestId('swarm-join').click();
  await expect(page.getByTestId('swarm-join')).toHaveText('Joining…');
  await expect.poll(async () => (await joinLog(page))?.starts).toBe(1);
  await page.getByRole('link', { name: 'Wallet' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Wallet');
  await page.evaluate(() => (window as unknown as { __releaseJoin(): void }).__releaseJoin());
  await expect.poll(async () => (await joinLog(page)).stops).toBe(1);
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
