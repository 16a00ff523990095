// Chunked top-k by magnitude on the GPU (WGSL), with results identical to the codec's CPU
// spec (src/compress/topk.ts): for each chunk the k entries of largest |x|, ties to the lower index.
import { checkChunks, topKOffsets, type TopKChunk } from '../compress/topk';
import { createStorageBuffer, destroyDispatches, encodePass, readFloat32 } from './buffers';
import { defineKernel } from './kernel';

/**
 * One thread per chunk: a bitwise search for the k-th largest magnitude T (31 counting passes),
 * then one ordered pass keeping every entry above T and the first ones equal to T. No
 * atomics and no barriers, so the result is the CPU spec's exactly.
 */
const TOPK = defineKernel({
  name: 'topk',
  bindings: { values: 'read u32', chunks: 'read Chunk', result: 'rw u32' },
  dims: ['chunks'],
  wgsl: /* wgsl */ `
struct Chunk { offset: u32, rows: u32, cols: u32, stride: u32, k: u32, out: u32, pad0: u32, pad1: u32 }

fn mag(c: Chunk, j: u32) -> u32 {
  return values[c.offset + (j / c.cols) * c.stride + j % c.cols] & 0x7fffffffu;
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let id = gid.x + gid.y * groups.x * 64u;
  if (id >= dims.chunks) { return; }
  let c = chunks[id];
  let n = c.rows * c.cols;
  var threshold = 0u;
  for (var bit = 30; bit >= 0; bit--) {
    let candidate = threshold | (1u << u32(bit));
    var count = 0u;
    for (var j = 0u; j < n; j++) {
      if (mag(c, j) >= candidate) { count++; }
    }
    if (count >= c.k) { threshold = candidate; }
  }
  var above = 0u;
  for (var j = 0u; j < n; j++) {
    if (mag(c, j) > threshold) { above++; }
  }
  var ties = c.k - above;
  var w = c.out;
  for (var j = 0u; j < n; j++) {
    let m = mag(c, j);
    if (m > threshold || (m == threshold && ties > 0u)) {
      if (m == threshold) { ties--; }
      result[w] = j;
      w++;
    }
  }
}`,
});

export interface GpuTopK {
  /** Top-k of `values` (length = the `length` given at creation), as topKCpu returns it. */
  run(values: Float32Array): Promise<Uint32Array>;
  destroy(): void;
}

/** Builds buffers and the pipeline once for a fixed chunk plan over `length` floats. */
export function createGpuTopK(device: GPUDevice, chunks: readonly TopKChunk[], length: number): GpuTopK {
  checkChunks(chunks, length);
  const offsets = topKOffsets(chunks);
  const table = new Uint32Array(chunks.length * 8);
  chunks.forEach((c, i) => table.set([c.offset, c.rows, c.cols, c.stride, c.k, offsets[i]], i * 8));
  const total = offsets[chunks.length];
  const values = createStorageBuffer(device, length * 4, 'topk.values');
  const chunkBuffer = createStorageBuffer(device, table, 'topk.chunks');
  const result = createStorageBuffer(device, total * 4, 'topk.result');
  const groups = Math.max(1, Math.ceil(chunks.length / 64));
  const [x, y] = groups > 65535 ? [65535, Math.ceil(groups / 65535)] : [groups, 1];
  const d = TOPK.dispatch(device, { values, chunks: chunkBuffer, result }, { chunks: chunks.length }, x, y);
  return {
    async run(input) {
      if (input.length !== length) throw new RangeError(`top-k expects ${length} values, got ${input.length}`);
      device.queue.writeBuffer(values, 0, input.buffer, input.byteOffset, input.byteLength);
      const encoder = device.createCommandEncoder({ label: 'topk' });
      encodePass(encoder, [d], 'topk');
      device.queue.submit([encoder.finish()]);
      const raw = await readFloat32(device, result, total);
      return new Uint32Array(raw.buffer);
    },
    destroy() {
      for (const b of [values, chunkBuffer, result]) b.destroy();
      destroyDispatches([d]);
    },
  };
}
