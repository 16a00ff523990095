// A real validator ledger with closed windows behind the validator's status API and the app
// server's relay, forwarded to a page's /api/*: the answers the dashboard and Wallet page read.
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { createAppServer } from '../../server/appServer';
import { serveStatus } from '../../server/validatorStatus';
import { fromHex } from '../../src/protocol/bytes';
import { signContribution, signManifest } from '../../src/protocol/contribution';
import { ed25519Signer } from '../../src/protocol/keys';
import type { RunConfig } from '../../src/protocol/runConfig';
import type { Verdict, VerdictCode } from '../../src/validator/gauntlet';
import { Ledger } from '../../src/validator/ledger';
import type { Standing } from '../../src/validator/ratings';
import { standingsAfter } from '../../src/validator/windowStandings';
import { relay } from './relay';

/** One contribution's verdict: scored when `score` is set, else refused with `code`. */
export interface Entry {
  address: string;
  score?: number;
  code?: VerdictCode;
  reason?: string;
  trainLoss?: number;
  payloadBytes: number;
  tokens: number;
}

export interface FixtureWindow {
  window: number;
  /** Arrival order: later entries arrived later. */
  entries: Entry[];
  valLoss: number;
  nextHash: string;
  denseBytesPerUpdate: number;
}

export interface LedgerApi {
  ledger: Ledger;
  /** `after` of every history request the page made, in order. */
  historyAsked: string[];
  /** Holds the page's reads of one address's record until the returned function is called. */
  holdAddress(address: string): () => void;
  /** Stops or restarts the validator's status API (the relay then answers 502, as in production). */
  stopValidator(): Promise<void>;
  startValidator(): Promise<void>;
  close(): Promise<void>;
}

const listen = (server: Server): Promise<number> =>
  new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
/** The validator's status API (it listens by itself) on `port`, once it is listening. */
const statusApi = (ledger: Ledger, port: number): Promise<Server> =>
  new Promise((resolve, reject) => {
    const server = serveStatus(ledger, port, '127.0.0.1');
    server.once('error', reject);
    server.once('listening', () => resolve(server));
  });
const closeServer = (server: Server): Promise<void> => new Promise((resolve) => server.close(() => resolve()));

/** Closes each window in the ledger as the validator would: verdicts, standings, weights, stats. */
function fill(ledger: Ledger, runId: string, windows: readonly FixtureWindow[]): void {
  const validatorKey = ed25519Signer(new Uint8Array(32).fill(3));
  const earners = new Set<string>();
  let standings: ReadonlyMap<string, Standing> = new Map();
  for (const w of windows) {
    const verdicts: Verdict[] = w.entries.map((e, i) => ({
      id: `${w.window}-${i}-${e.address.slice(0, 8)}`,
      address: e.address,
      key: e.address,
      payloadBytes: e.payloadBytes,
      tokens: e.tokens,
      steps: e.tokens / 64,
      trainLoss: e.trainLoss ?? 0,
      arrivedAt: 1000 * w.window + i,
      accepted: e.score !== undefined,
      code: e.code ?? 'accepted',
      reason: e.reason ?? 'passed every check',
      earns: e.score !== undefined,
      ...(e.score === undefined ? {} : { score: { random: e.score, own: e.score, powT: 5, ownSequences: 32 } }),
    }));
    for (const v of verdicts) if (v.earns) earners.add(v.address);
    const after = standingsAfter(standings, w.window, verdicts, earners);
    standings = after.standings;
    const manifest = signManifest(
      { runId, window: w.window, baseHash: new Uint8Array(32), accepted: [], outerLr: 1, nextHash: fromHex(w.nextHash) },
      validatorKey,
    );
    ledger.closeWindow({
      window: w.window,
      manifest,
      verdicts,
      next: new Float32Array(4),
      standings,
      weights: after.weights,
      closedAt: 1000 + w.window,
      stats: { valLoss: w.valLoss, durationMs: 40_000, denseBytesPerUpdate: w.denseBytesPerUpdate, online: 3 },
    });
  }
}

/**
 * The ledger filled with `windows`, plus `pending` contributions received in the open window;
 * the status API and the relay (no caching: each page poll reads the ledger) on loopback.
 */
export async function startLedgerApi(
  page: Page,
  run: RunConfig,
  windows: readonly FixtureWindow[],
  pending: readonly { address: string; payloadBytes: number }[] = [],
): Promise<LedgerApi> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-ledger-api-'));
  const ledger = new Ledger(join(dir, 'ledger.sqlite'), run.runId);
  fill(ledger, run.runId, windows);
  const open = (windows.at(-1)?.window ?? -1) + 1;
  pending.forEach((p, i) => {
    const key = ed25519Signer(new Uint8Array(32).fill(40 + i));
    const c = signContribution(
      {
        runId: run.runId,
        window: open,
        baseHash: new Uint8Array(32),
        payloadHash: new Uint8Array(32),
        payloadBytes: p.payloadBytes,
        peerAddress: p.address,
        steps: 5,
        tokens: 320,
        certificate: new Uint8Array(0),
      },
      key,
    );
    ledger.recordArrival(c, 1000 * open + i);
  });
  let status = await statusApi(ledger, 0);
  const statusPort = (status.address() as AddressInfo).port;
  const app = createAppServer({
    distDir: 'dist',
    run,
    validatorStatus: `http://127.0.0.1:${statusPort}/status`,
    statusRelay: { freshMs: () => 0, staleMs: 0 },
  });
  const appBase = `http://127.0.0.1:${await listen(app)}`;
  const historyAsked: string[] = [];
  const holds = new Map<string, { held: Promise<void>; release: () => void }>();
  await page.route('**/api/**', async (route) => {
    const url = new URL(route.request().url());
    if (url.pathname === '/api/status/history') historyAsked.push(url.searchParams.get('after') ?? '');
    const hold = url.pathname === '/api/status/address' ? holds.get(url.searchParams.get('address') ?? '') : undefined;
    if (hold) await hold.held;
    await relay(route, `${appBase}${url.pathname}${url.search}`);
  });
  return {
    ledger,
    historyAsked,
    holdAddress(address) {
      let release: () => void = () => undefined;
      const held = new Promise<void>((resolve) => (release = resolve));
      holds.set(address, { held, release });
      return () => {
        holds.delete(address);
        release();
      };
    },
    stopValidator: () => closeServer(status),
    async startValidator() {
      status = await statusApi(ledger, statusPort);
    },
    async close() {
      await page.unrouteAll({ behavior: 'ignoreErrors' });
      for (const h of holds.values()) h.release();
      holds.clear();
      await Promise.all([closeServer(app), status.listening ? closeServer(status) : undefined]);
      ledger.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
