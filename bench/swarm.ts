// `npm run bench:swarm`: a real local swarm — this process's signaling server, a validator and
// N headless peers as separate processes (Dawn, WebRTC on loopback) — for a few windows. Prints
// bytes up/down per peer per window and how each window's time splits into compute,
// communication on the critical path, and waiting for the manifest.
// Flags: --peers N (4) --preset P (small) --window-ms N (90000) --windows N (3) --batch N --seq N.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { attachSignaling } from '../server/signaling';
import { PRESETS, type PresetName } from '../src/model/config';
import { createKeyFile, writeRun } from '../src/node/runFile';
import type { WindowReport } from '../src/swarm/swarmPeer';
import { gpuEnv } from '../scripts/env.mjs';
import { flags } from './nodeDriver';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const f = flags();
const peers = Number(f.get('peers') ?? 4);
const preset = (f.get('preset') ?? 'small') as PresetName;
if (!(preset in PRESETS)) throw new Error(`--preset must be one of ${Object.keys(PRESETS).join(', ')}`);
const windowMs = Number(f.get('window-ms') ?? 90_000);
const windows = Number(f.get('windows') ?? 3);

const server = createServer();
const signaling = attachSignaling(server);
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/signal`;
const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-swarm-'));
const run = writeRun(dir, { preset, windowMs, batchSize: Number(f.get('batch') ?? 4), seqLen: Number(f.get('seq') ?? 32) });
console.log(
  `[swarm] ${peers} × ${preset} peers, windows of ${windowMs / 1000} s (grace ${run.graceMs / 1000} s), batch ${run.batchSize}×${run.seqLen}, run in ${dir}`,
);

const tsx = import.meta.resolve('tsx');
const cli = join(ROOT, 'src', 'node', 'tessera.ts');
const env = { ...process.env, ...gpuEnv() };
const children: ChildProcess[] = [];
const start = (args: string[]): void => {
  const child = spawn(process.execPath, ['--import', tsx, cli, ...args], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'inherit'] });
  children.push(child);
};
start(['validator', '--run', join(dir, 'run.json'), '--signal', url, '--key', join(dir, 'validator.key'), '--name', 'validator']);
for (let i = 1; i <= peers; i++) {
  createKeyFile(join(dir, `peer-${i}.key`));
  start([
    'peer',
    '--run',
    join(dir, 'run.json'),
    '--signal',
    url,
    '--key',
    join(dir, `peer-${i}.key`),
    '--name',
    `peer-${i}`,
    '--report',
    join(dir, `peer-${i}.jsonl`),
  ]);
}
const stopAll = (): void => {
  for (const c of children) c.kill('SIGKILL');
  void signaling.close();
  server.close();
};
process.once('SIGINT', () => {
  stopAll();
  process.exit(130);
});

type Row = WindowReport & { peer: string };
const read = (i: number): Row[] => {
  const file = join(dir, `peer-${i}.jsonl`);
  return existsSync(file)
    ? readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Row)
    : [];
};
const deadline = run.startTime + (windows + 2) * windowMs;
while (Date.now() < deadline) {
  const counts = Array.from({ length: peers }, (_, i) => read(i + 1).length);
  if (counts.every((c) => c >= windows)) break;
  await new Promise((r) => setTimeout(r, 2000));
}
stopAll();

const rows = Array.from({ length: peers }, (_, i) => read(i + 1))
  .flat()
  .filter((r) => r.window < windows);
if (rows.length === 0) {
  console.log('[swarm] no window completed: the machine is too slow for these settings (try --preset tiny or a longer --window-ms)');
  process.exit(1);
}
console.log('peer     window  steps  loss    accepted  up B     down B   compute s  comm s  wait s');
for (const r of rows.sort((a, b) => a.window - b.window || a.peer.localeCompare(b.peer))) {
  console.log(
    `${r.peer.padEnd(8)} ${String(r.window).padStart(6)} ${String(r.steps).padStart(6)}  ${(r.trainLoss?.toFixed(3) ?? '-').padEnd(6)}  ${String(r.included).padEnd(8)}  ${String(r.bytesUp).padStart(7)}  ${String(r.bytesDown).padStart(7)}  ${(r.computeMs / 1000).toFixed(1).padStart(9)}  ${(r.commMs / 1000).toFixed(2).padStart(6)}  ${(r.waitMs / 1000).toFixed(1).padStart(6)}`,
  );
}
const mean = (f: (r: Row) => number): number => rows.reduce((a, r) => a + f(r), 0) / rows.length;
const hashes = new Set(rows.map((r) => `${r.window}:${r.hash}`));
console.log(
  `[swarm] replicas agree: ${hashes.size === new Set(rows.map((r) => r.window)).size ? 'yes' : 'NO'} (${hashes.size} distinct window:hash pairs over ${new Set(rows.map((r) => r.window)).size} windows)`,
);
console.log(
  `bytes per peer per window: up ${Math.round(mean((r) => r.bytesUp)).toLocaleString('en-US')}, down ${Math.round(mean((r) => r.bytesDown)).toLocaleString('en-US')}`,
);
console.log(`compute share of window time: ${((mean((r) => r.computeMs) / windowMs) * 100).toFixed(1)}%`);
console.log(`communication share of window time: ${((mean((r) => r.commMs) / windowMs) * 100).toFixed(2)}% (target ≤ 10%)`);
process.exit(0);
