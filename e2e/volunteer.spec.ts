// The Volunteer page's WebGPU capability report in real Chromium, and the explanation a
// visitor gets when WebGPU is unavailable.
import { expect, test } from '@playwright/test';

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
