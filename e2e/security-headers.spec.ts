// The built app as `tessera serve` sends it: every security header, an injected inline script
// and inline handler refused by the Content-Security-Policy, while the app itself still trains solo,
// connects a wallet and signs with it (WebAssembly sr25519), and joins the run's signaling.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { SECURITY_HEADERS } from '../server/appServer';
import { injectFakeExtension, signCertificateOnWalletPage } from './support/fakeExtension';

test.setTimeout(180_000);

/** Starts `src/node/serve.ts` for a fresh run and resolves with its base URL once it says it is ready. */
async function serve(dir: string): Promise<{ base: string; child: ChildProcess; output: () => string }> {
  // The tab joins alone, so it must join while window 0 is open (a later joiner syncs from
  // neighbours, and there are none): the run starts well after the steps before Join, however
  // long a loaded machine takes over them, and window 0 is open a further 20 s.
  const init = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'src/node/tessera.ts', 'init-run', '--out', dir, '--window-ms', '20000', '--start-in-ms', '40000'],
    { encoding: 'utf8' },
  );
  expect(init.status, init.stderr).toBe(0);
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/node/serve.ts', '--port', '0', '--run', join(dir, 'run.json')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => void (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => void (output += d.toString()));
  await expect.poll(() => output, { timeout: 30_000 }).toMatch(/app ready at http:\/\/127\.0\.0\.1:\d+\//);
  return { base: /app ready at (http:\/\/127\.0\.0\.1:\d+)\//.exec(output)?.[1] ?? '', child, output: () => output };
}

/** Every CSP violation the page reports, as "directive blocked-uri" (listening from before any script runs). */
async function watchViolations(page: Page): Promise<() => Promise<string[]>> {
  await page.addInitScript(() => {
    const w = window as unknown as { __violations: string[] };
    w.__violations = [];
    document.addEventListener('securitypolicyviolation', (e) => w.__violations.push(`${e.effectiveDirective} ${e.blockedURI}`));
  });
  return () => page.evaluate(() => (window as unknown as { __violations: string[] }).__violations);
}

test('security headers on the served app; injected script refused; the app still trains, signs and joins', async ({ browser }) => {
  // npm test built dist/ a moment ago; a lone run of this spec builds it.
  if (!existsSync('dist/index.html')) expect(spawnSync('npx', ['vite', 'build', '--logLevel', 'warn'], { stdio: 'inherit' }).status).toBe(0);
  const dir = mkdtempSync(join(tmpdir(), 'tessera-csp-'));
  const server = await serve(dir);
  const exited = new Promise((resolve) => server.child.once('exit', resolve));
  // The page's own origin is the served app, not the test's Vite server.
  const context = await browser.newContext({ baseURL: server.base });
  try {
    const page = await context.newPage();
    const violations = await watchViolations(page);
    await injectFakeExtension(page, { accounts: ['//Alice'] });

    const answer = await page.goto('/');
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(answer?.headers()[name], name).toBe(value);
    const asset = await page.request.get(`${server.base}/api/run`);
    expect(asset.headers()['content-security-policy']).toBe(SECURITY_HEADERS['content-security-policy']);

    // An attacker's inline script and inline event handler do not run; the page reports both.
    // (Playwright's own evaluate is exempt from CSP, so the injection is made through the DOM.)
    await page.evaluate(() => {
      const s = document.createElement('script');
      s.textContent = 'window.__injected = "script"';
      document.head.appendChild(s);
      const img = document.createElement('img');
      img.setAttribute('onerror', 'window.__injected = "handler"');
      img.src = 'data:,not-an-image';
      document.body.appendChild(img);
    });
    // Each violation is reported where the browser would have run the code: once both are in,
    // neither ran.
    await expect.poll(violations).toEqual(expect.arrayContaining(['script-src-elem inline', 'script-src-attr inline']));
    expect(await page.evaluate(() => (window as unknown as { __injected?: string }).__injected)).toBeUndefined();

    // The app's own code still does everything: solo training in its worker...
    await page.getByTestId('experiment-toggle').click(); // solo training sits collapsed below the swarm
    const trainer = page.getByTestId('trainer');
    await expect(trainer).toHaveAttribute('data-state', 'idle', { timeout: 60_000 });
    await page.getByTestId('preset').selectOption('tiny');
    await page.getByTestId('start').click();
    await expect
      .poll(async () => Number(await page.getByTestId('loss-chart').getAttribute('data-train-points')), { timeout: 120_000 })
      .toBeGreaterThanOrEqual(1);
    await page.getByTestId('pause').click();
    await expect(trainer).toHaveAttribute('data-state', 'paused', { timeout: 60_000 });

    // ...the wallet extension connects and signs the session key's certificate (sr25519 in WebAssembly)...
    await signCertificateOnWalletPage(page);

    // ...and Join opens the signaling WebSocket under the same origin and trains a window.
    await page.getByRole('link', { name: 'Volunteer' }).click();
    await page.getByTestId('swarm-join').click();
    await expect(page.getByTestId('swarm-phase')).toHaveAttribute('data-phase', 'training', { timeout: 60_000 });
    await expect
      .poll(async () => ((await (await page.request.get(`${server.base}/healthz`)).json()) as { signaling: { peers: number } }).signaling.peers, {
        timeout: 30_000,
      })
      .toBe(1);
    await page.getByTestId('swarm-leave').click();

    // Nothing of the app's own was blocked: only the two injections.
    expect((await violations()).filter((v) => !['script-src-elem inline', 'script-src-attr inline'].includes(v))).toEqual([]);
  } finally {
    await context.close();
    server.child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  }
});
