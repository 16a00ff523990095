// The real `tessera validator` (CLI, SQLite ledger) killed with SIGKILL at random moments of a
// window three times, restarted each time, while two real `tessera peer`s train: nothing it
// recorded is lost or doubled, and the swarm goes on from its resumed manifests on one hash.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, expect, it } from 'vitest';
import { attachSignaling } from '../../server/signaling';
import { writeRun } from '../../src/node/runFile';
import type { WindowReport } from '../../src/swarm/swarmPeer';
import { createKeyFile } from '../../src/node/runFile';

const WINDOW_MS = 6000;
const KILLS = 3;
const dir = mkdtempSync(join(tmpdir(), 'tessera-validator-kill-'));
const children = new Set<ChildProcess>();
const cleanups: (() => unknown)[] = [];

afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await Promise.all([...children].map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
  for (const f of cleanups.reverse()) await f();
  rmSync(dir, { recursive: true, force: true });
});

interface Proc {
  child: ChildProcess;
  output: () => string;
  exited: Promise<void>;
}

function cli(args: string[]): Proc {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/node/tessera.ts', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => void (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => void (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => children.delete(child));
  return { child, output: () => out, exited };
}

interface WindowRow {
  window: number;
  base_hash: string;
  next_hash: string;
  accepted: number;
  rejected: number;
}

/** The ledger's windows and verdicts as they are on disk now (read-only; the validator may be writing). */
function ledgerDump(path: string): { windows: WindowRow[]; verdicts: { id: string; window: number; status: string; code: string | null }[] } {
  if (!existsSync(path)) return { windows: [], verdicts: [] };
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    // The validator creates the file before its tables: until then it has recorded nothing.
    if (!db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'windows'").get()) return { windows: [], verdicts: [] };
    return {
      windows: db.prepare('SELECT window, base_hash, next_hash, accepted, rejected FROM windows ORDER BY window').all() as WindowRow[],
      verdicts: db.prepare("SELECT id, window, status, code FROM contributions WHERE status != 'pending' ORDER BY id").all() as {
        id: string;
        window: number;
        status: string;
        code: string | null;
      }[],
    };
  } finally {
    db.close();
  }
}

/** Windows in which the validator accepted at least one contribution. */
const withWork = (d: ReturnType<typeof ledgerDump>): number => d.windows.filter((w) => w.accepted > 0).length;

async function until<T>(what: string, f: () => T | undefined | false, timeoutMs: number, log: () => string): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${log().slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function reports(path: string): WindowReport[] {
  return existsSync(path)
    ? readFileSync(path, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as WindowReport)
    : [];
}

it('a validator killed -9 three times mid-window resumes from its ledger; the swarm follows it on one hash', async () => {
  const http = createServer();
  const signaling = attachSignaling(http);
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () => new Promise((r) => http.close(r)),
    () => signaling.close(),
  );
  const signal = `ws://127.0.0.1:${(http.address() as AddressInfo).port}/signal`;
  writeRun(dir, { preset: 'tiny', windowMs: WINDOW_MS, graceMs: 1500, startInMs: 6000, batchSize: 2, seqLen: 32 });
  const run = join(dir, 'run.json');
  const ledger = join(dir, 'ledger.sqlite');
  const validatorArgs = [
    'validator',
    '--run',
    run,
    '--signal',
    signal,
    '--key',
    join(dir, 'validator.key'),
    '--name',
    'validator',
    '--ledger',
    ledger,
    '--score',
    'off',
    '--val-sequences',
    '0',
  ];
  const peers = ['peer-a', 'peer-b'].map((name) => {
    createKeyFile(join(dir, `${name}.key`));
    return {
      name,
      report: join(dir, `${name}.jsonl`),
      proc: cli(['peer', '--run', run, '--signal', signal, '--key', join(dir, `${name}.key`), '--name', name, '--report', join(dir, `${name}.jsonl`)]),
    };
  });
  const incarnations: Proc[] = [];
  const startValidator = (): Proc => {
    const v = cli(validatorArgs);
    incarnations.push(v);
    return v;
  };
  const log = (): string => [...incarnations.map((v, i) => `--- validator #${i + 1}\n${v.output()}`), ...peers.map((p) => p.proc.output())].join('\n');
  let validator = startValidator();

  const snapshots: ReturnType<typeof ledgerDump>[] = [];
  const killedAt: string[] = [];
  for (let k = 0; k < KILLS; k++) {
    // Let it accept the peers' work in one more window since it (re)started (however long
    // their start or resync takes on a loaded machine), then kill it at a random moment.
    const before = withWork(ledgerDump(ledger));
    await until(`another window with accepted work (${before} so far)`, () => withWork(ledgerDump(ledger)) > before, 120_000, log);
    const closed = ledgerDump(ledger).windows.length - 1;
    const delay = Math.floor(Math.random() * WINDOW_MS);
    await new Promise((r) => setTimeout(r, delay));
    validator.child.kill('SIGKILL');
    await validator.exited;
    snapshots.push(ledgerDump(ledger));
    killedAt.push(`kill ${k + 1}: ${delay} ms after window ${closed} was recorded, ledger at ${snapshots.at(-1)?.windows.length} windows`);
    validator = startValidator();
    await until('the restarted validator resuming from its ledger', () => /resuming at window \d+/.test(validator.output()), 60_000, log);
  }
  // After the last restart: it records more windows, and both peers apply them.
  const resumedAt = ledgerDump(ledger).windows.length;
  const workBefore = withWork(ledgerDump(ledger));
  await until('accepted work after the last restart', () => withWork(ledgerDump(ledger)) > workBefore, 120_000, log);
  await until(
    'both peers applying a window after the last restart',
    () => peers.every((p) => reports(p.report).some((r) => r.window >= resumedAt)),
    60_000,
    log,
  );
  console.log(killedAt.join('\n'));

  const final = ledgerDump(ledger);
  // Windows 0…N, each once, each from the previous one's θ: no window lost or doubled.
  expect(final.windows.map((w) => w.window)).toEqual(final.windows.map((_, i) => i));
  for (let i = 1; i < final.windows.length; i++) expect(final.windows[i].base_hash, `window ${i}`).toBe(final.windows[i - 1].next_hash);
  // Everything recorded before each kill is still there, unchanged.
  for (const s of snapshots) {
    expect(final.windows.slice(0, s.windows.length)).toEqual(s.windows);
    const now = new Map(final.verdicts.map((v) => [v.id, v]));
    for (const v of s.verdicts) expect(now.get(v.id)).toEqual(v);
  }
  // Contributions were judged throughout, before and after the kills.
  expect(withWork(final)).toBeGreaterThanOrEqual(KILLS + 1);
  expect(final.windows.slice(resumedAt).some((w) => w.accepted > 0)).toBe(true);
  // Every window a peer applied is the ledger's θ_{w+1}: the swarm followed the resumed manifests.
  const byWindow = new Map(final.windows.map((w) => [w.window, w.next_hash]));
  for (const p of peers) {
    const applied = reports(p.report).filter((r) => byWindow.has(r.window));
    expect(applied.length, p.name).toBeGreaterThanOrEqual(3);
    for (const r of applied) expect(r.hash, `${p.name} window ${r.window}`).toBe(byWindow.get(r.window));
  }
  for (const p of peers) p.proc.child.kill('SIGTERM');
  validator.child.kill('SIGTERM');
  await Promise.all([validator.exited, ...peers.map((p) => p.proc.exited)]);
}, 420_000);
