// Chromium without --enable-unsafe-webgpu on Linux exposes navigator.gpu but refuses an
// adapter: the real "WebGPU present, no usable GPU" case a visitor can hit.
import { expect, test } from '@playwright/test';
import { CHROMIUM, CHROMIUM_BASE_ARGS } from '../scripts/env.mjs';

test.use({ launchOptions: { executablePath: CHROMIUM, args: CHROMIUM_BASE_ARGS } });

test('without a WebGPU adapter the page explains why and what to do', async ({ page }) => {
  await page.goto('/');
  const notice = page.getByTestId('gpu-unavailable');
  await expect(notice).toBeVisible();
  await expect(notice).toHaveAttribute('data-reason', 'no-adapter');
  await expect(notice.getByRole('heading', { level: 2 })).toHaveText(/found no usable GPU/);
  await expect(notice).toContainText('chrome://flags/#enable-unsafe-webgpu');
  await expect(page.getByTestId('gpu-report')).toHaveCount(0);
});
