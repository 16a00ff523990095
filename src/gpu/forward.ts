// The GPT forward pass as recorded dispatches over preallocated activations: shared by the
// training model (which keeps every activation for backward) and the forward-only evaluator.
import { attentionForward } from './attention';
import { crossEntropy } from './crossentropy';
import { floatRange, type Binding, type Dispatch } from './buffers';
import type { GptConfig } from '../model/config';
import { embeddingForward } from './embedding';
import { geluForward, residualForward } from './gelu';
import { layerNormForward } from './layernorm';
import { tensor, type ParamLayout } from '../model/layout';
import { matmulDispatch } from './matmul';

export interface LayerActs {
  ln1: GPUBuffer;
  ln1Stats: GPUBuffer;
  qkv: GPUBuffer;
  att: GPUBuffer;
  attnOut: GPUBuffer;
  attnProj: GPUBuffer;
  x1: GPUBuffer;
  ln2: GPUBuffer;
  ln2Stats: GPUBuffer;
  fc: GPUBuffer;
  gelu: GPUBuffer;
  mlpProj: GPUBuffer;
  x2: GPUBuffer;
}

export interface ForwardBuffers {
  x0: GPUBuffer;
  acts: LayerActs[];
  lnf: GPUBuffer;
  lnfStats: GPUBuffer;
  /** One chunk's logits: [headRows, vocab] (the head runs chunk by chunk; see headChunks). */
  logits: GPUBuffer;
  headRows: number;
}

/**
 * Logits per chunk stay under this: at a 50k vocabulary, B·T·V floats for a whole batch would be
 * hundreds of MiB, so the head, the loss and its gradient run over row chunks instead.
 */
export const HEAD_CHUNK_BYTES = 32 * 2 ** 20;

/**
 * Rows per logits chunk: all of them when they fit the budget, else the largest multiple of 64
 * (chunk offsets must be 256-byte aligned to bind) that does; a caller may ask for fewer.
 */
export function headRowsFor(rows: number, vocab: number, requested?: number): number {
  if (requested !== undefined) {
    if (!Number.isInteger(requested) || requested <= 0 || (requested < rows && requested % 64 !== 0))
      throw new RangeError(`headRows must be a positive multiple of 64 below the batch's ${rows} rows, got ${requested}`);
    return Math.min(requested, rows);
  }
  if (rows * vocab * 4 <= HEAD_CHUNK_BYTES) return rows;
  return Math.min(rows, Math.max(64, Math.floor(HEAD_CHUNK_BYTES / (vocab * 4 * 64)) * 64));
}

/** The row ranges the head runs over, in order. */
export function headChunks(rows: number, headRows: number): { start: number; rows: number }[] {
  return Array.from({ length: Math.ceil(rows / headRows) }, (_, j) => ({ start: j * headRows, rows: Math.min(headRows, rows - j * headRows) }));
}

/** Floats of each activation one block keeps, in allocation order: allocateForward and the memory plan both read it. */
export function layerActivationFloats(config: GptConfig, batchSize: number, seqLen: number): Record<keyof LayerActs, number> {
  const { embedDim: C, heads } = config;
  const rows = batchSize * seqLen;
  return {
    ln1: rows * C,
    ln1Stats: 2 * rows,
    qkv: rows * 3 * C,
    att: batchSize * heads * seqLen * seqLen,
    attnOut: rows * C,
    attnProj: rows * C,
    x1: rows * C,
    ln2: rows * C,
    ln2Stats: 2 * rows,
    fc: rows * 4 * C,
    gelu: rows * 4 * C,
    mlpProj: rows * C,
    x2: rows * C,
  };
}

/**
 * Allocates every activation the forward pass writes; `alloc` decides usage and accounting.
 * Training keeps each layer's for backward. `shareLayers` gives every layer the same set, which
 * is safe forward-only: a layer reads only the previous one's x2, and overwrites x2 last.
 */
export function allocateForward(
  config: GptConfig,
  batchSize: number,
  seqLen: number,
  alloc: (floats: number, label: string) => GPUBuffer,
  shareLayers = false,
  headRows = batchSize * seqLen,
): ForwardBuffers {
  const { embedDim: C, vocabSize: V } = config;
  const rows = batchSize * seqLen;
  const x0 = alloc(rows * C, 'x0');
  const distinct = shareLayers ? Math.min(1, config.layers) : config.layers;
  const floats = layerActivationFloats(config, batchSize, seqLen);
  const sets = Array.from({ length: distinct }, (_, l): LayerActs => {
    const set = (Object.entries(floats) as [keyof LayerActs, number][]).map(([key, n]) => [key, alloc(n, shareLayers ? `layer.${key}` : `h${l}.${key}`)]);
    return Object.fromEntries(set) as unknown as LayerActs;
  });
  const acts = shareLayers ? Array.from({ length: config.layers }, () => sets[0]) : sets;
  return { x0, acts, lnf: alloc(rows * C, 'lnf'), lnfStats: alloc(2 * rows, 'lnf.stats'), logits: alloc(headRows * V, 'logits'), headRows };
}

