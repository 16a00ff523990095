// Scoring one contribution by the loss it removes: per-sequence losses before and after its
// (median-clipped, outer-lr-scaled) update, on its own data pages and on random pages.
import { applySparseOuterStep, updateNorm } from '../compress/outerStep';
import type { SparseUpdate } from '../compress/sparseloco';

/** Cross-entropy per sequence (mean over its tokens) of θ on each page offset. */
export interface LossProbe {
  perSequence(theta: Float32Array, offsets: Uint32Array): Promise<Float64Array>;
}

export interface ScoreOptions {
  theta: Float32Array;
  update: SparseUpdate;
  /** The window's median update norm: larger updates are scaled down to it, as in the outer step. */
  clipNorm: number;
  outerLr: number;
  /** The pages the peer was assigned (recomputed from its address and the window). */
  ownPages: Uint32Array;
  randomPages: Uint32Array;
  /** θ's losses on `randomPages`, shared by every candidate of the window. */
  randomBefore: Float64Array;
}

export interface Score {
  /** Mean relative loss improvement on random pages: the update's value to everyone. */
  random: number;
  /** The same on the peer's own pages. */
  own: number;
  /**
   * Welch's t of own-page against random-page per-sequence improvements: an update trained on
   * its assigned pages lowers their loss more than other text's. One window's mean difference
   * is small and noisy at small scale; the t statistic weighs it by its own spread.
   */
  powT: number;
  /** How many own-page sequences the statistic rests on. */
  ownSequences: number;
  /** Unit mode: units the contribution claims, and how many of their receipts were tested. */
  units?: number;
  unitsTested?: number;
  /** Tested units whose own pages improved more than their share of random pages did. */
  unitsWithTrace?: number;
  /** Unit mode: this window's evidence, in a form that pools across windows. */
  evidence?: Evidence;
  /** Unit mode: cosine of the update with the mean of all its receipts (receiptAgreement). */
  agreement?: number;
}

/** The sum of a contribution's receipts, sparse: a 124M-parameter dense vector never exists here. */
export function receiptSum(receipts: readonly SparseUpdate[]): Map<number, number> {
  const sum = new Map<number, number>();
  for (const r of receipts) for (let i = 0; i < r.indices.length; i++) sum.set(r.indices[i], (sum.get(r.indices[i]) ?? 0) + r.values[i]);
  return sum;
}

/**
 * Cosine of the update a contribution asks the swarm to apply with the sum of receipts (its
 * own: receiptAgreement). An honest update is the mean of all its units, so it points where
 * they do; receipts of real work joined to some other update (poisoned, or another's) do not.
 */
export function receiptAgreement(update: SparseUpdate, sum: ReadonlyMap<number, number>): number {
  let dot = 0;
  let uu = 0;
  for (let i = 0; i < update.indices.length; i++) {
    dot += update.values[i] * (sum.get(update.indices[i]) ?? 0);
    uu += update.values[i] ** 2;
  }
  let rr = 0;
  for (const v of sum.values()) rr += v * v;
  return uu > 0 && rr > 0 ? dot / Math.sqrt(uu * rr) : 0;
}

/**
 * Evidence of work as sums that add across windows (src/validator/ratings.ts pools them):
 * Stouffer's Σ √n·z over Σ n own pages, z each window's Welch t as a normal deviate. It is
 * free of scale, so a window whose texts all barely move (θ_0, the learning-rate warm-up)
 * counts by its pages, not by its tiny spread, and cannot drown a clear window.
 */
export interface Evidence {
  /** Own pages the evidence rests on. */
  pages: number;
  zSum: number;
  tested: number;
  traced: number;
}

export function addEvidence(a: Evidence, b: Evidence): Evidence {
  return { pages: a.pages + b.pages, zSum: a.zSum + b.zSum, tested: a.tested + b.tested, traced: a.traced + b.traced };
}

/** One window's evidence from its per-sequence improvements on own and random pages. */
export function windowEvidence(own: Float64Array, random: Float64Array, tested: number, traced: number): Evidence {
  const a = variance(own, mean(own)) / own.length;
  const b = variance(random, mean(random)) / random.length;
  // Welch–Satterthwaite degrees of freedom: a t from 4 own pages has tails far heavier than
  // a normal's, and pooled as if normal it let a cheater through by chance (bench:pow).
  const df = (a + b) ** 2 / ((a * a) / (own.length - 1) + (b * b) / (random.length - 1));
  const z = own.length > 1 && random.length > 1 && a + b > 0 ? tToZ(welchT(own, random), df) : 0;
  return { pages: own.length, zSum: Math.sqrt(own.length) * z, tested, traced };
}

/**
 * A t with `df` degrees of freedom as the normal deviate of about the same tail (Bailey's
 * approximation, z = t(1 − 1/4ν)/√(1 + t²/2ν)), so windows of few pages pool as z-scores.
 */
export function tToZ(t: number, df: number): number {
  if (!Number.isFinite(df) || df <= 0) return 0;
  return (t * (1 - 1 / (4 * df))) / Math.sqrt(1 + (t * t) / (2 * df));
}

/** The pooled z: Σ(√n·z)/√Σn over windows, each window's Welch t turned into its z. */
export function evidenceT(e: Evidence): number {
  return e.pages > 0 ? e.zSum / Math.sqrt(e.pages) : 0;
}

/** Whether pooled evidence proves work: t, enough own pages, and a trace in (nearly) every tested unit. */
export function evidenceProves(e: Evidence): boolean {
  return evidenceT(e) >= POW_T_THRESHOLD && e.pages >= MIN_POW_SEQUENCES && e.tested - e.traced <= allowedUntraced(e.tested);
}

