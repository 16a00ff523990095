// The validator's ledger in SQLite (Node): contributions as they arrive, each window's verdicts,
// standings, weights and the model it ends on, written so `kill -9` at any moment loses nothing
// and counts nothing twice (WAL, synchronous=FULL, one transaction per window).
import Database from 'better-sqlite3';
import { toHex } from '../protocol/bytes';
import type { Contribution, Manifest } from '../protocol/contribution';
import type { Verdict } from './gauntlet';
import { freshStanding, rewardScore, standingOrdinal, type PendingEvidence, type Standing } from './ratings';
import { ADDRESS_HISTORY_WINDOWS, HISTORY_LOSS_ROWS, HISTORY_PAGE, type AddressHistory, type History, type StatusSnapshot } from './status';
import type { AddressWeight } from './weights';

export type { AddressHistory, History, StatusSnapshot, WindowPoint } from './status';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS contributions (
  id TEXT PRIMARY KEY, window INTEGER NOT NULL, address TEXT NOT NULL, key TEXT NOT NULL,
  payload_bytes INTEGER NOT NULL, arrived_at INTEGER NOT NULL, header BLOB NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending', code TEXT, reason TEXT,
  score_random REAL, score_own REAL, pow_t REAL, norm REAL, tokens INTEGER, train_loss REAL);
CREATE INDEX IF NOT EXISTS contributions_window ON contributions(window);
CREATE INDEX IF NOT EXISTS contributions_address ON contributions(address);
CREATE TABLE IF NOT EXISTS windows (
  window INTEGER PRIMARY KEY, base_hash TEXT NOT NULL, next_hash TEXT NOT NULL,
  accepted INTEGER NOT NULL, rejected INTEGER NOT NULL, manifest BLOB NOT NULL, closed_at INTEGER NOT NULL,
  val_loss REAL, train_loss REAL, tokens INTEGER, bytes INTEGER, dense_bytes INTEGER, peers INTEGER, duration_ms INTEGER, online INTEGER);
