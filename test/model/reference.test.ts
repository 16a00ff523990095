// Checks the CPU reference model against finite differences, golden NumPy losses, causality
// and hand-computed AdamW steps, so GPU kernels can trust it as ground truth.
import { describe, expect, it } from 'vitest';
import { checkConfig, type GptConfig } from '../../src/model/config';
import { initParams } from '../../src/model/init';
import { paramLayout, tensor, type ParamLayout } from '../../src/model/layout';
import { clipScale, referenceAdamW, referenceBackward, referenceForward, referenceGradNorm, type AdamWHyper, type Batch } from '../../src/model/reference';
import { randomFloats, seededRandom } from '../support/random';

const config: GptConfig = checkConfig({ vocabSize: 11, contextLength: 8, embedDim: 8, layers: 2, heads: 2 });
const layout = paramLayout(config);

// T = 5 < contextLength, so wpe rows 5..7 are never read. Token ids 0..6 are inputs; 7 and 9
// appear only as targets, 8 and 10 nowhere.
const batch: Batch = {
  tokens: Int32Array.from([1, 2, 3, 1, 4, 0, 5, 2, 6, 3]),
  targets: Int32Array.from([2, 3, 1, 4, 9, 5, 2, 6, 3, 7]),
  batchSize: 2,
  seqLen: 5,
};

/** Init plus seeded noise on every real entry, so no bias is 0 and no gain is 1. */
function perturbedParams(seed: number, amplitude = 0.2): Float64Array {
  const params = Float64Array.from(initParams(config, layout, seed));
  const noise = randomFloats(layout.totalFloats, seed + 1);
  for (const t of layout.tensors) {
    for (let i = t.offset; i < t.offset + t.size; i++) params[i] += amplitude * noise[i];
  }
  return params;
}

/** FNV-1a of a tensor name: golden params depend on names and shapes only, not on offsets. */
const nameSeed = (name: string): number => [...name].reduce((h, ch) => Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0, 2166136261);

/** Every real entry uniform in [-0.5, 0.5), drawn per tensor from its name. */
function goldenParams(): Float64Array {
  const params = new Float64Array(layout.totalFloats);
  for (const t of layout.tensors)
    params.set(
      randomFloats(t.size, nameSeed(t.name)).map((x) => 0.5 * x),
      t.offset,
    );
  return params;
}

// Per-position losses of goldenParams() on `batch` from an independent NumPy implementation of
// the same spec (batched-matmul attention, np.var LayerNorm), computed in float64.
const GOLDEN_LOSSES = [
  3.100617650058368, 2.1989627662687026, 2.789599798915538, 2.447043882331477, 2.289892029040861, 2.372290290316585, 2.9954385295884314, 2.556919715023352,
  2.118835073180277, 2.412542161391248,
];
const GOLDEN_LOSS = 2.528214189611484;

function lossAt(params: Float64Array): number {
  return referenceForward(config, layout, params, batch).loss;
}

/** Central difference of the mean loss along one coordinate, restoring the parameter. */
function finiteDifference(params: Float64Array, index: number, h = 1e-6): number {
  const saved = params[index];
  params[index] = saved + h;
  const plus = lossAt(params);
  params[index] = saved - h;
  const minus = lossAt(params);
  params[index] = saved;
  return (plus - minus) / (2 * h);
}

/** Flat indices to probe: first and last entries plus seeded ones; wte/wpe rows picked by role. */
function probeIndices(layout: ParamLayout, name: string, next: () => number): number[] {
  const t = tensor(layout, name);
  const C = config.embedDim;
  const rowEntries = (rows: number[]): number[] => rows.flatMap((r) => [r * C, r * C + Math.floor(next() * C)]);
  // wte: a row used as a token, one only as a target, one nowhere (head gradient only).
  if (name === 'wte') return rowEntries([1, 9, 10]).map((i) => t.offset + i);
  // wpe: first and last used positions, and one past seqLen whose gradient must be 0.
  if (name === 'wpe') return rowEntries([0, batch.seqLen - 1, batch.seqLen]).map((i) => t.offset + i);
  const picks = [0, t.size - 1, Math.floor(next() * t.size), Math.floor(next() * t.size)];
  return picks.map((i) => t.offset + i);
}

