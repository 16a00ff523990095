// The SparseLoCo codec: chunking of shapes that do not divide, the exact wire size, the
// encoder's error feedback, lossless decode of what was sent, and every refusal reason.
import { describe, expect, it } from 'vitest';
import { checkConfig, gptConfig } from '../../src/gpu/config';
import { paramLayout } from '../../src/gpu/layout';
import { topKCpu } from '../../src/gpu/topk';
import { chunkPlan, DEFAULT_SPARSELOCO, flatIndex } from '../../src/compress/chunks';
import { CodecError, decodeSparseLoCo, payloadBytes, quantise, SparseLoCoEncoder, SPARSELOCO_HEADER_BYTES, type CodecErrorCode } from '../../src/compress/sparseloco';
import { randomFloats } from '../support/random';

const config = checkConfig({ vocabSize: 70, contextLength: 20, embedDim: 72, layers: 1, heads: 2 });
const layout = paramLayout(config);
const plan = chunkPlan(layout);

async function encodeOnce(seed = 1): Promise<{ bytes: Uint8Array; encoder: SparseLoCoEncoder; base: Float32Array; after: Float32Array }> {
  const encoder = new SparseLoCoEncoder(plan, layout.totalFloats);
  const base = randomFloats(layout.totalFloats, seed);
  const after = base.map((v, i) => v - 0.01 * Math.sin(i * 0.37 + seed));
  const { bytes } = await encoder.encode(base, after);
  return { bytes, encoder, base, after };
}

function refusal(bytes: Uint8Array): CodecErrorCode | 'accepted' {
  try {
    decodeSparseLoCo(bytes, plan);
    return 'accepted';
  } catch (err) {
    if (err instanceof CodecError) return err.code;
    throw err;
  }
}

describe('chunkPlan', () => {
  it('cuts matrices into 64×64 blocks and vectors into 4096-element runs, edges included', () => {
    const wte = layout.byName.get('wte');
    const chunks = plan.chunks.slice(plan.tensorChunks[0], plan.tensorChunks[1]);
    // wte is 70×72: blocks 64×64, 64×8, 6×64, 6×8, k pro rata (64 per 4096), at least 1.
    expect(chunks.map((c) => [c.rows, c.cols, c.k])).toEqual([[64, 64, 64], [64, 8, 8], [6, 64, 6], [6, 8, 1]]);
    expect(chunks[3].offset).toBe((wte?.offset ?? 0) + 64 * 72 + 64);
    const big = chunkPlan({ ...layout, tensors: [{ name: 'v', shape: [5000], offset: 0, size: 5000, decay: false }] });
    expect(big.chunks.map((c) => [c.cols, c.k])).toEqual([[4096, 64], [904, 14]]);
  });

  it('refuses params that cannot address a chunk', () => {
    expect(() => chunkPlan(layout, { ...DEFAULT_SPARSELOCO, indexBits: 11 })).toThrow(/cannot address chunks of 4096/);
    expect(() => chunkPlan(layout, { ...DEFAULT_SPARSELOCO, beta: 2 })).toThrow(/beta/);
  });

  it('reaches ≈146× fewer bytes than fp32 at scale, the header and codebooks aside', () => {
    const big = chunkPlan(paramLayout(gptConfig('shakespeare', 65)));
    const ratio = (paramLayout(gptConfig('shakespeare', 65)).parameterCount * 4) / payloadBytes(big);
    expect(ratio).toBeGreaterThan(140);
    expect(ratio).toBeLessThan(146.3); // 32 bits / (64·14 bits / 4096) = 146.29 is the ceiling
  });
});

describe('quantise', () => {
  it('maps values to 4 bins over mean ± 6σ and stores each bin\'s mean', () => {
    const values = Float32Array.from([-1, -1.2, -0.8, 1, 1.2, 0.8]);
    const { codebook, codes } = quantise(values, 4);
    expect([...codes]).toEqual([1, 1, 1, 2, 2, 2]);
    expect(codebook[1]).toBeCloseTo(-1, 6);
    expect(codebook[2]).toBeCloseTo(1, 6);
    // Empty outer bins hold their centres, ±4.5σ, so the table stays finite and canonical.
    const sd = Math.sqrt((2 * (1 + 1.44 + 0.64)) / 6);
    expect(codebook[0]).toBeCloseTo(-4.5 * sd, 5);
    expect(codebook[3]).toBeCloseTo(4.5 * sd, 5);
    // A far outlier widens the range: everything near ±1 then shares one bin.
    expect([...quantise(Float32Array.from([...values, 40]), 4).codes]).toEqual([1, 1, 1, 1, 1, 1, 2]);
    expect(quantise(Float32Array.from([3, 3]), 4).codebook).toEqual(Float32Array.from([3, 3, 3, 3]));
  });
});

