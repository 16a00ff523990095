// CPU reference of the GPT-2 model, forward, backward and AdamW, in float64: the ground
// truth the GPU kernels are tested against (same ops and layout as llm.c's train_gpt2.c).
import type { AdamWHyper as GpuAdamWHyper } from './optimizer';
import { checkConfig, type GptConfig } from './config';
import { tensor, type ParamLayout } from './layout';

type Floats = Float32Array | Float64Array;

export interface Batch {
  /** Row-major [batchSize][seqLen] token ids in [0, vocabSize). */
  tokens: Int32Array;
  /** Row-major [batchSize][seqLen] next-token ids in [0, vocabSize). */
  targets: Int32Array;
  batchSize: number;
  seqLen: number;
}

/** Activations of one transformer block that its backward pass reads. */
export interface LayerCache {
  /** Residual stream entering the block [B·T, C]. */
  input: Float64Array;
  ln1: Float64Array;
  ln1Mean: Float64Array;
  ln1Rstd: Float64Array;
  qkv: Float64Array;
  /** Softmax probabilities [B, H, T, T]; entries above the diagonal stay 0. */
  att: Float64Array;
  attn: Float64Array;
  x1: Float64Array;
  ln2: Float64Array;
  ln2Mean: Float64Array;
  ln2Rstd: Float64Array;
  fc: Float64Array;
  gelu: Float64Array;
}

export interface ForwardCache {
  layers: LayerCache[];
  /** Residual stream after the last block [B·T, C]. */
  output: Float64Array;
  lnf: Float64Array;
  lnfMean: Float64Array;
  lnfRstd: Float64Array;
  /** Softmax of the logits [B·T, V]. */
  probs: Float64Array;
}

export interface ForwardResult {
  /** Mean of `losses`. */
  loss: number;
  /** Per-position cross-entropy [B·T]. */
  losses: Float32Array;
  /** [B·T, V]. */
  logits: Float32Array;
  cache: ForwardCache;
}

/** The GPU optimizer's hyperparameters; clipping is applied by the caller via gradScale. */
export type AdamWHyper = Omit<GpuAdamWHyper, 'maxGradNorm'>;

const LN_EPS = 1e-5;
const GELU_SCALE = Math.sqrt(2 / Math.PI);
const GELU_CUBE = 0.044715;

/** A named tensor of a flat buffer as a view (no copy). */
function part<A extends Floats>(flat: A, layout: ParamLayout, name: string): A {
  const t = tensor(layout, name);
  return flat.subarray(t.offset, t.offset + t.size) as A;
}

function checkBatch(config: GptConfig, layout: ParamLayout, params: Floats, batch: Batch): void {
  checkConfig(config);
  const { batchSize, seqLen, tokens, targets } = batch;
  if (!Number.isInteger(batchSize) || batchSize <= 0) throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  if (!Number.isInteger(seqLen) || seqLen <= 0) throw new RangeError(`seqLen must be a positive integer, got ${seqLen}`);
  if (seqLen > config.contextLength) throw new RangeError(`seqLen ${seqLen} exceeds contextLength ${config.contextLength}`);
  const n = batchSize * seqLen;
  if (tokens.length !== n) throw new RangeError(`tokens has ${tokens.length} entries, expected batchSize·seqLen = ${n}`);
  if (targets.length !== n) throw new RangeError(`targets has ${targets.length} entries, expected batchSize·seqLen = ${n}`);
  if (params.length !== layout.totalFloats) throw new RangeError(`params has ${params.length} floats, layout needs ${layout.totalFloats}`);
  if (tensor(layout, 'wte').size !== config.vocabSize * config.embedDim) throw new RangeError('layout was not built for this config');
  for (const [label, ids] of [
    ['tokens', tokens],
    ['targets', targets],
  ] as const) {
    for (let i = 0; i < n; i++) {
      const id = ids[i];
      if (id < 0 || id >= config.vocabSize) throw new RangeError(`${label}[${i}] = ${id} is outside [0, ${config.vocabSize})`);
    }
  }
}