describe('CPU reference GPT', () => {
  it('loss at init is close to ln(vocabSize)', () => {
    const params = initParams(config, layout, 7);
    const result = referenceForward(config, layout, params, batch);
    expect(Math.abs(result.loss - Math.log(config.vocabSize))).toBeLessThan(0.1);
    expect(result.losses).toHaveLength(batch.batchSize * batch.seqLen);
    expect(result.logits).toHaveLength(batch.batchSize * batch.seqLen * config.vocabSize);
    const mean = result.losses.reduce((a, b) => a + b, 0) / result.losses.length;
    expect(result.loss).toBeCloseTo(mean, 6);
  });

  it('forward matches golden losses from an independent NumPy implementation', () => {
    const result = referenceForward(config, layout, goldenParams(), batch);
    expect(Math.abs(result.loss - GOLDEN_LOSS)).toBeLessThan(1e-12);
    result.losses.forEach((loss, i) => expect(loss).toBeCloseTo(GOLDEN_LOSSES[i], 6));
  });

  it('float32 and float64 copies of the same params give the same loss', () => {
    const params32 = initParams(config, layout, 3);
    const a = referenceForward(config, layout, params32, batch);
    const b = referenceForward(config, layout, Float64Array.from(params32), batch);
    expect(a.loss).toBe(b.loss);
  });

  it('analytic gradients match central finite differences for every tensor', () => {
    const params = perturbedParams(11);
    const forward = referenceForward(config, layout, params, batch);
    const grads = referenceBackward(config, layout, params, batch, forward);
    expect(grads).toHaveLength(layout.totalFloats);
    const next = seededRandom(5);
    const failures: string[] = [];
    for (const t of layout.tensors) {
      let largest = 0;
      for (const index of probeIndices(layout, t.name, next)) {
        const fd = finiteDifference(params, index);
        const g = grads[index];
        largest = Math.max(largest, Math.abs(g));
        if (Math.abs(fd - g) > 1e-8 + 1e-5 * Math.max(Math.abs(fd), Math.abs(g))) {
          failures.push(`${t.name}[${index - t.offset}]: analytic ${g}, finite difference ${fd}`);
        }
      }
      // Guards against a vacuous pass where every probed gradient is ~0.
      if (largest < 1e-4) failures.push(`${t.name}: probed gradients all below 1e-4 (max ${largest})`);
    }
    expect(failures).toEqual([]);
  });

  it('gradients are zero on padding and on wpe rows past seqLen', () => {
    const params = perturbedParams(12);
    const grads = referenceBackward(config, layout, params, batch, referenceForward(config, layout, params, batch));
    const real = new Uint8Array(layout.totalFloats);
    for (const t of layout.tensors) real.fill(1, t.offset, t.offset + t.size);
    for (let i = 0; i < layout.totalFloats; i++) if (!real[i]) expect(grads[i]).toBe(0);
    const wpe = tensor(layout, 'wpe');
    const unused = grads.subarray(wpe.offset + batch.seqLen * config.embedDim, wpe.offset + wpe.size);
    expect(unused.every((g) => g === 0)).toBe(true);
  });

  it('is causal: changing the token at t leaves losses before t unchanged', () => {
    const params = perturbedParams(13);
    const before = referenceForward(config, layout, params, batch).losses;
    const t = 3;
    const tokens = batch.tokens.slice();
    tokens[t] = (tokens[t] + 4) % config.vocabSize; // batch row 0
    const after = referenceForward(config, layout, params, { ...batch, tokens }).losses;
    for (let u = 0; u < t; u++) expect(after[u]).toBe(before[u]);
    expect(after[t]).not.toBe(before[t]);
    // Rows of the batch do not see each other either.
    for (let u = batch.seqLen; u < 2 * batch.seqLen; u++) expect(after[u]).toBe(before[u]);
  });

  it('rejects bad input with RangeError', () => {
    const params = initParams(config, layout, 1);
    const run =
      (b: Batch, p: Float32Array = params) =>
      () =>
        referenceForward(config, layout, p, b);
    const withToken = (id: number): Batch => ({ ...batch, tokens: Int32Array.from(batch.tokens, (x, i) => (i === 4 ? id : x)) });
    expect(run(withToken(config.vocabSize))).toThrow(RangeError);
    expect(run(withToken(-1))).toThrow(RangeError);
    expect(run({ ...batch, targets: Int32Array.from(batch.targets, (x, i) => (i === 0 ? config.vocabSize : x)) })).toThrow(RangeError);
    const long = config.contextLength + 1;
    expect(run({ tokens: new Int32Array(long), targets: new Int32Array(long), batchSize: 1, seqLen: long })).toThrow(/contextLength/);
    expect(run({ ...batch, tokens: batch.tokens.subarray(1) })).toThrow(RangeError);
    expect(run(batch, params.subarray(1))).toThrow(RangeError);
  });

  it('computes the global gradient norm and the clip factor', () => {
    expect(referenceGradNorm(Float64Array.from([3, 0, -4]))).toBe(5);
    expect(clipScale(5, 1)).toBeCloseTo(0.2, 6);
    expect(clipScale(0.5, 1)).toBe(1);
  });

  it('AdamW: two hand-computed steps, decay only below decayEnd, gradScale applied', () => {
    const n = layout.totalFloats;
    const params = new Float32Array(n).fill(0.5);
    const m = new Float32Array(n);
    const v = new Float32Array(n);
    const grads = new Float32Array(n);
    const decayed = 0; // wte[0]
    const decayedIdle = 1; // wte[1], zero gradient: only decay moves it
    const plain = layout.decayEnd; // first LayerNorm gain
    const plainIdle = layout.decayEnd + 1;
    grads[decayed] = 0.3;
    grads[plain] = -0.2;
    const hyper: AdamWHyper = { lr: 0.01, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1 };
    referenceAdamW(layout, params, grads, m, v, 1, hyper, 0.5);
    // Step 1: mhat/√vhat = ±1 whatever the scale, so the step is lr (plus decay).
    expect(m[decayed]).toBeCloseTo(0.015, 7); // (1 − β1)·0.3·0.5
    expect(v[decayed]).toBeCloseTo(0.001125, 8); // (1 − β2)·0.15²
    expect(params[decayed]).toBeCloseTo(0.5 - 0.01 * (1 + 0.1 * 0.5), 6);
    expect(params[plain]).toBeCloseTo(0.51, 6);
    expect(params[decayedIdle]).toBeCloseTo(0.5 - 0.01 * 0.1 * 0.5, 7);
    expect(params[plainIdle]).toBe(0.5);
    // Step 2, gradScale 1: m = 0.0235, v = 0.00156875; mhat = 0.0235/0.19, vhat = 0.00156875/0.0975.
    grads.fill(0);
    grads[decayed] = 0.1;
    referenceAdamW(layout, params, grads, m, v, 2, hyper);
    expect(m[decayed]).toBeCloseTo(0.0235, 7);
    expect(v[decayed]).toBeCloseTo(0.00156875, 8);
    const ratio = 0.0235 / 0.19 / Math.sqrt(0.00156875 / 0.0975); // ≈ 0.975077
    expect(params[decayed]).toBeCloseTo(0.4895 - 0.01 * (ratio + 0.1 * 0.4895), 6);
    expect(() => referenceAdamW(layout, params, grads, m, v, 0, hyper)).toThrow(RangeError);
  });

  it('AdamW steps on one batch drive the loss down', () => {
    const params = Float32Array.from(perturbedParams(14, 0.05));
    const m = new Float32Array(layout.totalFloats);
    const v = new Float32Array(layout.totalFloats);
    const hyper: AdamWHyper = { lr: 1e-2, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1 };
    const first = referenceForward(config, layout, params, batch).loss;
    let last = first;
    for (let step = 1; step <= 40; step++) {
      const forward = referenceForward(config, layout, params, batch);
      last = forward.loss;
      const grads = referenceBackward(config, layout, params, batch, forward);
      referenceAdamW(layout, params, grads, m, v, step, hyper, clipScale(referenceGradNorm(grads), 1));
    }
    expect(last).toBeLessThan(0.5 * first);
  });
});
