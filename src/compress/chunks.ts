// How SparseLoCo cuts the model into chunks: matrices into blocks of side×side, vectors into
// runs of vectorChunk elements (edge chunks smaller), with k per chunk scaled to its size.
import type { ParamLayout } from '../model/layout';
import type { TopKChunk } from './topk';
import type { IndexCoding } from './indexCoding';

export interface SparseLoCoParams {
  /** Error-feedback decay: e ← β·e + Δ. */
  beta: number;
  /** Matrices are cut into blocks of blockSide × blockSide. */
  blockSide: number;
  /** Vectors are cut into runs of this many elements. */
  vectorChunk: number;
  /** Entries kept per vectorChunk elements (64 per 4096: 1.5625 %), in every chunk pro rata. */
  topK: number;
  /** Bits per kept value: 2^valueBits codebook entries per tensor. */
  valueBits: number;
  /** Bits per chunk-local index; 2^indexBits must cover the largest chunk. */
  indexBits: number;
  /** 'packed': indexBits per index (Templar's format); 'rice': Rice-coded gaps, ≈ 40 % fewer bits. */
  indexCoding: IndexCoding;
}

/** Templar's Covenant-72B settings (see docs/PROTOCOL.md), with Rice-coded indices. */
export const DEFAULT_SPARSELOCO: SparseLoCoParams = {
  beta: 0.95,
  blockSide: 64,
  vectorChunk: 4096,
  topK: 64,
  valueBits: 2,
  indexBits: 12,
  indexCoding: 'rice',
};

export interface ChunkPlan {
  params: SparseLoCoParams;
  chunks: TopKChunk[];
  /** Chunks [tensorChunks[t], tensorChunks[t+1]) belong to layout tensor t. */
  tensorChunks: Uint32Array;
  /** Kept entries before chunk i (length chunks + 1): where its indices sit in the stream. */
  keptBefore: Uint32Array;
  /** Total kept entries per contribution: fixed by the model and params, never by the payload. */
  kept: number;
  tensorCount: number;
  /** FNV-1a of the tensor table and params: a payload for another model is refused. */
  fingerprint: number;
}

export function checkParams(p: SparseLoCoParams): SparseLoCoParams {
  const int = (name: Exclude<keyof SparseLoCoParams, 'indexCoding'>, lo: number, hi: number): void => {
    const v = p[name];
    if (!Number.isInteger(v) || v < lo || v > hi) throw new RangeError(`SparseLoCo ${name} must be an integer in [${lo}, ${hi}], got ${v}`);
  };
  if (p.indexCoding !== 'packed' && p.indexCoding !== 'rice')
    throw new RangeError(`SparseLoCo indexCoding must be packed or rice, got ${String(p.indexCoding)}`);
  if (!(p.beta >= 0 && p.beta <= 1)) throw new RangeError(`SparseLoCo beta must be in [0, 1], got ${p.beta}`);
  int('blockSide', 1, 4096);
  int('vectorChunk', 1, 1 << 24);
  int('valueBits', 1, 8);
  int('indexBits', 1, 24);
  int('topK', 1, p.vectorChunk);
  const largest = Math.max(p.blockSide * p.blockSide, p.vectorChunk);
  if (2 ** p.indexBits < largest) throw new RangeError(`SparseLoCo indexBits ${p.indexBits} cannot address chunks of ${largest} elements`);
  return p;
}

/** k for a chunk of n elements: topK per vectorChunk elements (the density), at least one. */
function keepFor(n: number, p: SparseLoCoParams): number {
  return Math.min(n, Math.max(1, Math.round((p.topK * n) / p.vectorChunk)));
}

function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

export function chunkPlan(layout: ParamLayout, params: SparseLoCoParams = DEFAULT_SPARSELOCO): ChunkPlan {
  const p = checkParams(params);
  const chunks: TopKChunk[] = [];
  const tensorChunks = new Uint32Array(layout.tensors.length + 1);
  layout.tensors.forEach((t, ti) => {
    if (t.shape.length === 2) {
      const [rows, cols] = t.shape;
      for (let r = 0; r < rows; r += p.blockSide) {
        for (let c = 0; c < cols; c += p.blockSide) {
          const h = Math.min(p.blockSide, rows - r);
          const w = Math.min(p.blockSide, cols - c);
          chunks.push({ offset: t.offset + r * cols + c, rows: h, cols: w, stride: cols, k: keepFor(h * w, p) });
        }
      }
    } else {
      for (let i = 0; i < t.size; i += p.vectorChunk) {
        const n = Math.min(p.vectorChunk, t.size - i);
        chunks.push({ offset: t.offset + i, rows: 1, cols: n, stride: n, k: keepFor(n, p) });
      }
    }
    tensorChunks[ti + 1] = chunks.length;
  });
  const keptBefore = new Uint32Array(chunks.length + 1);
  chunks.forEach((c, i) => (keptBefore[i + 1] = keptBefore[i] + c.k));
  const table = layout.tensors.map((t) => `${t.name}[${t.shape.join('x')}]@${t.offset}`).join(';');
  const fingerprint = fnv1a(`${table}|${p.blockSide},${p.vectorChunk},${p.topK},${p.valueBits},${p.indexBits},${p.indexCoding}`);
  return { params: p, chunks, tensorChunks, keptBefore, kept: keptBefore[chunks.length], tensorCount: layout.tensors.length, fingerprint };
}

/** Flat parameter index of chunk-local index j. */
export function flatIndex(c: TopKChunk, j: number): number {
  return c.offset + Math.floor(j / c.cols) * c.stride + (j % c.cols);
}
