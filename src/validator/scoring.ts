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
}

/** t above this counts as proof of work for the window (see docs/VALIDATOR.md for the figures). */
export const POW_T_THRESHOLD = 2.5;

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
