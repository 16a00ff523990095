// The SparseLoCo codec: error feedback, chunked top-k, a per-tensor 2-bit codebook, 12-bit
// packed indices, and a decoder that treats every payload as hostile (docs/PROTOCOL.md).
import { topKCpu } from './topk';
import { flatIndex, type ChunkPlan } from './chunks';
import { BitReader, BitStreamError, BitWriter, maxIndexBytes, readIndices, writeIndices, type IndexCoding } from './indexCoding';

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
export const SPARSELOCO_HEADER_BYTES = 32;
/** Codebook entries beyond this are refused: no honest pseudo-gradient is near it. */
export const MAX_CODEBOOK_MAGNITUDE = 1e4;
const CODINGS: readonly IndexCoding[] = ['packed', 'rice'];

function fixedBytes(plan: ChunkPlan): { codebooks: number; values: number } {
  const { valueBits } = plan.params;
  return { codebooks: plan.tensorCount * 2 ** valueBits * 4, values: Math.ceil((plan.kept * valueBits) / 8) };
}

/** The largest valid payload for this plan (exact size for packed indices): the receive cap. */
export function maxPayloadBytes(plan: ChunkPlan): number {
  const { codebooks, values } = fixedBytes(plan);
  return SPARSELOCO_HEADER_BYTES + codebooks + maxIndexBytes(plan.chunks, plan.params.indexCoding, plan.params.indexBits) + values;
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
  const indexStream = writeIndices(plan.chunks, local, p.indexCoding, p.indexBits);
  const valueStream = new BitWriter();
  for (const c of codes) valueStream.write(c, p.valueBits);
  const values = valueStream.finish();
  const out = new Uint8Array(SPARSELOCO_HEADER_BYTES + codebooks.length * 4 + indexStream.length + values.length);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  out.set([SPARSELOCO_VERSION, p.valueBits, p.indexBits, CODINGS.indexOf(p.indexCoding)], 4);
  view.setUint16(8, p.blockSide, true);
  view.setUint16(10, p.topK, true);
  view.setUint32(12, p.vectorChunk, true);
  view.setUint32(16, plan.tensorCount, true);
  view.setUint32(20, plan.fingerprint, true);
  view.setUint32(24, plan.kept, true);
  view.setUint32(28, indexStream.length, true);
  let at = SPARSELOCO_HEADER_BYTES;
  for (const v of codebooks) {
    view.setFloat32(at, v, true);
    at += 4;
  }
  out.set(indexStream, at);
  out.set(values, at + indexStream.length);
  return out;
}

// ---------------------------------------------------------------------------------------
// Decoding untrusted bytes. Nothing the payload says decides an allocation size: every
// length comes from the plan (the model and the run's params), checked before parsing.

/** Checks the header against the plan; returns the index stream's length. */
function checkHeader(bytes: Uint8Array, plan: ChunkPlan): number {
  const cap = maxPayloadBytes(plan);
  if (bytes.length > cap) throw new CodecError('oversized', `${bytes.length} bytes, at most ${cap} for this model`);
  if (bytes.length < SPARSELOCO_HEADER_BYTES)
    throw new CodecError('truncated', `${bytes.length} bytes is shorter than the ${SPARSELOCO_HEADER_BYTES}-byte header`);
  if (MAGIC.some((m, i) => bytes[i] !== m)) throw new CodecError('bad-magic', 'not a SparseLoCo payload');
  if (bytes[4] !== SPARSELOCO_VERSION) throw new CodecError('unknown-version', `version ${bytes[4]}, this peer speaks ${SPARSELOCO_VERSION}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const p = plan.params;
  const got = [bytes[5], bytes[6], bytes[7], view.getUint16(8, true), view.getUint16(10, true), view.getUint32(12, true)];
  const want = [p.valueBits, p.indexBits, CODINGS.indexOf(p.indexCoding), p.blockSide, p.topK, p.vectorChunk];
  if (got.some((g, i) => g !== want[i])) throw new CodecError('wrong-params', `codec params ${got.join('/')} differ from the run's ${want.join('/')}`);
  const tensors = view.getUint32(16, true);
  const fingerprint = view.getUint32(20, true);
  const kept = view.getUint32(24, true);
  if (tensors !== plan.tensorCount || fingerprint !== plan.fingerprint || kept !== plan.kept) {
    throw new CodecError(
      'wrong-tensor-table',
      `payload is for ${tensors} tensors (table ${fingerprint.toString(16)}, ${kept} entries); this model has ${plan.tensorCount} (table ${plan.fingerprint.toString(16)}, ${plan.kept} entries)`,
    );
  }
  const indexBytes = view.getUint32(28, true);
  const { codebooks, values } = fixedBytes(plan);
  const expected = SPARSELOCO_HEADER_BYTES + codebooks + indexBytes + values;
  if (bytes.length < expected) throw new CodecError('truncated', `${bytes.length} bytes, the header promises ${expected}`);
  if (bytes.length > expected) throw new CodecError('oversized', `${bytes.length} bytes, the header promises ${expected}`);
  return indexBytes;
}

function readCodebooks(bytes: Uint8Array, plan: ChunkPlan): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const codebooks = new Float32Array(plan.tensorCount * 2 ** plan.params.valueBits);
  for (let i = 0; i < codebooks.length; i++) {
    const v = view.getFloat32(SPARSELOCO_HEADER_BYTES + 4 * i, true);
    if (!Number.isFinite(v) || Math.abs(v) > MAX_CODEBOOK_MAGNITUDE)
      throw new CodecError('bad-codebook', `codebook entry ${i} is ${v} (must be finite, |x| ≤ ${MAX_CODEBOOK_MAGNITUDE})`);
    codebooks[i] = v;
  }
  return codebooks;
}

function readStreams(bytes: Uint8Array, plan: ChunkPlan, start: number, indexBytes: number): { local: Uint32Array; codes: Uint8Array } {
  const p = plan.params;
  try {
    const local = readIndices(bytes, start, start + indexBytes, plan.chunks, plan.kept, p.indexCoding, p.indexBits);
    const reader = new BitReader(bytes, start + indexBytes, bytes.length);
    const codes = new Uint8Array(plan.kept);
    for (let i = 0; i < plan.kept; i++) codes[i] = reader.read(p.valueBits);
    reader.finish();
    return { local, codes };
  } catch (err) {
    if (err instanceof BitStreamError) throw new CodecError(err.reason, err.message);
    throw err;
  }
}

/** Decodes a payload for `plan`'s model, or throws CodecError; never returns partial data. */
export function decodeSparseLoCo(bytes: Uint8Array, plan: ChunkPlan): SparseUpdate {
  const indexBytes = checkHeader(bytes, plan);
  const bins = 2 ** plan.params.valueBits;
  const codebooks = readCodebooks(bytes, plan);
  const { local, codes } = readStreams(bytes, plan, SPARSELOCO_HEADER_BYTES + codebooks.length * 4, indexBytes);
  const indices = new Uint32Array(plan.kept);
  const values = new Float32Array(plan.kept);
  for (let t = 0; t < plan.tensorCount; t++) {
    for (let ci = plan.tensorChunks[t]; ci < plan.tensorChunks[t + 1]; ci++) {
      for (let i = plan.keptBefore[ci]; i < plan.keptBefore[ci + 1]; i++) {
        indices[i] = flatIndex(plan.chunks[ci], local[i]);
        values[i] = codebooks[t * bins + codes[i]];
      }
    }
  }
  return { indices, values };
}
