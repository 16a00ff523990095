// The outer step every replica applies to the shared model: SparseLoCo's median-clipped
// sparse average, and dense DiLoCo's Nesterov SGD for comparison. CPU, float32, fixed order.
import type { SparseUpdate } from './sparseloco';

// Why this is bit-identical on every platform: JavaScript's + − × ÷ and sqrt are IEEE-754
// correctly rounded doubles everywhere; a Float32Array store rounds to float32, and rounding
// a double sum or product of two float32s to float32 equals the float32 operation. Nothing
// here uses exp/log/pow (implementation-defined) or depends on iteration order of a Map.

export interface OuterStepReport {
  /** The median of the contributions' L2 norms (their clip threshold). */
  median: number;
  norms: number[];
  /** Per contribution: the factor its values were multiplied by (≤ 1). */
  scales: number[];
  /** Parameters that at least one contribution carried. */
  touched: number;
}

function checkUpdate(u: SparseUpdate, n: number, which: number): void {
  if (u.indices.length !== u.values.length) throw new RangeError(`contribution ${which}: ${u.indices.length} indices but ${u.values.length} values`);
  for (let j = 0; j < u.indices.length; j++) {
    if (u.indices[j] >= n) throw new RangeError(`contribution ${which}: index ${u.indices[j]} outside the model (${n})`);
    if (!Number.isFinite(u.values[j])) throw new RangeError(`contribution ${which}: value ${j} is not finite`);
  }
}

/** L2 norm, summed in the payload's canonical order. */
export function updateNorm(u: SparseUpdate): number {
  let s = 0;
  for (const v of u.values) s += v * v;
  return Math.sqrt(s);
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? 0 : s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * θ ← θ − lr·ū where ū averages, per coordinate, the median-clipped contributions that carry
 * it. `updates` is in the manifest's order; `theta` is changed in place.
 */
export function applySparseOuterStep(theta: Float32Array, updates: readonly SparseUpdate[], lr: number): OuterStepReport {
  if (!(lr > 0) || !Number.isFinite(lr)) throw new RangeError(`outer lr must be a positive number, got ${lr}`);
  updates.forEach((u, i) => checkUpdate(u, theta.length, i));
  const norms = updates.map(updateNorm);
  const med = median(norms);
  const scales = norms.map((n) => (n > med ? Math.fround(med / n) : 1));
  const sum = new Float32Array(theta.length);
  const count = new Uint32Array(theta.length);
  updates.forEach((u, i) => {
    const s = scales[i];
    for (let j = 0; j < u.indices.length; j++) {
      const k = u.indices[j];
      sum[k] += Math.fround(s * u.values[j]);
      count[k]++;
    }
  });
  const rate = Math.fround(lr);
  let touched = 0;
  for (let k = 0; k < theta.length; k++) {
    if (count[k] === 0) continue;
    touched++;
    theta[k] -= Math.fround(rate * Math.fround(sum[k] / count[k]));
  }
  return { median: med, norms, scales, touched };
}

export interface NesterovParams {
  lr: number;
  momentum: number;
}

/** DiLoCo's paper settings. */
export const DILOCO_OUTER: NesterovParams = { lr: 0.7, momentum: 0.9 };

/**
 * Dense DiLoCo: ḡ = mean of the peers' full pseudo-gradients; m ← μ·m + ḡ;
 * θ ← θ − lr·(ḡ + μ·m) (PyTorch's Nesterov SGD). Holds the momentum across windows.
 */
export class NesterovOuterStep {
  readonly momentum: Float32Array;

  constructor(
    size: number,
    readonly params: NesterovParams = DILOCO_OUTER,
  ) {
    this.momentum = new Float32Array(size);
  }

  apply(theta: Float32Array, deltas: readonly Float32Array[]): void {
    if (deltas.length === 0) return;
    const m = this.momentum;
    const mu = Math.fround(this.params.momentum);
    const lr = Math.fround(this.params.lr);
    const n = deltas.length;
    for (let k = 0; k < theta.length; k++) {
      let g = 0;
      for (const d of deltas) g = Math.fround(g + d[k]);
      g = Math.fround(g / n);
      m[k] = Math.fround(mu * m[k]) + g;
      theta[k] -= Math.fround(lr * Math.fround(g + Math.fround(mu * m[k])));
    }
  }
}