/** t above this counts as proof of work for the window (see docs/VALIDATOR.md for the figures). */
export const POW_T_THRESHOLD = 2.5;

/**
 * Below this many own pages (a peer that managed few steps) the t statistic says nothing: the
 * update is admitted on its improvement and no proof of work is credited (so it earns nothing).
 */
export const MIN_POW_SEQUENCES = 16;

/**
 * Tested units allowed to show no trace: one in eight. A pooled t alone would let a few real
 * units carry receipts of many untrained ones; every tested unit must stand on its own too.
 */
export function allowedUntraced(tested: number): number {
  return Math.floor(tested / 8);
}

/** Whether a score proves the work it claims (docs/VALIDATOR.md, "Proof of work"). */
export function provesWork(s: Score): boolean {
  if (!(s.powT >= POW_T_THRESHOLD) || s.ownSequences < MIN_POW_SEQUENCES) return false;
  if (s.unitsTested === undefined) return true;
  return s.unitsTested - (s.unitsWithTrace ?? 0) <= allowedUntraced(s.unitsTested);
}

export function relativeImprovements(before: Float64Array, after: Float64Array): Float64Array {
  return before.map((b, i) => (b - after[i]) / b);
}

function mean(x: Float64Array): number {
  let s = 0;
  for (const v of x) s += v;
  return s / x.length;
}

function variance(x: Float64Array, mu: number): number {
  let s = 0;
  for (const v of x) s += (v - mu) ** 2;
  return x.length > 1 ? s / (x.length - 1) : 0;
}

export function welchT(a: Float64Array, b: Float64Array): number {
  const ma = mean(a);
  const mb = mean(b);
  const se = Math.sqrt(variance(a, ma) / a.length + variance(b, mb) / b.length);
  return se > 0 ? (ma - mb) / se : 0;
}

/** θ after this update alone, clipped and scaled exactly as the window's outer step would. */
export function applyAlone(theta: Float32Array, u: SparseUpdate, clipNorm: number, outerLr: number): Float32Array {
  const norm = updateNorm(u);
  const scale = norm > clipNorm && norm > 0 ? Math.fround(clipNorm / norm) : 1;
  const after = theta.slice();
  applySparseOuterStep(after, [{ indices: u.indices, values: scale === 1 ? u.values : u.values.map((v) => Math.fround(v * scale)) }], outerLr);
  return after;
}

export async function scoreUpdate(probe: LossProbe, o: ScoreOptions): Promise<Score> {
  const after = applyAlone(o.theta, o.update, o.clipNorm, o.outerLr);
  const ownImp = relativeImprovements(await probe.perSequence(o.theta, o.ownPages), await probe.perSequence(after, o.ownPages));
  const randImp = relativeImprovements(o.randomBefore, await probe.perSequence(after, o.randomPages));
  return { random: mean(randImp), own: mean(ownImp), powT: welchT(ownImp, randImp), ownSequences: o.ownPages.length };
}

export interface UnitEvidenceOptions {
  theta: Float32Array;
  /** Each tested unit's receipt and its pages (recomputed from address, window and unit). */
  units: { receipt: SparseUpdate; pages: Uint32Array }[];
  randomPages: Uint32Array;
  randomBefore: Float64Array;
}

/**
 * Proof of work in unit mode: each tested unit's receipt applied alone to θ_w, its own pages'
 * improvement against a share of the random pages' under the same receipt, pooled over the
 * units into one Welch t. A unit's trace does not depend on how many units the device did.
 */
export async function unitEvidence(
  probe: LossProbe,
  o: UnitEvidenceOptions,
): Promise<Pick<Score, 'own' | 'powT' | 'ownSequences' | 'unitsWithTrace' | 'evidence'>> {
  const share = Math.max(1, Math.floor(o.randomPages.length / Math.max(1, o.units.length)));
  const own: number[] = [];
  const random: number[] = [];
  let unitsWithTrace = 0;
  for (const [i, u] of o.units.entries()) {
    const after = applyAlone(o.theta, u.receipt, Infinity, 1);
    const unitOwn = relativeImprovements(await probe.perSequence(o.theta, u.pages), await probe.perSequence(after, u.pages));
    // Wraps round when units outnumber random pages: each unit is still measured on some.
    const from = (i * share) % o.randomPages.length;
    const pages = o.randomPages.subarray(from, from + share);
    const unitRandom = relativeImprovements(o.randomBefore.subarray(from, from + pages.length), await probe.perSequence(after, pages));
    if (mean(unitOwn) > mean(unitRandom)) unitsWithTrace++;
    own.push(...unitOwn);
    random.push(...unitRandom);
  }
  const ownImp = Float64Array.from(own);
  const randomImp = Float64Array.from(random);
  const evidence = windowEvidence(ownImp, randomImp, o.units.length, unitsWithTrace);
  return { own: mean(ownImp), powT: welchT(ownImp, randomImp), ownSequences: own.length, unitsWithTrace, evidence };
}

/** The mean relative improvement on random pages of the update applied as the outer step would. */
export async function randomImprovement(
  probe: LossProbe,
  o: Pick<ScoreOptions, 'theta' | 'update' | 'clipNorm' | 'outerLr' | 'randomPages' | 'randomBefore'>,
): Promise<number> {
  const after = applyAlone(o.theta, o.update, o.clipNorm, o.outerLr);
  return mean(relativeImprovements(o.randomBefore, await probe.perSequence(after, o.randomPages)));
}
