// The SparseLoCo codec: chunking of shapes that do not divide, the exact wire size, the
// encoder's error feedback, lossless decode of what was sent, and every refusal reason.
import { describe, expect, it } from 'vitest';
import { checkConfig, gptConfig } from '../../src/model/config';
import { paramLayout } from '../../src/model/layout';
import { topKCpu } from '../../src/compress/topk';
import { chunkPlan, DEFAULT_SPARSELOCO, flatIndex } from '../../src/compress/chunks';
import {
  CodecError,
  decodeSparseLoCo,
  maxPayloadBytes,
  quantise,
  SparseLoCoEncoder,
  SPARSELOCO_HEADER_BYTES,
  type CodecErrorCode,
} from '../../src/compress/sparseloco';
import { randomFloats } from '../support/random';

const config = checkConfig({ vocabSize: 70, contextLength: 20, embedDim: 72, layers: 1, heads: 2 });
const layout = paramLayout(config);
const plan = chunkPlan(layout);
const packedPlan = chunkPlan(layout, { ...DEFAULT_SPARSELOCO, indexCoding: 'packed' });

async function encodeOnce(seed = 1, usePlan = plan): Promise<{ bytes: Uint8Array; encoder: SparseLoCoEncoder; base: Float32Array; after: Float32Array }> {
  const encoder = new SparseLoCoEncoder(usePlan, layout.totalFloats);
  const base = randomFloats(layout.totalFloats, seed);
  const after = base.map((v, i) => v - 0.01 * Math.sin(i * 0.37 + seed));
  const { bytes } = await encoder.encode(base, after);
  return { bytes, encoder, base, after };
}

function refusal(bytes: Uint8Array, usePlan = plan): CodecErrorCode | 'accepted' {
  try {
    decodeSparseLoCo(bytes, usePlan);
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
    expect(chunks.map((c) => [c.rows, c.cols, c.k])).toEqual([
      [64, 64, 64],
      [64, 8, 8],
      [6, 64, 6],
      [6, 8, 1],
    ]);
    expect(chunks[3].offset).toBe((wte?.offset ?? 0) + 64 * 72 + 64);
    const big = chunkPlan({ ...layout, tensors: [{ name: 'v', shape: [5000], offset: 0, size: 5000, decay: false }] });
    expect(big.chunks.map((c) => [c.cols, c.k])).toEqual([
      [4096, 64],
      [904, 14],
    ]);
  });

  it('refuses params that cannot address a chunk', () => {
    expect(() => chunkPlan(layout, { ...DEFAULT_SPARSELOCO, indexBits: 11 })).toThrow(/cannot address chunks of 4096/);
    expect(() => chunkPlan(layout, { ...DEFAULT_SPARSELOCO, beta: 2 })).toThrow(/beta/);
  });

  it('packed 12-bit indices approach 146× fewer bytes than fp32; Rice-coded ones go past it', async () => {
    const shakespeare = paramLayout(gptConfig('shakespeare', 65));
    const fp32 = shakespeare.parameterCount * 4;
    const packed = fp32 / maxPayloadBytes(chunkPlan(shakespeare, { ...DEFAULT_SPARSELOCO, indexCoding: 'packed' }));
    expect(packed).toBeGreaterThan(140);
    expect(packed).toBeLessThan(146.3); // 32 bits / (64·14 bits / 4096) = 146.29 is the ceiling
    // Rice: the worst case bounds every payload; a real one is smaller still.
    expect(fp32 / maxPayloadBytes(chunkPlan(shakespeare))).toBeGreaterThan(146);
    const { bytes } = await encodeOnce(5);
    expect(bytes.length).toBeLessThan(maxPayloadBytes(packedPlan) * 0.75);
  });
});

