// What both benchmark entry points share in Node: flags, a Dawn device that tfjs can use too,
// and running a bench page in Debian's headless Chromium (Vite dev server + playwright-core).
import { createServer as createNetServer } from 'node:net';
import { chromium } from 'playwright-core';
import { createServer } from 'vite';
import { CHROMIUM, CHROMIUM_BASE_ARGS, CHROMIUM_WEBGPU_ARGS, gpuEnv } from '../scripts/env.mjs';
import { requestGpuDevice, type GpuContext } from '../src/gpu/device';
import { nodeGpu } from '../src/gpu/nodeGpu';

/** `--name value` / `--name=value` flags as URLSearchParams, so a page can get the same ones. */
export function flags(argv = process.argv.slice(2)): URLSearchParams {
  const params = new URLSearchParams();
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([^=]+)(?:=(.*))?$/.exec(argv[i]);
    if (!m) throw new Error(`unexpected argument ${argv[i]} (flags are --name value)`);
    const bare = m[2] === undefined && (i + 1 >= argv.length || argv[i + 1].startsWith('--'));
    params.set(m[1], m[2] ?? (bare ? '1' : argv[++i]));
  }
  return params;
}

/** A Tessera device on Dawn, with navigator.gpu set and tfjs's WebGPU backend registered on the same GPU. */
export async function nodeDevice(): Promise<GpuContext> {
  Object.assign(process.env, gpuEnv(process.env));
  const gpu = nodeGpu();
  // tfjs-backend-webgpu registers itself only if navigator.gpu exists when it is imported.
  Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  await import('@tensorflow/tfjs-backend-webgpu');
  return requestGpuDevice({ gpu });
}

export function adapterName(ctx: GpuContext): string {
  const a = ctx.report.adapter;
  return [a.vendor, a.architecture, a.description].filter((s) => s && s !== 'unknown').join(' / ') || 'unknown adapter';
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createNetServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      srv.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * Serves the repository with Vite on 127.0.0.1 (WebGPU needs a secure context), opens `page`
 * with `query` in headless Chromium, prints its console lines through `log`, and resolves
 * when the page sets `window.__benchDone` (rejects on the page's error or `timeoutS`).
 */
export async function runInChromium(page: string, query: URLSearchParams, log: (line: string) => void, timeoutS: number): Promise<boolean> {
  const port = await freePort();
  const server = await createServer({
    server: { host: '127.0.0.1', port, strictPort: true },
    optimizeDeps: { entries: ['bench/*.html'] },
    logLevel: 'warn',
  });
  await server.listen();
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_BASE_ARGS, ...CHROMIUM_WEBGPU_ARGS], headless: true });
  try {
    const tab = await browser.newPage();
    tab.on('console', (msg) => {
      if (msg.type() === 'log') log(msg.text());
      else if (msg.type() === 'error') log(`console error: ${msg.text()}`);
    });
    tab.on('pageerror', (err) => log(`page error: ${err.message}`));
    await tab.goto(`http://127.0.0.1:${port}/${page}?${query.toString()}`);
    await tab.waitForFunction(() => '__benchDone' in window, undefined, { timeout: timeoutS * 1000, polling: 1000 });
    const done = await tab.evaluate(() => (window as unknown as { __benchDone: { ok: boolean; error?: string } }).__benchDone);
    if (done.error) throw new Error(done.error);
    return done.ok;
  } finally {
    await browser.close();
    await server.close();
  }
}
