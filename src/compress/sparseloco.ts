// The SparseLoCo codec: error feedback, chunked top-k, a per-tensor 2-bit codebook, 12-bit
// packed indices, and a decoder that treats every payload as hostile (docs/PROTOCOL.md).
import { topKCpu } from '../gpu/topk';
import { flatIndex, type ChunkPlan } from './chunks';

export type CodecErrorCode =
  | 'truncated'
  | 'oversized'
  | 'bad-magic'
  | 'unknown-version'
  | 'wrong-params'
  | 'wrong-tensor-table'
  | 'bad-codebook'
  | 'index-out-of-range'
  | 'duplicate-index'
  | 'unsorted-index'
  | 'non-canonical';

/** The only error decodeSparseLoCo throws: a payload is refused whole, with the reason. */
export class CodecError extends Error {
  constructor(
    readonly code: CodecErrorCode,
    message: string,
  ) {
    super(`SparseLoCo payload refused (${code}): ${message}`);
    this.name = 'CodecError';
  }
}

/** A decoded contribution: flat parameter indices (unique) and their values. */
export interface SparseUpdate {
  indices: Uint32Array;
  values: Float32Array;
}

export const SPARSELOCO_VERSION = 1;
/** 'TSLC' */
const MAGIC = [0x54, 0x53, 0x4c, 0x43];
export const SPARSELOCO_HEADER_BYTES = 28;
/** Codebook entries beyond this are refused: no honest pseudo-gradient is near it. */
export const MAX_CODEBOOK_MAGNITUDE = 1e4;

/** Exact byte size of every payload for this plan; anything else is refused before parsing. */
export function payloadBytes(plan: ChunkPlan): number {
  const { valueBits, indexBits } = plan.params;
  return SPARSELOCO_HEADER_BYTES + plan.tensorCount * 2 ** valueBits * 4 + Math.ceil((plan.kept * indexBits) / 8) + Math.ceil((plan.kept * valueBits) / 8);
}

// ---------------------------------------------------------------------------------------
// Quantisation: a per-tensor table of bin means over mean ± 6σ.

interface Quantised {
  codebook: Float32Array;
  codes: Uint8Array;
}

export function quantise(values: Float32Array, bins: number): Quantised {
  const n = values.length;
  const codes = new Uint8Array(n);
  let mean = 0;
  for (const v of values) mean += v;
  mean /= Math.max(1, n);
  let variance = 0;
  for (const v of values) variance += (v - mean) ** 2;
  const sd = Math.sqrt(variance / Math.max(1, n));
  const lo = mean - 6 * sd;
  const width = (12 * sd) / bins;
  const codebook = new Float32Array(bins);
  if (!(width > 0) || !Number.isFinite(width)) {
    codebook.fill(mean);
    return { codebook, codes };
  }
  const sums = new Float64Array(bins);
  const counts = new Uint32Array(bins);
  for (let i = 0; i < n; i++) {
    const b = Math.min(bins - 1, Math.max(0, Math.floor((values[i] - lo) / width)));
    codes[i] = b;
    sums[b] += values[i];
    counts[b]++;
  }
  // An empty bin is never referenced; its centre keeps the table finite and canonical.
  for (let b = 0; b < bins; b++) codebook[b] = counts[b] ? sums[b] / counts[b] : lo + (b + 0.5) * width;
  return { codebook, codes };
}

// ---------------------------------------------------------------------------------------
// Bit packing, least significant bit first.

function packBits(out: Uint8Array, at: number, values: ArrayLike<number>, bits: number): number {
  let acc = 0;
  let held = 0;
  for (let i = 0; i < values.length; i++) {
    acc |= values[i] << held;
    held += bits;
    while (held >= 8) {
      out[at++] = acc & 0xff;
      acc >>>= 8;
      held -= 8;
    }
  }
  if (held > 0) out[at++] = acc & 0xff;
  return at;
}

/** Reads `count` fields; the unused high bits of the last byte must be zero (one encoding per content). */
function unpackBits(bytes: Uint8Array, at: number, count: number, bits: number): { fields: Uint32Array; end: number } {
  const fields = new Uint32Array(count);
  const mask = 2 ** bits - 1;
  let acc = 0;
  let held = 0;
  for (let i = 0; i < count; i++) {
    while (held < bits) {
      acc += bytes[at++] * 2 ** held;
      held += 8;
    }
    fields[i] = acc % (mask + 1);
    acc = Math.floor(acc / (mask + 1));
    held -= bits;
  }
  if (acc !== 0) throw new CodecError('non-canonical', 'padding bits after the last field are not zero');
  return { fields, end: at };
}