describe('SparseLoCoEncoder', () => {
  it('sends exactly the planned bytes, and the receiver decodes exactly what the sender applied', async () => {
    const encoder = new SparseLoCoEncoder(plan, layout.totalFloats);
    const base = randomFloats(layout.totalFloats, 3);
    const after = base.map((v, i) => v - 0.01 * Math.sin(i));
    const { bytes, update } = await encoder.encode(base, after);
    expect(bytes.length).toBe(payloadBytes(plan));
    expect(bytes.length).toBe(SPARSELOCO_HEADER_BYTES + plan.tensorCount * 16 + Math.ceil((plan.kept * 12) / 8) + Math.ceil((plan.kept * 2) / 8));
    const decoded = decodeSparseLoCo(bytes, plan);
    expect(decoded.indices).toEqual(update.indices);
    expect(decoded.values).toEqual(update.values);
    expect(new Set(decoded.indices).size).toBe(plan.kept);
  });

  it('keeps the largest entries of the error buffer and feeds back what it did not send', async () => {
    const encoder = new SparseLoCoEncoder(plan, layout.totalFloats);
    const base = randomFloats(layout.totalFloats, 4);
    const after = base.map((v, i) => v - 0.01 * Math.cos(i));
    const first = await encoder.encode(base, after);
    const sent = new Map<number, number>();
    first.update.indices.forEach((k, i) => sent.set(k, first.update.values[i]));
    // e = Δ − decode(c): untouched entries hold Δ, sent entries hold Δ − codebook value.
    for (let k = 0; k < layout.totalFloats; k++) {
      const delta = Math.fround(base[k] - after[k]);
      expect(encoder.error[k]).toBe(Math.fround(delta - (sent.get(k) ?? 0)));
    }
    const flat = (local: Uint32Array): number[] => plan.chunks.flatMap((c, ci) => Array.from(local.subarray(plan.keptBefore[ci], plan.keptBefore[ci + 1]), (j) => flatIndex(c, j)));
    expect([...first.update.indices]).toEqual(flat(topKCpu(Float32Array.from(base, (v, i) => v - after[i]), plan.chunks)));
    // Second window with Δ = 0: e ← 0.95·e, and the selection is the top-k of that.
    const decayed = encoder.error.map((v) => Math.fround(0.95) * v);
    const second = await encoder.encode(base, base);
    expect([...second.update.indices]).toEqual(flat(topKCpu(decayed, plan.chunks)));
  });

  it('refuses models of the wrong size', async () => {
    const encoder = new SparseLoCoEncoder(plan, layout.totalFloats);
    await expect(encoder.encode(new Float32Array(3), new Float32Array(3))).rejects.toThrow(/expects/);
  });
});

describe('decodeSparseLoCo refuses', () => {
  it('each kind of bad payload with its typed reason', async () => {
    const { bytes } = await encodeOnce();
    const mutate = (f: (b: Uint8Array) => Uint8Array | void): Uint8Array => {
      const copy = bytes.slice();
      return f(copy) ?? copy;
    };
    const codebookAt = SPARSELOCO_HEADER_BYTES;
    const indicesAt = codebookAt + plan.tensorCount * 16;
    expect(refusal(bytes)).toBe('accepted');
    expect(refusal(bytes.subarray(0, 10))).toBe('truncated');
    expect(refusal(bytes.subarray(0, bytes.length - 1))).toBe('truncated');
    expect(refusal(mutate((b) => Uint8Array.from([...b, 0])))).toBe('oversized');
    expect(refusal(mutate((b) => void (b[0] = 0)))).toBe('bad-magic');
    expect(refusal(mutate((b) => void (b[4] = 2)))).toBe('unknown-version');
    expect(refusal(mutate((b) => void (b[5] = 3)))).toBe('wrong-params');
    expect(refusal(mutate((b) => void (b[20] ^= 1)))).toBe('wrong-tensor-table');
    expect(refusal(mutate((b) => new DataView(b.buffer).setFloat32(codebookAt + 4, NaN, true)))).toBe('bad-codebook');
    expect(refusal(mutate((b) => new DataView(b.buffer).setFloat32(codebookAt, Infinity, true)))).toBe('bad-codebook');
    expect(refusal(mutate((b) => new DataView(b.buffer).setFloat32(codebookAt, 1e9, true)))).toBe('bad-codebook');
    // The first chunk is 64×64; indices are 12-bit little-endian fields.
    const firstTwo = (b: Uint8Array): [number, number] => [b[indicesAt] | ((b[indicesAt + 1] & 0x0f) << 8), (b[indicesAt + 1] >> 4) | (b[indicesAt + 2] << 4)];
    const setFirst = (b: Uint8Array, v: number): void => {
      b[indicesAt] = v & 0xff;
      b[indicesAt + 1] = (b[indicesAt + 1] & 0xf0) | (v >> 8);
    };
    expect(refusal(mutate((b) => setFirst(b, firstTwo(b)[1])))).toBe('duplicate-index');
    expect(refusal(mutate((b) => setFirst(b, firstTwo(b)[1] + 1)))).toBe('unsorted-index');
    // The last wte chunk is 6×8 = 48 elements with k = 1: write index 63 there.
    const lastChunk = plan.tensorChunks[1] - 1;
    const bit = plan.keptBefore[lastChunk] * 12;
    expect(refusal(mutate((b) => {
      for (let i = 0; i < 12; i++) {
        const at = indicesAt + ((bit + i) >> 3);
        b[at] |= 1 << ((bit + i) & 7);
      }
    }))).toBe('index-out-of-range');
    expect(plan.kept % 4).not.toBe(0); // so the last byte has padding bits to flip
    expect(refusal(mutate((b) => void (b[b.length - 1] |= 0x80)))).toBe('non-canonical');
  });

  it('payloads for a different model', async () => {
    const { bytes } = await encodeOnce();
    const other = chunkPlan(paramLayout(checkConfig({ ...config, vocabSize: 71 })));
    expect(() => decodeSparseLoCo(bytes, other)).toThrow(CodecError);
    expect(() => decodeSparseLoCo(bytes, other)).toThrow(/wrong-tensor-table/);
  });
});
