// Standing across windows: an openskill rating per address (each scored window is a match
// ranked by score; missing, late and out-of-sync windows rank last), moving averages of the
// proof-of-work indicator and the score, and the weights those give.
import { ordinal, rate, rating } from 'openskill';

export interface Standing {
  address: string;
  mu: number;
  sigma: number;
  /** Moving average of "this window's update passed proof of work" (1) or not (0). */
  powEma: number;
  /** Moving average of the relative loss improvement on random pages (penalties count 0). */
  scoreEma: number;
  windows: number;
  lastWindow: number;
}

/** What one window said about one address. */
export type WindowOutcome =
  | { address: string; kind: 'scored'; score: number; pow: boolean }
  /** Missed the window, was late, trained on a stale model, or was refused for cause. */
  | { address: string; kind: 'penalty' }
  /** Took part but was not scored (not sampled, or a validator that only checks): no change. */
  | { address: string; kind: 'skip' };

export const EMA_ALPHA = 0.2;
/** powEma at or above this: the address proved work recently (one pass lasts three weak windows). */
export const PROVEN_POW_EMA = 0.1;

export function freshStanding(address: string): Standing {
  const r = rating();
  return { address, mu: r.mu, sigma: r.sigma, powEma: 0, scoreEma: 0, windows: 0, lastWindow: -1 };
}

const ema = (prev: number, x: number): number => (1 - EMA_ALPHA) * prev + EMA_ALPHA * x;

/**
 * The standings after `window`. Scored outcomes are ranked by score (ties share a rank);
 * penalties share the last rank. Known addresses with no outcome are penalised as missing;
 * 'skip' leaves an address as it was (a newcomer starts fresh).
 */
export function updateStandings(prev: ReadonlyMap<string, Standing>, window: number, outcomes: readonly WindowOutcome[]): Map<string, Standing> {
  const next = new Map(prev);
  const seen = new Set(outcomes.map((o) => o.address));
  const missing = [...prev.keys()].filter((a) => !seen.has(a)).map((address): WindowOutcome => ({ address, kind: 'penalty' }));
  const all = [...outcomes.filter((o) => o.kind !== 'skip'), ...missing];
  for (const o of outcomes) if (o.kind === 'skip' && !next.has(o.address)) next.set(o.address, freshStanding(o.address));
  const scores = [...new Set(all.flatMap((o) => (o.kind === 'scored' ? [o.score] : [])))].sort((a, b) => b - a);
  const rankOf = (o: WindowOutcome): number => (o.kind === 'scored' ? scores.indexOf(o.score) + 1 : scores.length + 1);
  const standings = all.map((o) => prev.get(o.address) ?? freshStanding(o.address));
  // A match needs two sides; a lone participant keeps its rating.
  const rated = all.length >= 2 ? rate(standings.map((s) => [{ mu: s.mu, sigma: s.sigma }]), { rank: all.map(rankOf) }) : standings.map((s) => [{ mu: s.mu, sigma: s.sigma }]);
  all.forEach((o, i) => {
    const s = standings[i];
    const r = rated[i][0];
    next.set(o.address, {
      address: o.address,
      mu: r.mu,
      sigma: r.sigma,
      powEma: ema(s.powEma, o.kind === 'scored' && o.pow ? 1 : 0),
      scoreEma: ema(s.scoreEma, o.kind === 'scored' ? o.score : 0),
      windows: s.windows + (o.kind === 'scored' ? 1 : 0),
      lastWindow: o.kind === 'scored' ? window : s.lastWindow,
    });
  });
  return next;
}

export function standingOrdinal(s: Standing): number {
  return ordinal({ mu: s.mu, sigma: s.sigma });
}

/**
 * What an address has earned: its average improvement, discounted by how often it proved it
 * trained on its own pages. Rewards follow useful, verifiable work; ratings order the table.
 */
export function rewardScore(s: Standing): number {
  return Math.max(0, s.scoreEma) * s.powEma;
}
