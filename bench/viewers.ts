// `npm run bench:viewers`: (1) the validator's status API latency while it scores, with the loss
// probe on its event loop (as before) and in a worker thread (now); (2) N simulated dashboards
// polling `tessera serve`'s relay of a live `tessera validator` for a minute.
// Flags: --viewers N (500) --seconds S (60) --every-ms N (5000) --score-seconds S (10).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { serveStatus } from '../server/validatorStatus';
import { initParams } from '../src/model/init';
import { paramLayout } from '../src/model/layout';
import { openProbeThread } from '../src/node/probeThread';
import { writeRun } from '../src/node/runFile';
import { CpuLossProbe } from '../src/validator/cpuLossProbe';
import { Ledger } from '../src/validator/ledger';
import type { LossProbe } from '../src/validator/scoring';
import { gpuEnv } from '../scripts/env.mjs';
import { tinyCorpus } from '../test/support/tinyCorpus';
import { flags } from './nodeDriver';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const f = flags();
const viewers = Number(f.get('viewers') ?? 500);
const seconds = Number(f.get('seconds') ?? 60);
const everyMs = Number(f.get('every-ms') ?? 5000);
const scoreSeconds = Number(f.get('score-seconds') ?? 10);

function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

/**
 * Polls `url` every 50 ms from a worker thread (its own event loop, so only the server's
 * delays count) until told to stop; resolves with every latency in ms (a failure counts 10 s).
 */
function pollFromThread(url: string): { stop(): Promise<number[]> } {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const latencies = [];
    let running = true;
    parentPort.on('message', () => { running = false; });
    (async () => {
      while (running) {
        const t = performance.now();
        try { const r = await fetch(workerData.url, { signal: AbortSignal.timeout(10000) }); await r.text(); latencies.push(performance.now() - t); }
        catch { latencies.push(10000); }
        await new Promise((r) => setTimeout(r, 50));
      }
      parentPort.postMessage(latencies);
    })();`;
  const worker = new Worker(code, { eval: true, workerData: { url } });
  return {
    stop: () =>
      new Promise((resolve) => {
        worker.once('message', (l: number[]) => void worker.terminate().then(() => resolve(l)));
        worker.postMessage('stop');
      }),
  };
}

/** Scores like a validator (batches of own and random pages) for `scoreSeconds` while the status API is polled. */
async function statusWhileScoring(probe: LossProbe, statusUrl: string): Promise<{ p50: number; p99: number; sequences: number }> {
  const { corpus, config } = tinyCorpus();
  const theta = initParams(config, paramLayout(config), 1);
  const pages = Uint32Array.from({ length: 64 }, (_, i) => (i * 7919) % (corpus.train.length - 65));
  const poller = pollFromThread(statusUrl);
  const end = Date.now() + scoreSeconds * 1000;
  let sequences = 0;
  while (Date.now() < end) {
    await probe.perSequence(theta, pages);
    sequences += pages.length;
  }
  const latencies = await poller.stop();
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), sequences };
}

async function scoringPart(): Promise<{ before: number; after: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-viewers-'));
  const ledger = new Ledger(join(dir, 'ledger.sqlite'), 'bench-viewers');
  const server = serveStatus(ledger, 0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/status`;
  const { corpus, config } = tinyCorpus();
  const inline = await statusWhileScoring(new CpuLossProbe(config, 64, corpus.train), url);
  console.log(
    `[viewers] scoring on the event loop (before): ${inline.sequences} sequences in ${scoreSeconds} s, status p50 ${inline.p50.toFixed(1)} ms, p99 ${inline.p99.toFixed(1)} ms`,
  );
  const thread = await openProbeThread({ mode: 'cpu', config, seqLen: 64, train: corpus.train, val: corpus.val });
  const worker = await statusWhileScoring(thread.scoring, url);
  thread.close();
  console.log(
    `[viewers] scoring in a worker thread (now): ${worker.sequences} sequences in ${scoreSeconds} s, status p50 ${worker.p50.toFixed(1)} ms, p99 ${worker.p99.toFixed(1)} ms`,
  );
  server.close();
  ledger.close();
  return { before: inline.p99, after: worker.p99 };
}