/** Embedding → blocks → final LayerNorm (into `buffers.lnf`); the head runs per chunk (headDispatch). */
export function forwardDispatches(
  device: GPUDevice,
  config: GptConfig,
  layout: ParamLayout,
  shape: { batchSize: number; seqLen: number },
  params: GPUBuffer,
  tokens: Binding,
  buffers: ForwardBuffers,
): Dispatch[] {
  const { vocabSize: V, embedDim: C, heads } = config;
  const rows = shape.batchSize * shape.seqLen;
  const p = (name: string): Binding => {
    const t = tensor(layout, name);
    return floatRange(params, t.offset, t.size);
  };
  const { x0, acts, lnf, lnfStats } = buffers;
  const out: Dispatch[] = [embeddingForward(device, { rows, seq: shape.seqLen, channels: C, vocab: V }, tokens, p('wte'), p('wpe'), x0)];
  const attnShape = { batch: shape.batchSize, seq: shape.seqLen, heads, channels: C };
  acts.forEach((a, l) => {
    const x = l === 0 ? x0 : acts[l - 1].x2;
    const h = `h${l}`;
    out.push(
      layerNormForward(device, { rows, channels: C }, x, p(`${h}.ln1.w`), p(`${h}.ln1.b`), a.ln1, a.ln1Stats),
      matmulDispatch(device, { m: rows, n: 3 * C, k: C, bias: p(`${h}.attn.qkv.b`) }, a.ln1, p(`${h}.attn.qkv.w`), a.qkv),
      attentionForward(device, attnShape, a.qkv, a.att, a.attnOut),
      matmulDispatch(device, { m: rows, n: C, k: C, bias: p(`${h}.attn.proj.b`) }, a.attnOut, p(`${h}.attn.proj.w`), a.attnProj),
      residualForward(device, rows * C, x, a.attnProj, a.x1),
      layerNormForward(device, { rows, channels: C }, a.x1, p(`${h}.ln2.w`), p(`${h}.ln2.b`), a.ln2, a.ln2Stats),
      matmulDispatch(device, { m: rows, n: 4 * C, k: C, bias: p(`${h}.mlp.fc.b`) }, a.ln2, p(`${h}.mlp.fc.w`), a.fc),
      geluForward(device, rows * 4 * C, a.fc, a.gelu),
      matmulDispatch(device, { m: rows, n: C, k: 4 * C, bias: p(`${h}.mlp.proj.b`) }, a.gelu, p(`${h}.mlp.proj.w`), a.mlpProj),
      residualForward(device, rows * C, a.x1, a.mlpProj, a.x2),
    );
  });
  const last = acts.length ? acts[acts.length - 1].x2 : x0;
  out.push(layerNormForward(device, { rows, channels: C }, last, p('lnf.w'), p('lnf.b'), lnf, lnfStats));
  return out;
}

/** The weight-tied head over one chunk of rows: logits = lnf[chunk] · wteᵀ, into `buffers.logits`. */
export function headDispatch(
  device: GPUDevice,
  config: GptConfig,
  layout: ParamLayout,
  params: GPUBuffer,
  buffers: ForwardBuffers,
  chunk: { start: number; rows: number },
): Dispatch {
  const { vocabSize: V, embedDim: C } = config;
  const wte = tensor(layout, 'wte');
  return matmulDispatch(
    device,
    { m: chunk.rows, n: V, k: C, transB: true },
    floatRange(buffers.lnf, chunk.start * C, chunk.rows * C),
    floatRange(params, wte.offset, wte.size),
    buffers.logits,
  );
}

/** One chunk of the head for evaluation: its logits, then the loss at each of its rows (no gradient). */
export function headLossDispatches(
  device: GPUDevice,
  config: GptConfig,
  layout: ParamLayout,
  params: GPUBuffer,
  buffers: ForwardBuffers,
  chunk: { start: number; rows: number },
  io: { targets: GPUBuffer; losses: GPUBuffer; positions: number },
): [head: Dispatch, loss: Dispatch] {
  return [
    headDispatch(device, config, layout, params, buffers, chunk),
    crossEntropy(
      device,
      { rows: chunk.rows, vocab: config.vocabSize, lossPositions: io.positions },
      buffers.logits,
      floatRange(io.targets, chunk.start, chunk.rows),
      floatRange(io.losses, chunk.start, chunk.rows),
    ),
  ];
}

/** Checked token ids for a batch × seq block: every one an integer id of the vocabulary. */
export function tokenIds(ids: ArrayLike<number>, shape: { batchSize: number; seqLen: number; vocab: number }, what: string): Uint32Array {
  const rows = shape.batchSize * shape.seqLen;
  if (ids.length !== rows) throw new RangeError(`${what}: expected ${rows} ids (batch ${shape.batchSize} × seq ${shape.seqLen}), got ${ids.length}`);
  const out = new Uint32Array(rows);
  const V = shape.vocab;
  for (let i = 0; i < rows; i++) {
    const id = ids[i];
    if (!Number.isInteger(id) || id < 0 || id >= V) throw new RangeError(`${what}[${i}] = ${id} is not a token id in 0..${V - 1}`);
    out[i] = id;
  }
  return out;
}