CREATE TABLE IF NOT EXISTS standings (
  address TEXT PRIMARY KEY, mu REAL NOT NULL, sigma REAL NOT NULL, pow_ema REAL NOT NULL,
  score_ema REAL NOT NULL, windows INTEGER NOT NULL, last_window INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS weights (
  window INTEGER NOT NULL, address TEXT NOT NULL, weight INTEGER NOT NULL, PRIMARY KEY (window, address));
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value BLOB NOT NULL);
`;

/** Columns later versions added: a ledger written before them gains them (NULL in old rows). */
const ADDED_COLUMNS: Record<string, string[]> = {
  contributions: ['tokens INTEGER', 'train_loss REAL'],
  standings: ['work_ema REAL', 'pending TEXT'],
  windows: [
    'val_loss REAL',
    'train_loss REAL',
    'tokens INTEGER',
    'bytes INTEGER',
    'dense_bytes INTEGER',
    'peers INTEGER',
    'duration_ms INTEGER',
    'online INTEGER',
  ],
};

/** What the dashboard charts per window; the ledger derives the rest from the verdicts. */
export interface WindowStats {
  /** Mean loss of θ_{w+1} on the validator's fixed held-out sequences (null: not measured). */
  valLoss: number | null;
  /** Window length (tokens/s = tokens ÷ this). */
  durationMs: number;
  /** Bytes of one uncompressed float32 update (for the compression ratio). */
  denseBytesPerUpdate: number;
  /** Training peers in the signaling room when the window closed (null: unknown). */
  online: number | null;
}

export interface WindowRecord {
  window: number;
  manifest: Manifest;
  verdicts: readonly Verdict[];
  next: Float32Array;
  standings: ReadonlyMap<string, Standing>;
  weights: readonly AddressWeight[];
  closedAt: number;
  stats: WindowStats;
}

type Row = Record<string, unknown>;

/** An unjudged evidence block as this ledger wrote it (JSON), or nothing if absent or malformed. */
function pendingOf(value: unknown): { pending?: PendingEvidence } {
  if (typeof value !== 'string') return {};
  try {
    const p = JSON.parse(value) as PendingEvidence;
    const finite = [p.windows, p.work, p.tested, p.traced, p.pages, p.zSum].every(Number.isFinite);
    return finite ? { pending: p } : {};
  } catch {
    return {};
  }
}

export class Ledger {
  private readonly db: Database.Database;

  constructor(
    path: string,
    private readonly runId: string,
  ) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    // FULL: a commit is on disk before it returns, so a crash right after loses nothing.
    this.db.pragma('synchronous = FULL');
    this.db.exec(SCHEMA);
    this.migrate();
    const run = this.db.prepare('SELECT value FROM state WHERE key = ?').get('run') as { value: Buffer } | undefined;
    if (!run) this.db.prepare('INSERT INTO state (key, value) VALUES (?, ?)').run('run', Buffer.from(runId));
    else if (run.value.toString() !== runId) throw new Error(`ledger ${path} belongs to run ${run.value.toString()}, not ${runId}`);
  }

  private migrate(): void {
    for (const [table, columns] of Object.entries(ADDED_COLUMNS)) {
      const have = new Set((this.db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name));
      for (const column of columns) if (!have.has(column.split(' ')[0])) this.db.exec(`ALTER TABLE ${table} ADD COLUMN ${column}`);
    }
  }

  /** A complete contribution arrived; false if it was already recorded (re-delivery after a restart). */
  recordArrival(c: Contribution, arrivedAt: number): boolean {
    const r = this.db
      .prepare('INSERT OR IGNORE INTO contributions (id, window, address, key, payload_bytes, arrived_at, header) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(toHex(c.id), c.window, c.peerAddress, toHex(c.publicKey), c.payloadBytes, Math.round(arrivedAt), Buffer.from(c.bytes));
    return r.changes === 1;
  }

  /** When each contribution of `window` first arrived (kept across restarts). */
  arrivals(window: number): Map<string, number> {
    const rows = this.db.prepare('SELECT id, arrived_at FROM contributions WHERE window = ?').all(window) as { id: string; arrived_at: number }[];
    return new Map(rows.map((r) => [r.id, r.arrived_at]));
  }

  isClosed(window: number): boolean {
    return this.db.prepare('SELECT 1 FROM windows WHERE window = ?').get(window) !== undefined;
  }

  /** The window to validate next and θ at its start, if this ledger has closed any window. */
  resume(): { window: number; theta: Float32Array } | undefined {
    const w = this.db.prepare('SELECT value FROM state WHERE key = ?').get('window') as { value: Buffer } | undefined;
    const t = this.db.prepare('SELECT value FROM state WHERE key = ?').get('theta') as { value: Buffer } | undefined;
    if (!w || !t) return undefined;
    const theta = new Float32Array(t.value.byteLength / 4);
    new Uint8Array(theta.buffer).set(t.value);
    return { window: Number(w.value.toString()), theta };
  }

  standings(): Map<string, Standing> {
    const rows = this.db.prepare('SELECT * FROM standings').all() as Row[];
    return new Map(
      rows.map((r) => [
        r.address as string,
        {
          ...freshStanding(r.address as string),
          mu: r.mu as number,
          sigma: r.sigma as number,
          powEma: r.pow_ema as number,
          scoreEma: r.score_ema as number,
          windows: r.windows as number,
          lastWindow: r.last_window as number,
          workEma: (r.work_ema as number | null) ?? 0,
          ...pendingOf(r.pending),
        },
      ]),
    );
  }

  /**
   * Everything a window decided, in one transaction: verdicts, standings, weights, the window
   * and θ_{w+1}. A window already recorded is left as it is (returns false).
   */
  closeWindow(rec: WindowRecord): boolean {
    const tx = this.db.transaction((): boolean => {
      if (this.isClosed(rec.window)) return false;
      const insert = this.db.prepare(
        'INSERT OR IGNORE INTO contributions (id, window, address, key, payload_bytes, arrived_at, header) VALUES (?, ?, ?, ?, ?, ?, ?)',
      );
      const update = this.db.prepare(
        'UPDATE contributions SET status = ?, code = ?, reason = ?, score_random = ?, score_own = ?, pow_t = ?, norm = ?, tokens = ?, train_loss = ? WHERE id = ?',
      );
      for (const v of rec.verdicts) {
        insert.run(v.id, rec.window, v.address, v.key, v.payloadBytes, Math.round(v.arrivedAt), Buffer.alloc(0));
        update.run(
          v.accepted ? 'accepted' : 'rejected',
          v.code,
          v.reason,
          v.score?.random ?? null,
          v.score?.own ?? null,
          v.score?.powT ?? null,
          v.norm ?? null,
          v.tokens,
          v.trainLoss > 0 ? v.trainLoss : null,
          v.id,
        );
      }
      const upsert = this.db.prepare(
        'INSERT INTO standings (address, mu, sigma, pow_ema, score_ema, windows, last_window, work_ema, pending) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(address) DO UPDATE SET mu = excluded.mu, sigma = excluded.sigma, pow_ema = excluded.pow_ema, score_ema = excluded.score_ema, windows = excluded.windows, last_window = excluded.last_window, work_ema = excluded.work_ema, pending = excluded.pending',
      );
      for (const s of rec.standings.values())
        upsert.run(s.address, s.mu, s.sigma, s.powEma, s.scoreEma, s.windows, s.lastWindow, s.workEma, s.pending ? JSON.stringify(s.pending) : null);
      const weight = this.db.prepare('INSERT INTO weights (window, address, weight) VALUES (?, ?, ?)');
      for (const w of rec.weights) weight.run(rec.window, w.address, w.weight);
      const accepted = rec.verdicts.filter((v) => v.accepted);
      const reported = accepted.filter((v) => v.trainLoss > 0);
      this.db
        .prepare(
          'INSERT INTO windows (window, base_hash, next_hash, accepted, rejected, manifest, closed_at, val_loss, train_loss, tokens, bytes, dense_bytes, peers, duration_ms, online) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        )
        .run(
          rec.window,
          toHex(rec.manifest.baseHash),
          toHex(rec.manifest.nextHash),
          accepted.length,
          rec.verdicts.length - accepted.length,
          Buffer.from(rec.manifest.bytes),
          Math.round(rec.closedAt),
          rec.stats.valLoss,
          reported.length ? reported.reduce((s, v) => s + v.trainLoss, 0) / reported.length : null,
          accepted.reduce((s, v) => s + v.tokens, 0),
          accepted.reduce((s, v) => s + v.payloadBytes, 0),
          accepted.length * rec.stats.denseBytesPerUpdate,
          new Set(rec.verdicts.map((v) => v.address)).size,
          Math.round(rec.stats.durationMs),
          rec.stats.online,
        );
      const state = this.db.prepare('INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value');
      state.run('window', Buffer.from(String(rec.window + 1)));
      state.run('theta', Buffer.from(rec.next.buffer, rec.next.byteOffset, rec.next.byteLength));
      return true;
    });
    return tx.immediate();
  }

  /** The most recent weights, by address. */
  latestWeights(): Map<string, number> {
    const rows = this.db.prepare('SELECT address, weight FROM weights WHERE window = (SELECT MAX(window) FROM weights)').all() as {
      address: string;
      weight: number;
    }[];
    return new Map(rows.map((r) => [r.address, r.weight]));
  }

  /** Windows after `after` (oldest first, at most HISTORY_PAGE) with the losses peers reported in them. */
  history(after = -1): History {
    const candidates = this.db.prepare('SELECT * FROM windows WHERE window > ? ORDER BY window LIMIT ?').all(after, HISTORY_PAGE) as Row[];
    // Accepted contributions bound a window's loss rows: stop before the page grows too large.
    let budget = HISTORY_LOSS_ROWS;
    const rows = candidates.filter((r, i) => (budget -= r.accepted as number) >= 0 || i === 0);
    const windows = rows.map((r) => ({
      window: r.window as number,
      closedAt: r.closed_at as number,
      accepted: r.accepted as number,
      rejected: r.rejected as number,
      valLoss: (r.val_loss as number | null) ?? null,
      trainLoss: (r.train_loss as number | null) ?? null,
      tokens: (r.tokens as number | null) ?? 0,
      bytes: (r.bytes as number | null) ?? 0,
      denseBytes: (r.dense_bytes as number | null) ?? 0,
      peers: (r.peers as number | null) ?? 0,
      durationMs: (r.duration_ms as number | null) ?? 0,
      online: (r.online as number | null) ?? null,
    }));
    const last = windows.at(-1)?.window ?? after;
    const losses = (
      this.db
        .prepare(
          "SELECT window, address, train_loss FROM contributions WHERE window > ? AND window <= ? AND train_loss IS NOT NULL AND status = 'accepted' ORDER BY window, address",
        )
        .all(after, last) as Row[]
    ).map((r) => ({ window: r.window as number, address: r.address as string, trainLoss: r.train_loss as number }));
    const more = this.db.prepare('SELECT 1 FROM windows WHERE window > ? LIMIT 1').get(last) !== undefined;
    return { windows, losses, more };
  }

  /** An address's decided contributions per window, newest ADDRESS_HISTORY_WINDOWS windows, oldest first. */
  addressHistory(address: string): AddressHistory {
    const rows = this.db
      .prepare(
        `SELECT window, SUM(status = 'accepted') AS a, SUM(status = 'rejected') AS r, AVG(score_random) AS score, MAX(pow_t) AS pow, GROUP_CONCAT(DISTINCT code) AS codes
         FROM contributions WHERE address = ? AND status != 'pending' GROUP BY window ORDER BY window DESC LIMIT ?`,
      )
      .all(address, ADDRESS_HISTORY_WINDOWS) as Row[];
    const windows = rows.reverse().map((r) => ({
      window: r.window as number,
      accepted: Number(r.a),
      rejected: Number(r.r),
      score: (r.score as number | null) ?? null,
      powT: (r.pow as number | null) ?? null,
      codes: String(r.codes ?? '')
        .split(',')
        .filter(Boolean)
        .sort(),
    }));
    return { address, windows };
  }

  status(limit = 50): StatusSnapshot {
    const windows = (this.db.prepare('SELECT * FROM windows ORDER BY window DESC LIMIT ?').all(limit) as Row[]).map((r) => ({
      window: r.window as number,
      accepted: r.accepted as number,
      rejected: r.rejected as number,
      nextHash: r.next_hash as string,
      closedAt: r.closed_at as number,
      valLoss: (r.val_loss as number | null) ?? null,
    }));
    const counts = new Map(
      (this.db.prepare("SELECT address, SUM(status = 'accepted') AS a, SUM(status = 'rejected') AS r FROM contributions GROUP BY address").all() as Row[]).map(
        (r) => [r.address as string, { accepted: Number(r.a), rejected: Number(r.r) }],
      ),
    );
    const weights = this.latestWeights();
    const addresses = [...this.standings().values()]
      .map((s) => ({
        address: s.address,
        ...(counts.get(s.address) ?? { accepted: 0, rejected: 0 }),
        mu: s.mu,
        sigma: s.sigma,
        ordinal: standingOrdinal(s),
        powEma: s.powEma,
        scoreEma: s.scoreEma,
        reward: rewardScore(s),
        weight: weights.get(s.address) ?? 0,
        workEma: s.workEma,
        gathering: s.pending?.windows ?? 0,
      }))
      .sort((a, b) => b.ordinal - a.ordinal);
    const rejections = (
      this.db
        .prepare("SELECT window, id, address, code, reason FROM contributions WHERE status = 'rejected' ORDER BY window DESC, arrived_at DESC LIMIT ?")
        .all(limit) as Row[]
    ).map((r) => ({ window: r.window as number, id: r.id as string, address: r.address as string, code: r.code as string, reason: r.reason as string }));
    const contributions = (
      this.db
        .prepare(
          'SELECT window, id, address, status, code, score_random, pow_t, payload_bytes, tokens FROM contributions ORDER BY window DESC, arrived_at DESC LIMIT ?',
        )
        .all(limit * 4) as Row[]
    ).map((r) => ({
      window: r.window as number,
      id: r.id as string,
      address: r.address as string,
      status: r.status as string,
      code: (r.code as string | null) ?? null,
      scoreRandom: (r.score_random as number | null) ?? null,
      powT: (r.pow_t as number | null) ?? null,
      bytes: r.payload_bytes as number,
      tokens: (r.tokens as number | null) ?? null,
    }));
    return { runId: this.runId, window: this.resume()?.window ?? 0, windows, addresses, rejections, contributions };
  }

  close(): void {
    this.db.close();
  }
}