// ---------------------------------------------------------------------------------------
// Ops. Row counts are B·T; every backward *adds* into its gradient buffers, so a tensor
// used twice (wte, the residual stream) sums its contributions.

function embeddingForward(out: Float64Array, tokens: Int32Array, wte: Floats, wpe: Floats, B: number, T: number, C: number): void {
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const r = b * T + t;
      const tok = tokens[r] * C;
      for (let c = 0; c < C; c++) out[r * C + c] = wte[tok + c] + wpe[t * C + c];
    }
  }
}

function embeddingBackward(dwte: Float64Array, dwpe: Float64Array, dout: Float64Array, tokens: Int32Array, B: number, T: number, C: number): void {
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const r = b * T + t;
      const tok = tokens[r] * C;
      for (let c = 0; c < C; c++) {
        dwte[tok + c] += dout[r * C + c];
        dwpe[t * C + c] += dout[r * C + c];
      }
    }
  }
}

function layerNormForward(out: Float64Array, mean: Float64Array, rstd: Float64Array, x: Float64Array, w: Floats, bias: Floats, rows: number, C: number): void {
  for (let r = 0; r < rows; r++) {
    const o = r * C;
    let m = 0;
    for (let c = 0; c < C; c++) m += x[o + c];
    m /= C;
    let variance = 0;
    for (let c = 0; c < C; c++) variance += (x[o + c] - m) ** 2;
    // Biased variance (divide by C), as PyTorch and llm.c do.
    const s = 1 / Math.sqrt(variance / C + LN_EPS);
    for (let c = 0; c < C; c++) out[o + c] = (x[o + c] - m) * s * w[c] + bias[c];
    mean[r] = m;
    rstd[r] = s;
  }
}

function layerNormBackward(
  dx: Float64Array,
  dw: Float64Array,
  db: Float64Array,
  dout: Float64Array,
  x: Float64Array,
  w: Floats,
  mean: Float64Array,
  rstd: Float64Array,
  rows: number,
  C: number,
): void {
  for (let r = 0; r < rows; r++) {
    const o = r * C;
    // The two reductions the normalisation couples every channel through.
    let dnormMean = 0;
    let dnormNormMean = 0;
    for (let c = 0; c < C; c++) {
      const norm = (x[o + c] - mean[r]) * rstd[r];
      const dnorm = dout[o + c] * w[c];
      dnormMean += dnorm;
      dnormNormMean += dnorm * norm;
    }
    dnormMean /= C;
    dnormNormMean /= C;
    for (let c = 0; c < C; c++) {
      const norm = (x[o + c] - mean[r]) * rstd[r];
      const dnorm = dout[o + c] * w[c];
      db[c] += dout[o + c];
      dw[c] += dout[o + c] * norm;
      dx[o + c] += (dnorm - dnormMean - norm * dnormNormMean) * rstd[r];
    }
  }
}

/** out[r, o] = Σ_i x[r, i]·W[i, o] + bias[o]; W is [in, out] row-major. */
function matmulForward(out: Float64Array, x: Float64Array, W: Floats, bias: Floats | null, rows: number, inDim: number, outDim: number): void {
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < outDim; o++) {
      let acc = bias ? bias[o] : 0;
      for (let i = 0; i < inDim; i++) acc += x[r * inDim + i] * W[i * outDim + o];
      out[r * outDim + o] = acc;
    }
  }
}

function matmulBackward(
  dx: Float64Array,
  dW: Float64Array,
  dbias: Float64Array | null,
  dout: Float64Array,
  x: Float64Array,
  W: Floats,
  rows: number,
  inDim: number,
  outDim: number,
): void {
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < outDim; o++) {
      const d = dout[r * outDim + o];
      if (dbias) dbias[o] += d;
      for (let i = 0; i < inDim; i++) {
        dx[r * inDim + i] += d * W[i * outDim + o];
        dW[i * outDim + o] += d * x[r * inDim + i];
      }
    }
  }
}

/** logits = lnf·wteᵀ: the head reuses the [V, C] embedding, so it reads wte transposed. */
function headForward(logits: Float64Array, x: Float64Array, wte: Floats, rows: number, C: number, V: number): void {
  for (let r = 0; r < rows; r++) {
    for (let v = 0; v < V; v++) {
      let acc = 0;
      for (let c = 0; c < C; c++) acc += x[r * C + c] * wte[v * C + c];
      logits[r * V + v] = acc;
    }
  }
}

