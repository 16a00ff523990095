// The SQLite ledger survives kill -9 at any moment: a validator killed again and again and
// restarted each time ends with exactly the ledger of a run that was never interrupted.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { Ledger } from '../../src/validator/ledger';
import { seededRandom } from '../support/random';

const CHILD = join(import.meta.dirname, '..', 'support', 'ledgerCrashChild.ts');
const WINDOWS = 40;
const PER = 5;

/** Runs the child; with `killAfterMs`, SIGKILLs it that long after it is ready. Resolves with how it ended. */
function runChild(path: string, killAfterMs?: number): Promise<'done' | 'killed'> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, path, String(WINDOWS), String(PER)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (killAfterMs !== undefined && out.includes('ready')) setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve('killed');
      else if (code === 0 && out.includes('done')) resolve('done');
      else reject(new Error(`child exited ${code}: ${err}`));
    });
  });
}

/** Everything the ledger decided, without wall-clock fields. */
function dump(path: string): Record<string, unknown[]> {
  const db = new Database(path, { readonly: true });
  try {
    return {
      contributions: db.prepare('SELECT id, window, address, key, payload_bytes, status, code, reason, score_random, score_own, pow_t FROM contributions ORDER BY id').all(),
      windows: db.prepare('SELECT window, base_hash, next_hash, accepted, rejected, hex(manifest) AS manifest FROM windows ORDER BY window').all(),
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
    expect(await runChild(reference)).toBe('done');

    const crashed = join(dir, 'crashed.sqlite');
    const random = seededRandom(4);
    let kills = 0;
    for (let attempt = 0; attempt < 60; attempt++) {
      if ((await runChild(crashed, Math.floor(random() * 250))) === 'done') break;
      kills++;
    }
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
});