/** `tessera serve` relaying a live `tessera validator` (10 s windows, no peers): resolves once both answer. */
async function liveStack(): Promise<{ base: string; stop(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-viewers-run-'));
  writeRun(dir, { preset: 'tiny', windowMs: 10_000, startInMs: 3_000 });
  const tsx = import.meta.resolve('tsx');
  const env = { ...process.env, ...gpuEnv() };
  const children: ChildProcess[] = [];
  let out = '';
  const start = (args: string[]): void => {
    const c = spawn(process.execPath, ['--import', tsx, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    c.stdout?.on('data', (d: Buffer) => void (out += d.toString()));
    c.stderr?.on('data', (d: Buffer) => void (out += d.toString()));
    children.push(c);
  };
  const statusPort = 19_000 + Math.floor(Math.random() * 1000);
  start(['src/node/serve.ts', '--port', '0', '--run', join(dir, 'run.json'), '--validator-status', `http://127.0.0.1:${statusPort}/status`]);
  const deadline = Date.now() + 60_000;
  while (!/app ready at (http:\/\/127\.0\.0\.1:\d+)\//.test(out)) {
    if (Date.now() > deadline) throw new Error(`the server did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const base = /app ready at (http:\/\/127\.0\.0\.1:\d+)\//.exec(out)?.[1] ?? '';
  start([
    'src/node/tessera.ts',
    'validator',
    '--run',
    join(dir, 'run.json'),
    '--signal',
    `${base.replace('http', 'ws')}/signal`,
    '--key',
    join(dir, 'validator.key'),
    '--status-port',
    String(statusPort),
    '--score',
    'cpu',
  ]);
  while ((await fetch(`${base}/api/status`).catch(() => undefined))?.status !== 200) {
    if (Date.now() > deadline) throw new Error(`the validator's status never came through the relay:\n${out}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return { base, stop: () => children.forEach((c) => c.kill('SIGTERM')) };
}

/** One dashboard: the snapshot and the history after its last window, every `everyMs`, from a random phase. */
async function viewer(base: string, until: number, stats: { latencies: number[]; errors: number }): Promise<void> {
  await new Promise((r) => setTimeout(r, Math.random() * everyMs));
  let after = -1;
  while (Date.now() < until) {
    for (const path of ['/api/status', `/api/status/history?after=${after}`]) {
      const t = performance.now();
      try {
        const r = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(10_000) });
        const body = (await r.json()) as { windows?: { window: number }[] };
        if (!r.ok) stats.errors++;
        else if (path.includes('history')) after = body.windows?.at(-1)?.window ?? after;
        stats.latencies.push(performance.now() - t);
      } catch {
        stats.errors++;
      }
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

async function viewersPart(): Promise<{ errors: number; p50: number; p99: number; upstream: number }> {
  const stack = await liveStack();
  try {
    const reads = async (): Promise<number> => ((await (await fetch(`${stack.base}/healthz`)).json()) as { statusUpstreamReads: number }).statusUpstreamReads;
    const before = await reads();
    const started = Date.now();
    const stats = { latencies: [] as number[], errors: 0 };
    await Promise.all(Array.from({ length: viewers }, () => viewer(stack.base, started + seconds * 1000, stats)));
    const upstream = ((await reads()) - before) / ((Date.now() - started) / 1000);
    console.log(`[viewers] ${viewers} viewers × ${seconds} s every ${everyMs / 1000} s: ${stats.latencies.length} answers, ${stats.errors} errors`);
    return { errors: stats.errors, p50: percentile(stats.latencies, 50), p99: percentile(stats.latencies, 99), upstream };
  } finally {
    stack.stop();
  }
}

const scoring = await scoringPart();
const crowd = await viewersPart();
console.log(`viewers p50: ${crowd.p50.toFixed(1)} ms`);
console.log(`status p99 while scoring: ${scoring.after.toFixed(1)} ms (on the event loop, as before: ${scoring.before.toFixed(1)} ms)`);
console.log(`viewers: ${viewers}, errors: ${crowd.errors}, p99: ${crowd.p99.toFixed(1)} ms, upstream: ${crowd.upstream.toFixed(2)}/s`);
process.exit(0);