function headBackward(dx: Float64Array, dwte: Float64Array, dlogits: Float64Array, x: Float64Array, wte: Floats, rows: number, C: number, V: number): void {
  for (let r = 0; r < rows; r++) {
    for (let v = 0; v < V; v++) {
      const d = dlogits[r * V + v];
      for (let c = 0; c < C; c++) {
        dx[r * C + c] += d * wte[v * C + c];
        dwte[v * C + c] += d * x[r * C + c];
      }
    }
  }
}

interface AttentionShape {
  B: number;
  T: number;
  C: number;
  H: number;
}

/** Causal multi-head attention over qkv [B·T, 3C] into out [B·T, C]; att keeps P. */
function attentionForward(out: Float64Array, att: Float64Array, qkv: Float64Array, { B, T, C, H }: AttentionShape): void {
  const hs = C / H;
  const scale = 1 / Math.sqrt(hs);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      for (let t = 0; t < T; t++) {
        const q = (b * T + t) * 3 * C + h * hs;
        const row = ((b * H + h) * T + t) * T;
        let max = -Infinity;
        for (let u = 0; u <= t; u++) {
          const k = (b * T + u) * 3 * C + C + h * hs;
          let dot = 0;
          for (let i = 0; i < hs; i++) dot += qkv[q + i] * qkv[k + i];
          att[row + u] = dot * scale;
          max = Math.max(max, dot * scale);
        }
        let sum = 0;
        for (let u = 0; u <= t; u++) {
          att[row + u] = Math.exp(att[row + u] - max);
          sum += att[row + u];
        }
        for (let u = 0; u <= t; u++) att[row + u] /= sum;
        const o = (b * T + t) * C + h * hs;
        for (let i = 0; i < hs; i++) out[o + i] = 0;
        for (let u = 0; u <= t; u++) {
          const v = (b * T + u) * 3 * C + 2 * C + h * hs;
          for (let i = 0; i < hs; i++) out[o + i] += att[row + u] * qkv[v + i];
        }
      }
    }
  }
}

function attentionBackward(dqkv: Float64Array, dout: Float64Array, qkv: Float64Array, att: Float64Array, { B, T, C, H }: AttentionShape): void {
  const hs = C / H;
  const scale = 1 / Math.sqrt(hs);
  const dp = new Float64Array(T);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      for (let t = 0; t < T; t++) {
        const q = (b * T + t) * 3 * C + h * hs;
        const o = (b * T + t) * C + h * hs;
        const row = ((b * H + h) * T + t) * T;
        // dP[t, u] = dout_t · v_u, and v_u collects P[t, u]·dout_t.
        let dpDotP = 0;
        for (let u = 0; u <= t; u++) {
          const v = (b * T + u) * 3 * C + 2 * C + h * hs;
          let dot = 0;
          for (let i = 0; i < hs; i++) {
            dot += dout[o + i] * qkv[v + i];
            dqkv[v + i] += att[row + u] * dout[o + i];
          }
          dp[u] = dot;
          dpDotP += dot * att[row + u];
        }
        // Softmax Jacobian: dS = P ⊙ (dP − Σ P·dP); then through S = q·k/√hs.
        for (let u = 0; u <= t; u++) {
          const k = (b * T + u) * 3 * C + C + h * hs;
          const ds = att[row + u] * (dp[u] - dpDotP) * scale;
          for (let i = 0; i < hs; i++) {
            dqkv[q + i] += ds * qkv[k + i];
            dqkv[k + i] += ds * qkv[q + i];
          }
        }
      }
    }
  }
}

function geluForward(out: Float64Array, x: Float64Array): void {
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    out[i] = 0.5 * v * (1 + Math.tanh(GELU_SCALE * (v + GELU_CUBE * v * v * v)));
  }
}

