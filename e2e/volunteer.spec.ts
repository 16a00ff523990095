// The Volunteer page's WebGPU capability report in real Chromium, client-side routes, and
// the per-page code chunks (a dashboard viewer downloads no training code).
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
