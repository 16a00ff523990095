// Chunked top-k by magnitude, the codec's spec: for each chunk (a 2-D block of a row-major
// tensor) the k entries of largest |x|, ties to the lower index. src/gpu/topk.ts runs it on the GPU.

/** One chunk: element j (j < rows·cols) lives at offset + ⌊j / cols⌋·stride + j mod cols. */
export interface TopKChunk {
  offset: number;
  rows: number;
  cols: number;
  stride: number;
  /** How many entries to keep, 1 ≤ k ≤ rows·cols. */
  k: number;
}

/** Output position of each chunk's k indices in the concatenated result. */
export function topKOffsets(chunks: readonly TopKChunk[]): Uint32Array {
  const out = new Uint32Array(chunks.length + 1);
  chunks.forEach((c, i) => (out[i + 1] = out[i] + c.k));
  return out;
}

/** Throws a RangeError for a chunk that does not fit `length` values or keeps no entries. */
export function checkChunks(chunks: readonly TopKChunk[], length: number): void {
  for (const c of chunks) {
    const n = c.rows * c.cols;
    if (!(c.k >= 1 && c.k <= n) || c.cols > c.stride || c.offset + (c.rows - 1) * c.stride + c.cols > length)
      throw new RangeError(`bad top-k chunk ${JSON.stringify(c)} for ${length} values`);
  }
}

/**
 * The CPU spec. Magnitudes compare as the float's bits with the sign cleared: that order is
 * |x|'s order for every finite float, and it is what the GPU compares, so results are equal.
 * Returns chunk-local indices, ascending within each chunk, chunks concatenated.
 */
export function topKCpu(values: Float32Array, chunks: readonly TopKChunk[]): Uint32Array {
  checkChunks(chunks, values.length);
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const offsets = topKOffsets(chunks);
  const out = new Uint32Array(offsets[chunks.length]);
  chunks.forEach((c, ci) => {
    const n = c.rows * c.cols;
    const mag = new Uint32Array(n);
    for (let j = 0; j < n; j++) mag[j] = bits[c.offset + Math.floor(j / c.cols) * c.stride + (j % c.cols)] & 0x7fffffff;
    const order = Array.from({ length: n }, (_, j) => j).sort((a, b) => mag[b] - mag[a] || a - b);
    const kept = order.slice(0, c.k).sort((a, b) => a - b);
    out.set(kept, offsets[ci]);
  });
  return out;
}
