// The SQLite ledger survives kill -9 at any moment: a validator killed again and again and
// restarted each time ends with exactly the ledger of a run that was never interrupted.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { signManifest } from '../../src/protocol/contribution';
import { ed25519Signer } from '../../src/protocol/keys';
import type { Verdict } from '../../src/validator/gauntlet';
import { Ledger } from '../../src/validator/ledger';
import { HISTORY_LOSS_ROWS } from '../../src/validator/status';
import { seededRandom } from '../support/random';

const CHILD = join(import.meta.dirname, '..', 'support', 'ledgerCrashChild.ts');
// 20 windows still leave room for 3+ kills (the run is mostly process starts, so 40 took no longer).
const WINDOWS = 20;
const PER = 5;

/**
 * Runs the child; with `killAfterMs`, SIGKILLs it that long after it is ready. Resolves with
 * how it ended and how long it worked after being ready.
 */
function runChild(path: string, killAfterMs?: number): Promise<{ end: 'done' | 'killed'; workMs: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, path, String(WINDOWS), String(PER)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let readyAt: number | undefined;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (readyAt === undefined && out.includes('ready')) {
        readyAt = Date.now();
        if (killAfterMs !== undefined) setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      }
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    // A child that hangs is killed before the test's own timeout, so it never outlives the test.
    let hung = false;
    const deadline = setTimeout(() => {
      hung = true;
      child.kill('SIGKILL');
    }, 50_000);
    child.on('exit', (code, signal) => {
      clearTimeout(deadline);
      const workMs = readyAt === undefined ? 0 : Date.now() - readyAt;
      if (hung) reject(new Error(`child still running after 50 s: ${out.slice(-500)} ${err.slice(-500)}`));
      else if (signal === 'SIGKILL') resolve({ end: 'killed', workMs });
      else if (code === 0 && out.includes('done')) resolve({ end: 'done', workMs });
      else reject(new Error(`child exited ${code}: ${err}`));
    });
  });
}

/** Everything the ledger decided, without wall-clock fields. */
function dump(path: string): Record<string, unknown[]> {
  const db = new Database(path, { readonly: true });
  try {
    return {
      contributions: db
        .prepare(
          'SELECT id, window, address, key, payload_bytes, status, code, reason, score_random, score_own, pow_t, tokens, train_loss FROM contributions ORDER BY id',
        )
        .all(),
      windows: db
        .prepare(
          'SELECT window, base_hash, next_hash, accepted, rejected, hex(manifest) AS manifest, val_loss, train_loss, tokens, bytes, dense_bytes, peers, duration_ms, online FROM windows ORDER BY window',
        )
        .all(),
      standings: db.prepare('SELECT * FROM standings ORDER BY address').all(),
      weights: db.prepare('SELECT * FROM weights ORDER BY window, address').all(),
      state: db.prepare("SELECT key, hex(value) AS value FROM state WHERE key != 'run' ORDER BY key").all(),
    };
  } finally {
    db.close();
  }
}

