// How the Dashboard holds up at scale, in headless Chromium: a stand-in validator status API
// serves W windows with P peers' reported losses (the ledger's answer shapes and page limits);
// we time the catch-up from an empty page, then watch main-thread long tasks and the JS heap
// while new windows keep arriving. Flags: --windows N --peers N --watch-s N. Needs `npm run build`.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { createAppServer } from '../server/appServer';
import { HISTORY_LOSS_ROWS, HISTORY_PAGE, type History, type StatusSnapshot, type WindowPoint } from '../src/validator/status';
import { CHROMIUM, CHROMIUM_BASE_ARGS } from '../scripts/env.mjs';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const WINDOWS = arg('windows', 20_000);
const PEERS = arg('peers', 120);
const WATCH_S = arg('watch-s', 20);

const address = (p: number): string => `5${'Peer'.padEnd(4)}${String(p).padStart(43, 'x')}`.slice(0, 48);
let windows = WINDOWS;

function point(w: number): WindowPoint {
  return {
    window: w,
    closedAt: 1_700_000_000_000 + w * 30_000,
    accepted: PEERS,
    rejected: 2,
    valLoss: 4 * Math.exp(-w / 5000) + 1.5,
    trainLoss: 4 * Math.exp(-w / 5000) + 1.4,
    tokens: PEERS * 4096,
    bytes: PEERS * 9000,
    denseBytes: PEERS * 1_600_000,
    peers: PEERS,
    durationMs: 30_000,
    online: PEERS + 3,
  };
}

/** The ledger's paging: ≤ HISTORY_PAGE windows and about HISTORY_LOSS_ROWS loss rows per answer. */
function history(after: number): History {
  const perPage = Math.max(1, Math.min(HISTORY_PAGE, Math.floor(HISTORY_LOSS_ROWS / PEERS)));
  const ws: WindowPoint[] = [];
  for (let w = after + 1; w < windows && ws.length < perPage; w++) ws.push(point(w));
  const losses = ws.flatMap((x) => Array.from({ length: PEERS }, (_, p) => ({ window: x.window, address: address(p), trainLoss: x.trainLoss ?? 0 })));
  return { windows: ws, losses, more: (ws.at(-1)?.window ?? after) < windows - 1 };
}

function snapshot(): StatusSnapshot {
  const addresses = Array.from({ length: PEERS }, (_, p) => ({
    address: address(p),
    accepted: windows,
    rejected: 0,
    mu: 25,
    sigma: 1,
    ordinal: 22,
    powEma: 0.5,
    scoreEma: 0.01,
    reward: 0.005,
    weight: 500,
  }));
  const recent = Array.from({ length: 50 }, (_, i) => windows - 1 - i).filter((w) => w >= 0);
  return {
    runId: 'bench',
    window: windows,
    windows: recent.map((w) => ({
      window: w,
      accepted: PEERS,
      rejected: 2,
      nextHash: 'ab'.repeat(32),
      closedAt: point(w).closedAt,
      valLoss: point(w).valLoss,
    })),
    addresses,
    rejections: [],
    contributions: [],
  };
}

function statusServer(): Promise<Server> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const body =
      url.pathname === '/status'
        ? snapshot()
        : url.pathname === '/status/history'
          ? history(Number(url.searchParams.get('after') ?? -1))
          : { address: url.searchParams.get('address'), windows: [] };
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

if (!existsSync('dist/index.html')) {
  console.error('[bench:dashboard] no built app: run `npm run build` first');
  process.exit(1);
}
const status = await statusServer();
const app = createAppServer({ distDir: 'dist', validatorStatus: `http://127.0.0.1:${(status.address() as AddressInfo).port}/status` });
await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
const origin = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
const browser = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_BASE_ARGS, '--enable-precise-memory-info'], headless: true });
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.addInitScript(() => {
    const w = window as unknown as { __long: number[] };
    w.__long = [];
    new PerformanceObserver((list) => list.getEntries().forEach((e) => w.__long.push(e.duration))).observe({ type: 'longtask', buffered: true });
  });
  const t0 = performance.now();
  await page.goto(`${origin}/dashboard`);
  const chart = page.getByTestId('dashboard-loss-chart');
  await page.waitForFunction((n) => document.querySelector('[data-testid="dashboard-loss-chart"]')?.getAttribute('data-x-count') === String(n), WINDOWS, {
    timeout: 600_000,
    polling: 250,
  });
  const caughtUp = (performance.now() - t0) / 1000;
  const catchUpLong = await page.evaluate(() => (window as unknown as { __long: number[] }).__long.splice(0));
  console.log(
    `catch-up: ${WINDOWS} windows × ${PEERS} peers drawn in ${caughtUp.toFixed(1)} s (longest main-thread task ${Math.max(0, ...catchUpLong).toFixed(0)} ms, ${catchUpLong.length} tasks over 50 ms)`,
  );
  // Steady state: a new window every second, the page polls every 5 s.
  const grow = setInterval(() => windows++, 1000);
  await page.waitForTimeout(WATCH_S * 1000);
  clearInterval(grow);
  const long = await page.evaluate(() => (window as unknown as { __long: number[] }).__long);
  const heap = await page.evaluate(() => (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? 0);
  console.log(
    `steady: ${WATCH_S} s with a new window every second: ${long.length} main-thread tasks over 50 ms, longest ${Math.max(0, ...long).toFixed(0)} ms; chart at ${await chart.getAttribute('data-x-count')} windows`,
  );
  console.log(`JS heap: ${(heap / 2 ** 20).toFixed(0)} MiB`);
} finally {
  await browser.close();
  app.close();
  status.close();
}