function geluBackward(dx: Float64Array, dout: Float64Array, x: Float64Array): void {
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    const th = Math.tanh(GELU_SCALE * (v + GELU_CUBE * v * v * v));
    const dInner = GELU_SCALE * (1 + 3 * GELU_CUBE * v * v);
    dx[i] += dout[i] * (0.5 * (1 + th) + 0.5 * v * (1 - th * th) * dInner);
  }
}

function residualForward(out: Float64Array, a: Float64Array, b: Float64Array): void {
  for (let i = 0; i < out.length; i++) out[i] = a[i] + b[i];
}

/** Both branches of a sum receive the incoming gradient unchanged. */
function residualBackward(da: Float64Array, db: Float64Array, dout: Float64Array): void {
  for (let i = 0; i < dout.length; i++) {
    da[i] += dout[i];
    db[i] += dout[i];
  }
}

/** Per-row logsumexp(logits) − logits[target]; also leaves softmax(logits) in probs. */
function crossEntropyForward(losses: Float64Array, probs: Float64Array, logits: Float64Array, targets: Int32Array, rows: number, V: number): void {
  for (let r = 0; r < rows; r++) {
    const o = r * V;
    let max = -Infinity;
    for (let v = 0; v < V; v++) max = Math.max(max, logits[o + v]);
    let sum = 0;
    for (let v = 0; v < V; v++) sum += Math.exp(logits[o + v] - max);
    for (let v = 0; v < V; v++) probs[o + v] = Math.exp(logits[o + v] - max) / sum;
    losses[r] = max + Math.log(sum) - logits[o + targets[r]];
  }
}

/** Gradient of the *mean* loss: (softmax − onehot) / rows. */
function crossEntropyBackward(dlogits: Float64Array, probs: Float64Array, targets: Int32Array, rows: number, V: number): void {
  for (let r = 0; r < rows; r++) {
    for (let v = 0; v < V; v++) {
      const indicator = v === targets[r] ? 1 : 0;
      dlogits[r * V + v] += (probs[r * V + v] - indicator) / rows;
    }
  }
}

// ---------------------------------------------------------------------------------------
// The model.

function layerForward(config: GptConfig, layout: ParamLayout, params: Floats, l: number, input: Float64Array, batch: Batch): LayerCache {
  const C = config.embedDim;
  const rows = batch.batchSize * batch.seqLen;
  const p = (name: string): Floats => part(params, layout, `h${l}.${name}`);
  const f64 = (width: number): Float64Array => new Float64Array(rows * width);
  const cache: LayerCache = {
    input,
    ln1: f64(C),
    ln1Mean: f64(1),
    ln1Rstd: f64(1),
    qkv: f64(3 * C),
    att: new Float64Array(batch.batchSize * config.heads * batch.seqLen * batch.seqLen),
    attn: f64(C),
    x1: f64(C),
    ln2: f64(C),
    ln2Mean: f64(1),
    ln2Rstd: f64(1),
    fc: f64(4 * C),
    gelu: f64(4 * C),
  };
  const shape = { B: batch.batchSize, T: batch.seqLen, C, H: config.heads };
  const proj = f64(C);
  layerNormForward(cache.ln1, cache.ln1Mean, cache.ln1Rstd, input, p('ln1.w'), p('ln1.b'), rows, C);
  matmulForward(cache.qkv, cache.ln1, p('attn.qkv.w'), p('attn.qkv.b'), rows, C, 3 * C);
  attentionForward(cache.attn, cache.att, cache.qkv, shape);
  matmulForward(proj, cache.attn, p('attn.proj.w'), p('attn.proj.b'), rows, C, C);
  residualForward(cache.x1, input, proj);
  layerNormForward(cache.ln2, cache.ln2Mean, cache.ln2Rstd, cache.x1, p('ln2.w'), p('ln2.b'), rows, C);
  matmulForward(cache.fc, cache.ln2, p('mlp.fc.w'), p('mlp.fc.b'), rows, C, 4 * C);
  geluForward(cache.gelu, cache.fc);
  return cache;
}