describe('validator ledger', () => {
  it('after kill -9 at random moments and restarts, holds exactly what an uninterrupted run holds', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-ledger-'));
    const reference = join(dir, 'reference.sqlite');
    const whole = await runChild(reference);
    expect(whole.end).toBe('done');

    // Kills land within the first quarter of an uninterrupted run's work, so however fast this
    // machine is, three restarts cannot finish the job: at least three kills happen.
    const crashed = join(dir, 'crashed.sqlite');
    const random = seededRandom(4);
    const span = Math.min(250, whole.workMs / 4);
    let kills = 0;
    let done = false;
    // Eight kills at random moments, then one run left to finish: how far each killed run got
    // depends on the machine's load, so finishing must not depend on the kills' luck.
    while (!done && kills < 8) {
      done = (await runChild(crashed, Math.floor(random() * span))).end === 'done';
      if (!done) kills++;
    }
    if (!done) expect((await runChild(crashed)).end).toBe('done');
    expect(kills).toBeGreaterThanOrEqual(3);
    const want = dump(reference);
    const got = dump(crashed);
    expect(got.contributions).toHaveLength(WINDOWS * PER); // none lost, none twice (ids are keys)
    expect(got.windows).toHaveLength(WINDOWS);
    expect(got).toEqual(want); // standings were updated exactly once per window
    const ledger = new Ledger(crashed, 'crash-run');
    expect(ledger.resume()?.window).toBe(WINDOWS);
    expect(ledger.status().addresses).toHaveLength(PER);
    ledger.close();
    expect(() => new Ledger(crashed, 'another-run')).toThrow(/belongs to run crash-run/);
  }, 300_000);

  it('serves per-window history for the charts, and upgrades a ledger written before those columns', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'tessera-history-')), 'old.sqlite');
    // The schema as the first release wrote it, with one closed window.
    const old = new Database(path);
    old.exec(`CREATE TABLE contributions (id TEXT PRIMARY KEY, window INTEGER NOT NULL, address TEXT NOT NULL, key TEXT NOT NULL, payload_bytes INTEGER NOT NULL, arrived_at INTEGER NOT NULL, header BLOB NOT NULL, status TEXT NOT NULL DEFAULT 'pending', code TEXT, reason TEXT, score_random REAL, score_own REAL, pow_t REAL, norm REAL);
      CREATE TABLE windows (window INTEGER PRIMARY KEY, base_hash TEXT NOT NULL, next_hash TEXT NOT NULL, accepted INTEGER NOT NULL, rejected INTEGER NOT NULL, manifest BLOB NOT NULL, closed_at INTEGER NOT NULL);
      CREATE TABLE state (key TEXT PRIMARY KEY, value BLOB NOT NULL);
      INSERT INTO state VALUES ('run', CAST('hist' AS BLOB));
      INSERT INTO windows VALUES (0, 'aa', 'bb', 1, 0, x'00', 5);`);
    old.close();
    const ledger = new Ledger(path, 'hist');
    const verdict = (id: string, address: string, accepted: boolean, trainLoss: number): Verdict => ({
      id,
      address,
      key: id,
      payloadBytes: 1000,
      tokens: 640,
      steps: 10,
      trainLoss,
      arrivedAt: 1,
      accepted,
      code: accepted ? 'accepted' : 'copy',
      reason: 'test',
      earns: false,
    });
    const manifest = (w: number): ReturnType<typeof signManifest> =>
      signManifest(
        { runId: 'hist', window: w, baseHash: new Uint8Array(32), accepted: [], outerLr: 1, nextHash: new Uint8Array(32).fill(w) },
        ed25519Signer(new Uint8Array(32).fill(5)),
      );
    const close = (w: number, verdicts: Verdict[], valLoss: number | null): boolean =>
      ledger.closeWindow({
        window: w,
        manifest: manifest(w),
        verdicts,
        next: new Float32Array(2),
        standings: new Map(),
        weights: [],
        closedAt: 100 + w,
        stats: { valLoss, durationMs: 8000, denseBytesPerUpdate: 40_000, online: w === 1 ? 4 : null },
      });
    expect(close(1, [verdict('a1', 'A', true, 3.0), verdict('b1', 'B', true, 3.5), verdict('c1', 'C', false, 1.0), verdict('a1x', 'A', true, 0)], 3.4)).toBe(
      true,
    );
    expect(close(2, [verdict('a2', 'A', true, 2.5)], null)).toBe(true);

    const all = ledger.history();
    expect(all.windows.map((w) => w.window)).toEqual([0, 1, 2]);
    // The pre-upgrade window reads as unmeasured, not as zeros that would draw a false curve.
    expect(all.windows[0]).toMatchObject({ valLoss: null, trainLoss: null, tokens: 0, peers: 0, online: null });
    // Window 1: three accepted (one without a reported loss), one copy refused; three addresses.
    expect(all.windows[1]).toEqual({
      window: 1,
      closedAt: 101,
      accepted: 3,
      rejected: 1,
      valLoss: 3.4,
      trainLoss: 3.25,
      tokens: 1920,
      bytes: 3000,
      denseBytes: 120_000,
      peers: 3,
      durationMs: 8000,
      online: 4,
    });
    expect(all.windows[2]).toMatchObject({ valLoss: null, trainLoss: 2.5, peers: 1 });
    // Only accepted contributions that reported a loss: the refused copy's claim is not charted.
    expect(all.losses).toEqual([
      { window: 1, address: 'A', trainLoss: 3 },
      { window: 1, address: 'B', trainLoss: 3.5 },
      { window: 2, address: 'A', trainLoss: 2.5 },
    ]);
    const later = ledger.history(1);
    expect(later.windows.map((w) => w.window)).toEqual([2]);
    expect(later.losses).toEqual([{ window: 2, address: 'A', trainLoss: 2.5 }]);
    expect(ledger.history(2)).toEqual({ windows: [], losses: [], more: false });
    expect(ledger.history(-1).more).toBe(false);
    expect(ledger.history(0).more).toBe(false);
    // One address's record by window, for its Wallet page.
    expect(ledger.addressHistory('A').windows).toEqual([
      { window: 1, accepted: 2, rejected: 0, score: null, powT: null, codes: ['accepted'] },
      { window: 2, accepted: 1, rejected: 0, score: null, powT: null, codes: ['accepted'] },
    ]);
    expect(ledger.addressHistory('C').windows).toEqual([{ window: 1, accepted: 0, rejected: 1, score: null, powT: null, codes: ['copy'] }]);
    expect(ledger.addressHistory('nobody').windows).toEqual([]);
    ledger.close();
  });

  it('keeps the credited-work average and an unjudged evidence block across a restart, and upgrades older standings', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'tessera-work-')), 'ledger.sqlite');
    const old = new Database(path);
    old.exec(`CREATE TABLE standings (address TEXT PRIMARY KEY, mu REAL NOT NULL, sigma REAL NOT NULL, pow_ema REAL NOT NULL, score_ema REAL NOT NULL, windows INTEGER NOT NULL, last_window INTEGER NOT NULL);
      CREATE TABLE state (key TEXT PRIMARY KEY, value BLOB NOT NULL);
      INSERT INTO state VALUES ('run', CAST('work' AS BLOB));
      INSERT INTO standings VALUES ('old', 25, 8, 0.2, 0.01, 1, 0);`);
    old.close();
    let ledger = new Ledger(path, 'work');
    expect(ledger.standings().get('old')).toMatchObject({ powEma: 0.2, workEma: 0 });
    expect(ledger.standings().get('old')?.pending).toBeUndefined();
    const pending = { windows: 1, work: 8, tested: 2, traced: 2, pages: 8, zSum: 9.3 };
    const standing = { address: 'slow', mu: 26, sigma: 7, powEma: 0.2, scoreEma: 0.01, windows: 3, lastWindow: 2, workEma: 3.2, pending };
    const manifest = signManifest(
      { runId: 'work', window: 0, baseHash: new Uint8Array(32), accepted: [], outerLr: 1, nextHash: new Uint8Array(32).fill(1) },
      ed25519Signer(new Uint8Array(32).fill(5)),
    );
    ledger.closeWindow({
      window: 0,
      manifest,
      verdicts: [],
      next: new Float32Array(2),
      standings: new Map([['slow', standing]]),
      weights: [],
      closedAt: 1,
      stats: { valLoss: 3, durationMs: 1000, denseBytesPerUpdate: 40, online: 1 },
    });
    ledger.close();
    ledger = new Ledger(path, 'work');
    expect(ledger.standings().get('slow')).toEqual(standing);
    // The status API shows both: the verified work, and that a block of evidence is pending.
    expect(ledger.status().addresses.find((a) => a.address === 'slow')).toMatchObject({ workEma: 3.2, gathering: 1 });
    expect(ledger.status().addresses.find((a) => a.address === 'old')).toMatchObject({ workEma: 0, gathering: 0 });
    ledger.close();
  });

  it('ends a history page early when 100+ peers would make it too large for the relay', () => {
    const ledger = new Ledger(join(mkdtempSync(join(tmpdir(), 'tessera-rows-')), 'rows.sqlite'), 'rows');
    const manifest = (w: number): ReturnType<typeof signManifest> =>
      signManifest(
        { runId: 'rows', window: w, baseHash: new Uint8Array(32), accepted: [], outerLr: 1, nextHash: new Uint8Array(32).fill(w) },
        ed25519Signer(new Uint8Array(32).fill(5)),
      );
    const perWindow = Math.ceil(HISTORY_LOSS_ROWS * 0.6);
    for (let w = 0; w < 3; w++) {
      const verdicts = Array.from({ length: perWindow }, (_, i): Verdict => ({
        id: `${w}-${i}`,
        address: `A${i}`,
        key: `${i}`,
        payloadBytes: 10,
        tokens: 64,
        steps: 1,
        trainLoss: 3,
        arrivedAt: 1,
        accepted: true,
        code: 'accepted',
        reason: 'test',
        earns: false,
      }));
      ledger.closeWindow({
        window: w,
        manifest: manifest(w),
        verdicts,
        next: new Float32Array(2),
        standings: new Map(),
        weights: [],
        closedAt: w,
        stats: { valLoss: 3, durationMs: 1000, denseBytesPerUpdate: 40, online: perWindow },
      });
    }
    // Each window has 0.6 × the row budget: one window per page, and `more` until the last.
    const pages = [ledger.history(-1), ledger.history(0), ledger.history(1)];
    expect(pages.map((p) => p.windows.map((w) => w.window))).toEqual([[0], [1], [2]]);
    expect(pages.map((p) => p.more)).toEqual([true, true, false]);
    expect(pages.every((p) => p.losses.length === perWindow)).toBe(true);
    ledger.close();
  });
});
