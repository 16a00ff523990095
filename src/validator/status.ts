// What a validator publishes about its run (GET /status and /status/history): plain types
// shared by the ledger that writes them and the dashboard that reads them (no SQLite here).

export interface StatusSnapshot {
  runId: string;
  window: number;
  windows: { window: number; accepted: number; rejected: number; nextHash: string; closedAt: number; valLoss: number | null }[];
  addresses: {
    address: string;
    accepted: number;
    rejected: number;
    mu: number;
    sigma: number;
    ordinal: number;
    powEma: number;
    scoreEma: number;
    reward: number;
    weight: number;
    /** Verified inner steps per window (moving average): the work rewards are in proportion to. Absent from validators before 2026-12-04. */
    workEma?: number;
    /** Unit mode: windows of evidence gathered but not yet judged (0: none pending). */
    gathering?: number;
  }[];
  rejections: { window: number; id: string; address: string; code: string; reason: string }[];
  contributions: {
    window: number;
    id: string;
    address: string;
    status: string;
    code: string | null;
    scoreRandom: number | null;
    powT: number | null;
    bytes: number;
    tokens: number | null;
  }[];
}

/** One window as the dashboard's charts want it. */
export interface WindowPoint {
  window: number;
  closedAt: number;
  accepted: number;
  rejected: number;
  valLoss: number | null;
  /** Mean training loss the accepted contributions reported (null: none reported). */
  trainLoss: number | null;
  tokens: number;
  bytes: number;
  denseBytes: number;
  /** Distinct addresses that contributed anything this window. */
  peers: number;
  durationMs: number;
  /** Training peers in the signaling room when the window closed (null: not recorded). */
  online: number | null;
}

export interface History {
  windows: WindowPoint[];
  /** Reported training losses per address and window, for windows in `windows`. */
  losses: { window: number; address: string; trainLoss: number }[];
  /** Later windows exist: ask again after the last one here. */
  more: boolean;
}

/** History answers hold at most this many windows; a client asks again from the last. */
export const HISTORY_PAGE = 2000;
/**
 * …and about this many loss rows (≈ 2 MB of JSON, under the relay's 4 MiB cap): with 100+
 * peers a page ends after fewer windows, but always holds at least one.
 */
export const HISTORY_LOSS_ROWS = 20_000;

/** One address's record, window by window (the Wallet page's score history). */
export interface AddressHistory {
  address: string;
  windows: { window: number; accepted: number; rejected: number; score: number | null; powT: number | null; codes: string[] }[];
}

/** Windows an address history answer covers at most (the newest). */
export const ADDRESS_HISTORY_WINDOWS = 500;

/** SS58 addresses: base58 characters only, so one can be passed on in a URL as is. */
export const ADDRESS_PATTERN = /^[1-9A-HJ-NP-Za-km-z]{40,60}$/;
