// The Dashboard on a running swarm (inside the private namespace; e2e/support/demoSwarm.ts):
// the page charts the validation loss over ≥ 3 windows and lists the peers and the refused
// contribution of a peer whose payload is garbage, with its reason; and, in a browser without
// WebGPU, "Try the model" generates text from the validator's latest θ through onnxruntime-web.
import { expect, test } from '@playwright/test';
import { assertPrivateNetwork } from '../test/support/privateNetwork';
import { Harness, until } from '../test/support/swarmHarness';
import { startDemoSwarm } from './support/demoSwarm';

test.setTimeout(150_000);

test('the dashboard charts the loss and shows the peers and a refused contribution with its reason', async ({ page }) => {
  assertPrivateNetwork();
  const h = new Harness();
  try {
    const swarm = await startDemoSwarm(h);
    await until(() => swarm.validator.currentWindow >= 3, 90_000);
    await swarm.route(page);
    // A viewer without WebGPU: the dashboard and "Try the model" must not need it.
    await page.addInitScript(() => Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined }));
    await page.goto('/dashboard');
    expect(await page.evaluate(() => 'gpu' in navigator && navigator.gpu !== undefined)).toBe(false);
    await expect(page.getByTestId('dashboard')).toHaveAttribute('data-state', 'ok');
    // The validation loss the validator measured after each window, drawn by uPlot.
    const lossChart = page.getByTestId('dashboard-loss-chart');
    await expect.poll(async () => Number(await lossChart.getAttribute('data-points'))).toBeGreaterThanOrEqual(3);
    await expect(lossChart.locator('canvas')).toHaveCount(1);
    expect(await lossChart.getAttribute('aria-label')).toMatch(/validation \(measured\) \d\.\d+/);
    // Both honest peers reported their training loss with each contribution.
    await expect.poll(async () => Number(await page.getByTestId('dashboard-peer-loss-chart').getAttribute('data-points'))).toBeGreaterThanOrEqual(1);
    // Online: the three peers in the signaling room (two honest, Mallory), as the validator saw it.
    await expect(page.getByTestId('run-charts-latest')).toContainText(/3 peers online, [12] contributing, .*compression/);
    await expect.poll(() => page.locator('[data-testid="dashboard-windows"] tbody tr').count()).toBeGreaterThanOrEqual(3);
    await expect(page.locator('[data-testid="dashboard-peers"] tbody tr')).not.toHaveCount(0);
    // Accepted contributions are listed with their work; peers with their score and reward; hashes whole on hover.
    await expect(page.locator('[data-testid="dashboard-accepted"] tbody tr')).not.toHaveCount(0);
    await expect(page.getByTestId('dashboard-accepted-tokens').first()).toHaveText(/^[1-9][\d,]*$/);
    await expect(page.getByTestId('dashboard-accepted-score').first()).toHaveText(/^-?\d+\.\d{2}%$|^not scored$/);
    await expect(page.getByTestId('dashboard-peer-score').first()).toHaveText(/^-?\d+\.\d{2}%$/);
    await expect(page.getByTestId('dashboard-window-hash').first()).toHaveAttribute('title', /^[0-9a-f]{64}$/);
    // Legends carry values and no axis repeats a tick label (the compression axis once read 172.9 three times).
    await expect(page.locator('.chart .u-legend .u-value', { hasText: /^--$/ })).toHaveCount(0);
    for (const id of ['dashboard-loss-chart', 'dashboard-traffic-chart']) {
      const ticks = JSON.parse((await page.getByTestId(id).getAttribute('data-ticks')) ?? '[]') as string[][];
      expect(ticks.length, id).toBeGreaterThan(0);
      for (const axis of ticks) expect(new Set(axis.filter(Boolean)).size, `${id}: ${axis.join(' ')}`).toBe(axis.filter(Boolean).length);
    }
    await expect(page.getByTestId('dashboard')).toHaveAttribute('data-stale', 'false');
    const refused = page.locator('[data-testid="dashboard-rejections"] li[data-code="undecodable"]');
    await expect(refused).toContainText('not a work payload'); // the demo runs in unit mode
    await expect(refused).toContainText(swarm.malloryAddress.slice(0, 8));

    // Try the model: the θ the validator holds now (its hash is the one it decided last window).
    const tryModel = page.getByTestId('try-model');
    await page.getByTestId('try-load').click();
    await expect(tryModel).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
    const window = Number(await tryModel.getAttribute('data-window'));
    expect(window).toBeGreaterThanOrEqual(3);
    await expect(page.getByTestId('try-loaded')).toContainText(`θ ${swarm.hashes.get(window - 1)?.slice(0, 12)}`);
    await page.getByTestId('try-prompt').fill('ROMEO:');
    await page.getByTestId('try-generate').click();
    const output = page.getByTestId('try-output');
    await expect(output).toHaveAttribute('data-done', 'true', { timeout: 60_000 });
    const text = (await output.textContent()) ?? '';
    expect(text.startsWith('ROMEO:')).toBe(true);
    expect(text.length).toBeGreaterThan('ROMEO:'.length + 150); // 200 characters of the tiny model's alphabet
    expect(text).not.toMatch(/Generation failed/);
  } finally {
    await h.cleanup();
  }
});
