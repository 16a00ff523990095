// What this browser has done for a run, kept across reloads (localStorage): tokens trained and
// windows contributed, accepted and refused. Each window counts once, however often it is reported.
export interface BrowserTotals {
  tokens: number;
  windows: number;
  accepted: number;
  refused: number;
  /** The newest window counted: a report for it or an older one changes nothing. */
  lastWindow: number;
}

const KEY = 'tessera.totals.v1';
export const NO_TOTALS: BrowserTotals = { tokens: 0, windows: 0, accepted: 0, refused: 0, lastWindow: -1 };

const count = (v: unknown): number => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : 0);

function readAll(storage: Pick<Storage, 'getItem'>): Record<string, BrowserTotals> {
  try {
    const raw = JSON.parse(storage.getItem(KEY) ?? '{}') as unknown;
    return raw && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, BrowserTotals>) : {};
  } catch {
    return {};
  }
}

/** This run's totals, each field checked (a hand-edited value reads as 0). */
export function loadTotals(runId: string, storage: Pick<Storage, 'getItem'> = localStorage): BrowserTotals {
  const t = readAll(storage)[runId] as Partial<Record<keyof BrowserTotals, unknown>> | undefined;
  if (!t) return NO_TOTALS;
  const lastWindow = typeof t.lastWindow === 'number' && Number.isSafeInteger(t.lastWindow) ? t.lastWindow : -1;
  return { tokens: count(t.tokens), windows: count(t.windows), accepted: count(t.accepted), refused: count(t.refused), lastWindow };
}

/** Adds one window's report (once per window) and returns the new totals. */
export function addWindow(
  runId: string,
  report: { window: number; tokens: number; contributed: boolean; included: boolean },
  storage: Pick<Storage, 'getItem' | 'setItem'> = localStorage,
): BrowserTotals {
  const before = loadTotals(runId, storage);
  if (report.window <= before.lastWindow) return before;
  const after: BrowserTotals = {
    tokens: before.tokens + (report.contributed ? report.tokens : 0),
    windows: before.windows + (report.contributed ? 1 : 0),
    accepted: before.accepted + (report.contributed && report.included ? 1 : 0),
    refused: before.refused + (report.contributed && !report.included ? 1 : 0),
    lastWindow: report.window,
  };
  storage.setItem(KEY, JSON.stringify({ ...readAll(storage), [runId]: after }));
  return after;
}
