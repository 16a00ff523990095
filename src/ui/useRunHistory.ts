// The run's per-window series for the dashboard's charts: fetched incrementally from
// /api/status/history (only windows after the last one held), checked field by field, kept
// outside React state so a poll that brings nothing new renders nothing.
import { useRef, useState } from 'react';
import { fetchJson } from './fetchJson';
import { usePolling } from './usePolling';
import { ADDRESS_HISTORY_WINDOWS, HISTORY_LOSS_ROWS, HISTORY_PAGE, type AddressHistory, type History, type WindowPoint } from '../validator/status';

export interface RunHistory {
  windows: readonly WindowPoint[];
  /** Reported training loss by address, then window. */
  losses: ReadonlyMap<string, ReadonlyMap<number, number>>;
}

const REFRESH_MS = 5000;
/** A peer or a validator could send anything; a chart keeps this many windows at most. */
const MAX_WINDOWS = 200_000;
/**
 * Per-peer losses are kept for this many addresses (the busiest so far): the chart draws
 * eight, and 100+ peers × tens of thousands of windows would not fit in a tab's memory.
 */
export const KEPT_PEER_SERIES = 32;

export class HistoryFormatError extends Error {}

const num = (v: unknown, what: string): number => {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new HistoryFormatError(`${what} is not a finite number`);
  return v;
};
const numOrNull = (v: unknown, what: string): number | null => (v === null ? null : num(v, what));

/** Checks a /status/history answer; throws HistoryFormatError naming the first bad field. */
export function parseHistory(value: unknown): History {
  const o = value as Partial<Record<keyof History, unknown>> | null;
  if (typeof o !== 'object' || o === null || !Array.isArray(o.windows) || !Array.isArray(o.losses))
    throw new HistoryFormatError('history needs windows and losses arrays');
  if (typeof o.more !== 'boolean') throw new HistoryFormatError('history needs a boolean "more"');
  if (o.losses.length > 2 * HISTORY_LOSS_ROWS) throw new HistoryFormatError(`history holds ${o.losses.length} loss rows, over ${2 * HISTORY_LOSS_ROWS}`);
  if (o.windows.length > HISTORY_PAGE) throw new HistoryFormatError(`history holds ${o.windows.length} windows, over ${HISTORY_PAGE}`);
  const windows = o.windows.map((raw: unknown, i): WindowPoint => {
    const w = (raw ?? {}) as Record<string, unknown>;
    const at = `windows[${i}]`;
    return {
      window: num(w.window, `${at}.window`),
      closedAt: num(w.closedAt, `${at}.closedAt`),
      accepted: num(w.accepted, `${at}.accepted`),
      rejected: num(w.rejected, `${at}.rejected`),
      valLoss: numOrNull(w.valLoss, `${at}.valLoss`),
      trainLoss: numOrNull(w.trainLoss, `${at}.trainLoss`),
      tokens: num(w.tokens, `${at}.tokens`),
      bytes: num(w.bytes, `${at}.bytes`),
      denseBytes: num(w.denseBytes, `${at}.denseBytes`),
      peers: num(w.peers, `${at}.peers`),
      durationMs: num(w.durationMs, `${at}.durationMs`),
      online: numOrNull(w.online ?? null, `${at}.online`),
    };
  });
  const losses = o.losses.map((raw: unknown, i) => {
    const l = (raw ?? {}) as Record<string, unknown>;
    if (typeof l.address !== 'string' || l.address.length > 64) throw new HistoryFormatError(`losses[${i}].address is not an address`);
    return { window: num(l.window, `losses[${i}].window`), address: l.address, trainLoss: num(l.trainLoss, `losses[${i}].trainLoss`) };
  });
  return { windows, losses, more: o.more };
}

/** Checks a /status/address answer the same way. */
export function parseAddressHistory(value: unknown): AddressHistory {
  const o = value as { address?: unknown; windows?: unknown } | null;
  if (typeof o !== 'object' || o === null || typeof o.address !== 'string' || !Array.isArray(o.windows))
    throw new HistoryFormatError('address history needs an address and a windows array');
  if (o.windows.length > ADDRESS_HISTORY_WINDOWS)
    throw new HistoryFormatError(`address history holds ${o.windows.length} windows, over ${ADDRESS_HISTORY_WINDOWS}`);
  const windows = o.windows.map((raw: unknown, i) => {
    const w = (raw ?? {}) as Record<string, unknown>;
    const at = `windows[${i}]`;
    if (!Array.isArray(w.codes) || !w.codes.every((c) => typeof c === 'string' && c.length <= 40))
      throw new HistoryFormatError(`${at}.codes is not a list of verdict codes`);
    return {
      window: num(w.window, `${at}.window`),
      accepted: num(w.accepted, `${at}.accepted`),
      rejected: num(w.rejected, `${at}.rejected`),
      score: numOrNull(w.score, `${at}.score`),
      powT: numOrNull(w.powT, `${at}.powT`),
      codes: w.codes as string[],
    };
  });
  return { address: o.address, windows };
}

/** Appends a page of history to what is held (windows already held are skipped). */
export function appendHistory(held: { windows: WindowPoint[]; losses: Map<string, Map<number, number>> }, page: History): number {
  const last = held.windows.at(-1)?.window ?? -1;
  const fresh = page.windows.filter((w) => w.window > last).sort((a, b) => a.window - b.window);
  held.windows.push(...fresh);
  if (held.windows.length > MAX_WINDOWS) held.windows.splice(0, held.windows.length - MAX_WINDOWS);
  for (const l of page.losses) {
    if (l.window <= last) continue;
    let byWindow = held.losses.get(l.address);
    if (!byWindow) held.losses.set(l.address, (byWindow = new Map()));
    byWindow.set(l.window, l.trainLoss);
  }
  if (held.losses.size > KEPT_PEER_SERIES) {
    const quiet = [...held.losses.entries()].sort((a, b) => b[1].size - a[1].size || a[0].localeCompare(b[0])).slice(KEPT_PEER_SERIES);
    for (const [address] of quiet) held.losses.delete(address);
  }
  return fresh.length;
}

export function useRunHistory(): { history: RunHistory; error?: string } {
  const [view, setView] = useState<{ history: RunHistory; error?: string }>({ history: { windows: [], losses: new Map() } });
  // `changes` counts windows appended, `rendered` how many of those the view shows: a poll whose
  // answer is no longer wanted (React's StrictMode runs effects twice) may still have appended
  // windows, and the next poll must draw them even though it finds nothing new itself.
  const held = useRef({ windows: [] as WindowPoint[], losses: new Map<string, Map<number, number>>(), failing: false, changes: 0, rendered: 0 });
  usePolling(async (active) => {
    const h = held.current;
    try {
      // Catch up page by page (a viewer arriving late in a long run), then wait for new windows.
      for (let page = 0; page < 100 && active(); page++) {
        const got = parseHistory(await fetchJson(`/api/status/history?after=${h.windows.at(-1)?.window ?? -1}`));
        h.changes += appendHistory(h, got);
        if (!got.more) break;
      }
      // A new object only when something changed: the charts' setData runs once per new window.
      if (active() && (h.changes !== h.rendered || h.failing)) {
        setView({ history: { windows: h.windows.slice(), losses: new Map(h.losses) } });
        h.rendered = h.changes;
        h.failing = false;
      }
    } catch (err) {
      if (!active()) return;
      h.failing = true;
      setView((v) => ({ history: v.history, error: err instanceof Error ? err.message : String(err) }));
    }
  }, REFRESH_MS);
  return view;
}