// ---------------------------------------------------------------------------------------
// Encoding.

export type TopKSelector = (values: Float32Array) => Promise<Uint32Array>;

export interface EncodedContribution {
  bytes: Uint8Array;
  /** What every receiver will decode from `bytes`. */
  update: SparseUpdate;
}

/** A peer's encoder: holds the error-feedback buffer across windows. */
export class SparseLoCoEncoder {
  readonly error: Float32Array;
  private readonly select: TopKSelector;

  /** `select` defaults to the CPU top-k; pass a GPU one (createGpuTopK) for speed: same result. */
  constructor(
    readonly plan: ChunkPlan,
    totalFloats: number,
    select?: TopKSelector,
  ) {
    this.error = new Float32Array(totalFloats);
    this.select = select ?? ((v) => Promise.resolve(topKCpu(v, plan.chunks)));
  }

  /** Δ = base − after; e ← β·e + Δ; compress e; e ← e − decode(compressed). */
  async encode(base: Float32Array, after: Float32Array): Promise<EncodedContribution> {
    const e = this.error;
    if (base.length !== e.length || after.length !== e.length) throw new RangeError(`encode expects ${e.length} floats per model`);
    const beta = Math.fround(this.plan.params.beta);
    for (let i = 0; i < e.length; i++) e[i] = Math.fround(beta * e[i]) + Math.fround(base[i] - after[i]);
    const local = await this.select(e);
    const update = quantiseSelection(this.plan, e, local);
    for (let i = 0; i < update.indices.length; i++) e[update.indices[i]] -= update.values[i];
    return { bytes: packSparseLoCo(this.plan, local, update.codes, update.codebooks), update: { indices: update.indices, values: update.values } };
  }
}

function quantiseSelection(plan: ChunkPlan, e: Float32Array, local: Uint32Array): SparseUpdate & { codes: Uint8Array; codebooks: Float32Array } {
  const bins = 2 ** plan.params.valueBits;
  const indices = new Uint32Array(plan.kept);
  plan.chunks.forEach((c, ci) => {
    for (let i = plan.keptBefore[ci]; i < plan.keptBefore[ci + 1]; i++) indices[i] = flatIndex(c, local[i]);
  });
  const values = new Float32Array(plan.kept);
  const codes = new Uint8Array(plan.kept);
  const codebooks = new Float32Array(plan.tensorCount * bins);
  for (let t = 0; t < plan.tensorCount; t++) {
    const from = plan.keptBefore[plan.tensorChunks[t]];
    const to = plan.keptBefore[plan.tensorChunks[t + 1]];
    const kept = Float32Array.from(indices.subarray(from, to), (i) => e[i]);
    const q = quantise(kept, bins);
    codebooks.set(q.codebook, t * bins);
    codes.set(q.codes, from);
    for (let i = from; i < to; i++) values[i] = q.codebook[q.codes[i - from]];
  }
  return { indices, values, codes, codebooks };
}

export function packSparseLoCo(plan: ChunkPlan, local: Uint32Array, codes: Uint8Array, codebooks: Float32Array): Uint8Array {
  const p = plan.params;
  const out = new Uint8Array(payloadBytes(plan));
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  out.set([SPARSELOCO_VERSION, p.valueBits, p.indexBits, 0], 4);
  view.setUint16(8, p.blockSide, true);
  view.setUint16(10, p.topK, true);
  view.setUint32(12, p.vectorChunk, true);
  view.setUint32(16, plan.tensorCount, true);
  view.setUint32(20, plan.fingerprint, true);
  view.setUint32(24, plan.kept, true);
  let at = SPARSELOCO_HEADER_BYTES;
  for (const v of codebooks) {
    view.setFloat32(at, v, true);
    at += 4;
  }
  at = packBits(out, at, local, p.indexBits);
  at = packBits(out, at, codes, p.valueBits);
  if (at !== out.length) throw new Error(`internal: packed ${at} bytes, expected ${out.length}`);
  return out;
}