/** The block's output: x1 + gelu·W_proj + b_proj (kept out of the cache; the next block stores it as input). */
function layerOutput(config: GptConfig, layout: ParamLayout, params: Floats, l: number, cache: LayerCache, rows: number): Float64Array {
  const C = config.embedDim;
  const mlp = new Float64Array(rows * C);
  matmulForward(mlp, cache.gelu, part(params, layout, `h${l}.mlp.proj.w`), part(params, layout, `h${l}.mlp.proj.b`), rows, 4 * C, C);
  const out = new Float64Array(rows * C);
  residualForward(out, cache.x1, mlp);
  return out;
}

export function referenceForward(config: GptConfig, layout: ParamLayout, params: Floats, batch: Batch): ForwardResult {
  checkBatch(config, layout, params, batch);
  const { batchSize: B, seqLen: T } = batch;
  const { embedDim: C, vocabSize: V } = config;
  const rows = B * T;
  let x: Float64Array = new Float64Array(rows * C);
  embeddingForward(x, batch.tokens, part(params, layout, 'wte'), part(params, layout, 'wpe'), B, T, C);
  const layers: LayerCache[] = [];
  for (let l = 0; l < config.layers; l++) {
    const cache = layerForward(config, layout, params, l, x, batch);
    layers.push(cache);
    x = layerOutput(config, layout, params, l, cache, rows);
  }
  const lnf = new Float64Array(rows * C);
  const lnfMean = new Float64Array(rows);
  const lnfRstd = new Float64Array(rows);
  layerNormForward(lnf, lnfMean, lnfRstd, x, part(params, layout, 'lnf.w'), part(params, layout, 'lnf.b'), rows, C);
  const logits = new Float64Array(rows * V);
  headForward(logits, lnf, part(params, layout, 'wte'), rows, C, V);
  const losses = new Float64Array(rows);
  const probs = new Float64Array(rows * V);
  crossEntropyForward(losses, probs, logits, batch.targets, rows, V);
  const loss = losses.reduce((a, b) => a + b, 0) / rows;
  return {
    loss,
    losses: Float32Array.from(losses),
    logits: Float32Array.from(logits),
    cache: { layers, output: x, lnf, lnfMean, lnfRstd, probs },
  };
}

/** Backward through block l: takes d(output) and returns d(input). */
function layerBackward(
  config: GptConfig,
  layout: ParamLayout,
  params: Floats,
  grads: Float64Array,
  l: number,
  cache: LayerCache,
  dout: Float64Array,
  batch: Batch,
): Float64Array {
  const C = config.embedDim;
  const rows = batch.batchSize * batch.seqLen;
  const p = (name: string): Floats => part(params, layout, `h${l}.${name}`);
  const g = (name: string): Float64Array => part(grads, layout, `h${l}.${name}`);
  const f64 = (width: number): Float64Array => new Float64Array(rows * width);
  const shape = { B: batch.batchSize, T: batch.seqLen, C, H: config.heads };
  const dx1 = f64(C);
  const dmlp = f64(C);
  residualBackward(dx1, dmlp, dout);
  const dgelu = f64(4 * C);
  matmulBackward(dgelu, g('mlp.proj.w'), g('mlp.proj.b'), dmlp, cache.gelu, p('mlp.proj.w'), rows, 4 * C, C);
  const dfc = f64(4 * C);
  geluBackward(dfc, dgelu, cache.fc);
  const dln2 = f64(C);
  matmulBackward(dln2, g('mlp.fc.w'), g('mlp.fc.b'), dfc, cache.ln2, p('mlp.fc.w'), rows, C, 4 * C);
  layerNormBackward(dx1, g('ln2.w'), g('ln2.b'), dln2, cache.x1, p('ln2.w'), cache.ln2Mean, cache.ln2Rstd, rows, C);
  const dinput = f64(C);
  const dproj = f64(C);
  residualBackward(dinput, dproj, dx1);
  const dattn = f64(C);
  matmulBackward(dattn, g('attn.proj.w'), g('attn.proj.b'), dproj, cache.attn, p('attn.proj.w'), rows, C, C);
  const dqkv = f64(3 * C);
  attentionBackward(dqkv, dattn, cache.qkv, cache.att, shape);
  const dln1 = f64(C);
  matmulBackward(dln1, g('attn.qkv.w'), g('attn.qkv.b'), dqkv, cache.ln1, p('attn.qkv.w'), rows, C, 3 * C);
  layerNormBackward(dinput, g('ln1.w'), g('ln1.b'), dln1, cache.input, p('ln1.w'), cache.ln1Mean, cache.ln1Rstd, rows, C);
  return dinput;
}

