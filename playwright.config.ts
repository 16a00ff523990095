// End-to-end tests in Debian's Chromium (never a downloaded browser) with WebGPU on
// SwiftShader. `npm test` runs them inside the private network namespace.
import { defineConfig } from '@playwright/test';
import { CHROMIUM, CHROMIUM_BASE_ARGS, CHROMIUM_WEBGPU_ARGS, CHROMIUM_WEBRTC_ARGS } from './scripts/env.mjs';

const PORT = Number(process.env.TESSERA_E2E_PORT ?? 5179);
// Screenshots for the docs are taken on request (`npm run screenshots`), not by `npm test`.
const SCREENSHOTS_IGNORE = process.env.TESSERA_SCREENSHOTS === '1' ? [] : ['**/screenshots.spec.ts'];

export default defineConfig({
  testDir: 'e2e',
  testMatch: '**/*.spec.ts',
  testIgnore: SCREENSHOTS_IGNORE,
  timeout: 120_000,
  expect: { timeout: 30_000 },
  fullyParallel: false,
  // Two spec files at a time: the swarm specs mostly wait on window clocks (swarm.spec used
  // about one of the two cores), so pairs of them overlap. `npm start`'s spec runs the whole
  // product as processes of its own and measures its first windows' pay: it runs last, alone.
  workers: 2,
  projects: [
    { name: 'specs', testIgnore: [...SCREENSHOTS_IGNORE, '**/npm-start.spec.ts'] },
    { name: 'npm-start', testMatch: '**/npm-start.spec.ts', dependencies: ['specs'], workers: 1 },
  ],
  retries: 0,
  forbidOnly: !!process.env.CI,
  reporter: [['list'], ['json', { outputFile: 'test-results/e2e.json' }]],
  use: {
    baseURL: `http://127.0.0.1:${PORT}`,
    browserName: 'chromium',
    headless: true,
    launchOptions: {
      executablePath: CHROMIUM,
      args: [...CHROMIUM_BASE_ARGS, ...CHROMIUM_WEBGPU_ARGS, ...CHROMIUM_WEBRTC_ARGS],
    },
    trace: 'retain-on-failure',
  },
  webServer: {
    command: `npx vite --port ${PORT} --strictPort --host 127.0.0.1`,
    url: `http://127.0.0.1:${PORT}/`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'ignore',
    stderr: 'pipe',
  },
});