describe('quantise', () => {
  it("maps values to 4 bins over mean ± 6σ and stores each bin's mean", () => {
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
  it.each([
    ['packed', packedPlan],
    ['rice', plan],
  ] as const)('with %s indices, the receiver decodes exactly what the sender applied', async (coding, usePlan) => {
    const encoder = new SparseLoCoEncoder(usePlan, layout.totalFloats);
    const base = randomFloats(layout.totalFloats, 3);
    const after = base.map((v, i) => v - 0.01 * Math.sin(i));
    const { bytes, update } = await encoder.encode(base, after);
    if (coding === 'packed')
      expect(bytes.length).toBe(SPARSELOCO_HEADER_BYTES + plan.tensorCount * 16 + Math.ceil((plan.kept * 12) / 8) + Math.ceil((plan.kept * 2) / 8));
    expect(bytes.length).toBeLessThanOrEqual(maxPayloadBytes(usePlan));
    const decoded = decodeSparseLoCo(bytes, usePlan);
    expect(decoded.indices).toEqual(update.indices);
    expect(decoded.values).toEqual(update.values);
    expect(new Set(decoded.indices).size).toBe(plan.kept);
  });

  it('packed and Rice payloads of the same update decode to the same values', async () => {
    const a = await encodeOnce(9, packedPlan);
    const b = await encodeOnce(9, plan);
    expect(decodeSparseLoCo(b.bytes, plan)).toEqual(decodeSparseLoCo(a.bytes, packedPlan));
    expect(() => decodeSparseLoCo(b.bytes, packedPlan)).toThrow(/wrong-params/);
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
    const flat = (local: Uint32Array): number[] =>
      plan.chunks.flatMap((c, ci) => Array.from(local.subarray(plan.keptBefore[ci], plan.keptBefore[ci + 1]), (j) => flatIndex(c, j)));
    expect([...first.update.indices]).toEqual(
      flat(
        topKCpu(
          Float32Array.from(base, (v, i) => v - after[i]),
          plan.chunks,
        ),
      ),
    );
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
  const codebookAt = SPARSELOCO_HEADER_BYTES;
  const indicesAt = codebookAt + plan.tensorCount * 16;
  const mutator =
    (bytes: Uint8Array) =>
    (f: (b: Uint8Array) => Uint8Array | void): Uint8Array => {
      const copy = bytes.slice();
      return f(copy) ?? copy;
    };

  it('bad headers, sizes and codebooks, each with its typed reason', async () => {
    const { bytes } = await encodeOnce();
    const mutate = mutator(bytes);
    expect(refusal(bytes)).toBe('accepted');
    expect(refusal(bytes.subarray(0, 10))).toBe('truncated');
    expect(refusal(bytes.subarray(0, bytes.length - 1))).toBe('truncated');
    expect(refusal(mutate((b) => Uint8Array.from([...b, 0])))).toBe('oversized');
    expect(refusal(new Uint8Array(maxPayloadBytes(plan) + 1))).toBe('oversized');
    expect(refusal(mutate((b) => void (b[0] = 0)))).toBe('bad-magic');
    expect(refusal(mutate((b) => void (b[4] = 2)))).toBe('unknown-version');
    expect(refusal(mutate((b) => void (b[5] = 3)))).toBe('wrong-params');
    expect(refusal(mutate((b) => void (b[7] = 0)))).toBe('wrong-params'); // packed coding announced
    expect(refusal(mutate((b) => void (b[20] ^= 1)))).toBe('wrong-tensor-table');
    expect(refusal(mutate((b) => new DataView(b.buffer).setFloat32(codebookAt + 4, NaN, true)))).toBe('bad-codebook');
    expect(refusal(mutate((b) => new DataView(b.buffer).setFloat32(codebookAt, Infinity, true)))).toBe('bad-codebook');
    expect(refusal(mutate((b) => new DataView(b.buffer).setFloat32(codebookAt, 1e9, true)))).toBe('bad-codebook');
  });

  it('Rice index streams that leave a chunk, end early, or carry extra bytes', async () => {
    const { bytes } = await encodeOnce();
    const mutate = mutator(bytes);
    const indexBytes = new DataView(bytes.buffer).getUint32(28, true);
    expect(refusal(mutate((b) => b.fill(0xff, indicesAt, indicesAt + 64)))).toBe('index-out-of-range');
    // Drop the index stream's last byte and declare it: the stream ends before its last index.
    const shorter = Uint8Array.from([...bytes.subarray(0, indicesAt + indexBytes - 1), ...bytes.subarray(indicesAt + indexBytes)]);
    new DataView(shorter.buffer).setUint32(28, indexBytes - 1, true);
    expect(refusal(shorter)).toMatch(/truncated|index-out-of-range/);
    expect(refusal(mutate((b) => new DataView(b.buffer).setUint32(28, indexBytes - 1, true)))).toBe('oversized');
    // One zero byte more inside the index stream: same indices, but not the one encoding.
    const longer = Uint8Array.from([...bytes.subarray(0, indicesAt + indexBytes), 0, ...bytes.subarray(indicesAt + indexBytes)]);
    new DataView(longer.buffer).setUint32(28, indexBytes + 1, true);
    expect(refusal(longer)).toBe('non-canonical');
  });

  it('packed indices out of range, repeated or out of order, and dirty padding', async () => {
    const { bytes } = await encodeOnce(1, packedPlan);
    const mutate = mutator(bytes);
    expect(refusal(bytes, packedPlan)).toBe('accepted');
    // The first chunk is 64×64; indices are 12-bit little-endian fields.
    const second = (b: Uint8Array): number => (b[indicesAt + 1] >> 4) | (b[indicesAt + 2] << 4);
    const setFirst = (b: Uint8Array, v: number): void => {
      b[indicesAt] = v & 0xff;
      b[indicesAt + 1] = (b[indicesAt + 1] & 0xf0) | (v >> 8);
    };
    expect(
      refusal(
        mutate((b) => setFirst(b, second(b))),
        packedPlan,
      ),
    ).toBe('duplicate-index');
    expect(
      refusal(
        mutate((b) => setFirst(b, second(b) + 1)),
        packedPlan,
      ),
    ).toBe('unsorted-index');
    // The last wte chunk is 6×8 = 48 elements with k = 1: write index 4095 there.
    const lastChunk = packedPlan.tensorChunks[1] - 1;
    const bit = packedPlan.keptBefore[lastChunk] * 12;
    const outOfRange = mutate((b) => {
      for (let i = 0; i < 12; i++) b[indicesAt + ((bit + i) >> 3)] |= 1 << ((bit + i) & 7);
    });
    expect(refusal(outOfRange, packedPlan)).toBe('index-out-of-range');
    expect(plan.kept % 4).not.toBe(0); // so the last byte has padding bits to flip
    expect(
      refusal(
        mutate((b) => void (b[b.length - 1] |= 0x80)),
        packedPlan,
      ),
    ).toBe('non-canonical');
  });

  it('payloads for a different model', async () => {
    const { bytes } = await encodeOnce();
    const other = chunkPlan(paramLayout(checkConfig({ ...config, vocabSize: 71 })));
    expect(() => decodeSparseLoCo(bytes, other)).toThrow(CodecError);
    expect(() => decodeSparseLoCo(bytes, other)).toThrow(/wrong-tensor-table/);
  });
});