// ---------------------------------------------------------------------------------------
// Decoding untrusted bytes. Nothing the payload says decides an allocation size: every
// length comes from the plan (the model and the run's params), checked before parsing.

function checkHeader(bytes: Uint8Array, plan: ChunkPlan): void {
  const expected = payloadBytes(plan);
  if (bytes.length < SPARSELOCO_HEADER_BYTES) throw new CodecError('truncated', `${bytes.length} bytes is shorter than the ${SPARSELOCO_HEADER_BYTES}-byte header`);
  if (MAGIC.some((m, i) => bytes[i] !== m)) throw new CodecError('bad-magic', 'not a SparseLoCo payload');
  if (bytes[4] !== SPARSELOCO_VERSION) throw new CodecError('unknown-version', `version ${bytes[4]}, this peer speaks ${SPARSELOCO_VERSION}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const p = plan.params;
  const got = [bytes[5], bytes[6], bytes[7], view.getUint16(8, true), view.getUint16(10, true), view.getUint32(12, true)];
  const want = [p.valueBits, p.indexBits, 0, p.blockSide, p.topK, p.vectorChunk];
  if (got.some((g, i) => g !== want[i])) throw new CodecError('wrong-params', `codec params ${got.join('/')} differ from the run's ${want.join('/')}`);
  const tensors = view.getUint32(16, true);
  const fingerprint = view.getUint32(20, true);
  const kept = view.getUint32(24, true);
  if (tensors !== plan.tensorCount || fingerprint !== plan.fingerprint || kept !== plan.kept) {
    throw new CodecError('wrong-tensor-table', `payload is for ${tensors} tensors (table ${fingerprint.toString(16)}, ${kept} entries); this model has ${plan.tensorCount} (table ${plan.fingerprint.toString(16)}, ${plan.kept} entries)`);
  }
  if (bytes.length < expected) throw new CodecError('truncated', `${bytes.length} bytes, expected exactly ${expected}`);
  if (bytes.length > expected) throw new CodecError('oversized', `${bytes.length} bytes, expected exactly ${expected}`);
}

function readCodebooks(bytes: Uint8Array, plan: ChunkPlan): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const codebooks = new Float32Array(plan.tensorCount * 2 ** plan.params.valueBits);
  for (let i = 0; i < codebooks.length; i++) {
    const v = view.getFloat32(SPARSELOCO_HEADER_BYTES + 4 * i, true);
    if (!Number.isFinite(v) || Math.abs(v) > MAX_CODEBOOK_MAGNITUDE) throw new CodecError('bad-codebook', `codebook entry ${i} is ${v} (must be finite, |x| ≤ ${MAX_CODEBOOK_MAGNITUDE})`);
    codebooks[i] = v;
  }
  return codebooks;
}

/** Decodes a payload for `plan`'s model, or throws CodecError; never returns partial data. */
export function decodeSparseLoCo(bytes: Uint8Array, plan: ChunkPlan): SparseUpdate {
  checkHeader(bytes, plan);
  const p = plan.params;
  const bins = 2 ** p.valueBits;
  const codebooks = readCodebooks(bytes, plan);
  const start = SPARSELOCO_HEADER_BYTES + codebooks.length * 4;
  const { fields: local, end } = unpackBits(bytes, start, plan.kept, p.indexBits);
  const { fields: codes } = unpackBits(bytes, end, plan.kept, p.valueBits);
  const indices = new Uint32Array(plan.kept);
  const values = new Float32Array(plan.kept);
  let tensor = 0;
  plan.chunks.forEach((c, ci) => {
    while (ci >= plan.tensorChunks[tensor + 1]) tensor++;
    const n = c.rows * c.cols;
    for (let i = plan.keptBefore[ci]; i < plan.keptBefore[ci + 1]; i++) {
      const j = local[i];
      if (j >= n) throw new CodecError('index-out-of-range', `chunk ${ci} has ${n} elements, index ${j}`);
      if (i > plan.keptBefore[ci] && j <= local[i - 1]) throw new CodecError(j === local[i - 1] ? 'duplicate-index' : 'unsorted-index', `chunk ${ci}: index ${j} after ${local[i - 1]}`);
      indices[i] = flatIndex(c, j);
      values[i] = codebooks[tensor * bins + codes[i]];
    }
  });
  return { indices, values };
}
