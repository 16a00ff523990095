// The same GPU suites Vitest runs on Dawn (kernels; the GPT engine against its CPU reference),
// run here on Chromium's WebGPU in a tab and in a Web Worker: every case must pass in both.
import { expect, test } from '@playwright/test';
import { kernelCases } from '../test/gpu/kernelSuite';
import { modelCases } from '../test/gpu/modelSuite';
import type { SuiteReport } from './harness/gpuSuitePage';

test.setTimeout(300_000);

test('the GPU kernel and GPT engine suites pass in a Chromium tab and in a Web Worker', async ({ page }) => {
  await page.goto('/e2e/harness/gpu-suite.html');
  await page.waitForFunction(() => '__gpuSuite' in window, undefined, { timeout: 240_000 });
  const report = await page.evaluate(() => (window as unknown as { __gpuSuite: SuiteReport }).__gpuSuite);
  for (const where of ['tab', 'worker'] as const) {
    const results = report[where];
    expect(Array.isArray(results), `${where}: ${JSON.stringify(results)}`).toBe(true);
    if (!Array.isArray(results)) continue;
    expect(results.map((r) => r.name)).toEqual([...kernelCases, ...modelCases].map((c) => c.name));
    for (const r of results) expect(r.ok, `${where}: ${r.name}: ${r.error ?? ''}`).toBe(true);
  }
});