/** Gradient of the mean loss, in the params' flat layout (padding stays 0). */
export function referenceBackward(config: GptConfig, layout: ParamLayout, params: Floats, batch: Batch, forward: ForwardResult): Float64Array {
  checkBatch(config, layout, params, batch);
  const { batchSize: B, seqLen: T } = batch;
  const { embedDim: C, vocabSize: V } = config;
  const rows = B * T;
  const { cache } = forward;
  if (cache.probs.length !== rows * V || cache.layers.length !== config.layers) throw new RangeError('forward result does not match this batch and config');
  const grads = new Float64Array(layout.totalFloats);
  const dwte = part(grads, layout, 'wte');
  const dlogits = new Float64Array(rows * V);
  crossEntropyBackward(dlogits, cache.probs, batch.targets, rows, V);
  const dlnf = new Float64Array(rows * C);
  headBackward(dlnf, dwte, dlogits, cache.lnf, part(params, layout, 'wte'), rows, C, V);
  let dx: Float64Array = new Float64Array(rows * C);
  layerNormBackward(
    dx,
    part(grads, layout, 'lnf.w'),
    part(grads, layout, 'lnf.b'),
    dlnf,
    cache.output,
    part(params, layout, 'lnf.w'),
    cache.lnfMean,
    cache.lnfRstd,
    rows,
    C,
  );
  for (let l = config.layers - 1; l >= 0; l--) {
    dx = layerBackward(config, layout, params, grads, l, cache.layers[l], dx, batch);
  }
  embeddingBackward(dwte, part(grads, layout, 'wpe'), dx, batch.tokens, B, T, C);
  return grads;
}

export function referenceGradNorm(grads: Floats): number {
  let sum = 0;
  for (let i = 0; i < grads.length; i++) sum += grads[i] * grads[i];
  return Math.sqrt(sum);
}

/** The global-norm clip factor: min(1, maxNorm / (norm + 1e-6)). */
export function clipScale(norm: number, maxNorm: number): number {
  return Math.min(1, maxNorm / (norm + 1e-6));
}

/**
 * One AdamW step in place (float32 params/moments). step is 1-based (bias correction).
 * Gradients are first multiplied by gradScale (global-norm clipping factor). Decoupled
 * weight decay applies only to floats [0, layout.decayEnd):
 * p -= lr * (mhat/(sqrt(vhat)+eps) + weightDecay * p).
 */
export function referenceAdamW(
  layout: ParamLayout,
  params: Float32Array,
  grads: Floats,
  m: Float32Array,
  v: Float32Array,
  step: number,
  hyper: AdamWHyper,
  gradScale = 1,
): void {
  const n = layout.totalFloats;
  for (const [label, buffer] of [
    ['params', params],
    ['grads', grads],
    ['m', m],
    ['v', v],
  ] as const) {
    if (buffer.length !== n) throw new RangeError(`${label} has ${buffer.length} floats, layout needs ${n}`);
  }
  if (!Number.isInteger(step) || step < 1) throw new RangeError(`AdamW step is 1-based, got ${step}`);
  const { lr, beta1, beta2, eps, weightDecay } = hyper;
  const correction1 = 1 - beta1 ** step;
  const correction2 = 1 - beta2 ** step;
  for (let i = 0; i < n; i++) {
    const g = grads[i] * gradScale;
    m[i] = beta1 * m[i] + (1 - beta1) * g;
    v[i] = beta2 * v[i] + (1 - beta2) * g * g;
    // Read the moments back as stored (float32), as the GPU kernel will.
    const update = m[i] / correction1 / (Math.sqrt(v[i] / correction2) + eps);
    const decay = i < layout.decayEnd ? weightDecay * params[i] : 0;
    params[i] -= lr * (update + decay);
  }
}
