// Standing across windows: an openskill rating per address (each scored window is a match
// ranked by score; missing, late and out-of-sync windows rank last), moving averages of the
// proof-of-work indicator and the score, and the weights those give.
import { ordinal, rate, rating } from 'openskill';
import { addEvidence, evidenceProves, MIN_POW_SEQUENCES, type Evidence } from './scoring';

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
  /** Moving average of the work credited per window (inner steps whose proof held; 0 otherwise). */
  workEma: number;
  /** Unit mode: evidence of windows not yet judged (too few own pages so far), and their work. */
  pending?: PendingEvidence;
}

export interface PendingEvidence extends Evidence {
  windows: number;
  work: number;
}

/** A block of evidence is judged once it has this many own pages, or spans this many windows. */
export const MAX_BLOCK_WINDOWS = 4;

/** What one window said about one address. */
export type WindowOutcome =
  | {
      address: string;
      kind: 'scored';
      score: number;
      pow: boolean;
      /** The work it claims (inner steps; 1 when not given), credited only when proven. */
      work?: number;
      /** Unit mode: this window's evidence, pooled with unjudged windows before it is judged. */
      evidence?: Evidence;
    }
  /** Missed the window, was late, trained on a stale model, or was refused for cause. */
  | { address: string; kind: 'penalty' }
  /** Took part but was not scored (not sampled, or a validator that only checks): no change. */
  | { address: string; kind: 'skip' };

export const EMA_ALPHA = 0.2;
/** powEma at or above this: the address proved work recently (one pass lasts three weak windows). */
export const PROVEN_POW_EMA = 0.1;

export function freshStanding(address: string): Standing {
  const r = rating();
  return { address, mu: r.mu, sigma: r.sigma, powEma: 0, scoreEma: 0, windows: 0, lastWindow: -1, workEma: 0 };
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
  const rated =
    all.length >= 2
      ? rate(
          standings.map((s) => [{ mu: s.mu, sigma: s.sigma }]),
          { rank: all.map(rankOf) },
        )
      : standings.map((s) => [{ mu: s.mu, sigma: s.sigma }]);
  all.forEach((o, i) => {
    const s = standings[i];
    const r = rated[i][0];
    const judged = judge(s, o);
    next.set(o.address, {
      address: o.address,
      mu: r.mu,
      sigma: r.sigma,
      powEma: judged.proved === undefined ? s.powEma : ema(s.powEma, judged.proved ? 1 : 0),
      scoreEma: ema(s.scoreEma, o.kind === 'scored' ? o.score : 0),
      windows: s.windows + (o.kind === 'scored' ? 1 : 0),
      lastWindow: o.kind === 'scored' ? window : s.lastWindow,
      workEma: ema(s.workEma, judged.credited),
      ...(judged.pending ? { pending: judged.pending } : {}),
    });
  });
  return next;
}

/**
 * What one outcome proves and credits. Chained mode judges each window alone. Unit mode pools
 * a window's evidence with the unjudged windows before it until the block has enough own pages
 * (a slow device's few pages add up), then judges the block whole: all its work, or none. A
 * long record proves nothing about the next block, and a penalty drops an unjudged one.
 */
function judge(s: Standing, o: WindowOutcome): { proved?: boolean; credited: number; pending?: PendingEvidence } {
  if (o.kind !== 'scored') return { proved: false, credited: 0 };
  const work = o.work ?? 1;
  if (!o.evidence) return { proved: o.pow, credited: o.pow ? work : 0 };
  const block: PendingEvidence = s.pending
    ? { ...addEvidence(s.pending, o.evidence), windows: s.pending.windows + 1, work: s.pending.work + work }
    : { ...o.evidence, windows: 1, work };
  if (block.pages < MIN_POW_SEQUENCES && block.windows < MAX_BLOCK_WINDOWS) return { credited: 0, pending: block };
  const proved = evidenceProves(block);
  return { proved, credited: proved ? block.work : 0 };
}

export function standingOrdinal(s: Standing): number {
  return ordinal({ mu: s.mu, sigma: s.sigma });
}

/**
 * What an address has earned: the work it proved, on average per window, as long as its
 * updates help (a positive average improvement). In proportion to verified work, so 4× the
 * proven steps earn 4×, and scaling an update or claiming tokens earns nothing more.
 */
export function rewardScore(s: Standing): number {
  return s.scoreEma > 0 ? s.workEma : 0;
}
