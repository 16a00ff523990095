// Buffer creation, upload and readback shared by every kernel family.
// Readback is the slow path: training reads back only the loss, and not every step.

export function createStorageBuffer(device: GPUDevice, source: Float32Array | Uint32Array | number, label: string, extraUsage = 0): GPUBuffer {
  const byteLength = typeof source === 'number' ? source : source.byteLength;
  // WebGPU requires sizes in multiples of 4; a zero-size binding is invalid, so round up to 4.
  const size = Math.max(4, Math.ceil(byteLength / 4) * 4);
  const buffer = device.createBuffer({
    label,
    size,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST | extraUsage,
  });
  if (typeof source !== 'number') device.queue.writeBuffer(buffer, 0, source.buffer, source.byteOffset, source.byteLength);
  return buffer;
}

/** A uniform buffer of u32 fields (shapes, counts): the way kernels learn their sizes. */
export function createUniformU32(device: GPUDevice, values: readonly number[], label: string): GPUBuffer {
  const padded = new Uint32Array(Math.max(4, Math.ceil(values.length / 4) * 4));
  padded.set(values);
  const buffer = device.createBuffer({ label, size: padded.byteLength, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(buffer, 0, padded);
  return buffer;
}

/** Copies `count` floats out of a GPU buffer; waits for all queued work before them. */
export async function readFloat32(device: GPUDevice, source: GPUBuffer, count: number, offsetFloats = 0): Promise<Float32Array> {
  const bytes = count * 4;
  const staging = device.createBuffer({ label: 'readback', size: Math.max(4, bytes), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const encoder = device.createCommandEncoder({ label: 'readback' });
  encoder.copyBufferToBuffer(source, offsetFloats * 4, staging, 0, bytes);
  device.queue.submit([encoder.finish()]);
  try {
    await staging.mapAsync(GPUMapMode.READ);
    return new Float32Array(staging.getMappedRange().slice(0));
  } finally {
    staging.destroy();
  }
}

const pipelineCache = new WeakMap<GPUDevice, Map<string, GPUComputePipeline>>();

/**
 * A compute pipeline for `code`, compiled once per device: every layer of a model reuses
 * the same pipelines, so building a model costs one compile per kernel variant.
 */
export function createKernel(device: GPUDevice, label: string, code: string, entryPoint = 'main'): GPUComputePipeline {
  let cache = pipelineCache.get(device);
  if (!cache) pipelineCache.set(device, (cache = new Map()));
  const key = `${entryPoint}\n${code}`;
  const cached = cache.get(key);
  if (cached) return cached;
  const module = device.createShaderModule({ label, code });
  const pipeline = device.createComputePipeline({ label, layout: 'auto', compute: { module, entryPoint } });
  cache.set(key, pipeline);
  return pipeline;
}

/** A whole buffer, or a range of one (a tensor view inside the flat parameter buffer). */
export type Binding = GPUBuffer | GPUBufferBinding;

/** One recorded kernel launch: built once, encoded every step. */
export interface Dispatch {
  pipeline: GPUComputePipeline;
  group: GPUBindGroup;
  workgroups: readonly [number, number?, number?];
  /** The uniform buffer of its shape values, which this launch alone uses (freed with it). */
  dims?: GPUBuffer;
}

/** Frees the uniform buffers the launches own (pipelines are shared per device and stay). */
export function destroyDispatches(dispatches: Iterable<Dispatch>): void {
  for (const d of dispatches) d.dims?.destroy();
}

/** Encodes launches into one compute pass; WebGPU orders each dispatch's writes before the next. */
export function encodeDispatches(pass: GPUComputePassEncoder, dispatches: readonly Dispatch[]): void {
  for (const d of dispatches) {
    pass.setPipeline(d.pipeline);
    pass.setBindGroup(0, d.group);
    pass.dispatchWorkgroups(d.workgroups[0], d.workgroups[1] ?? 1, d.workgroups[2] ?? 1);
  }
}

/** Encodes launches in their own compute pass. */
export function encodePass(encoder: GPUCommandEncoder, dispatches: readonly Dispatch[], label?: string): void {
  const pass = encoder.beginComputePass(label ? { label } : {});
  encodeDispatches(pass, dispatches);
  pass.end();
}

/** Workgroups for a grid-stride elementwise kernel: enough to fill a GPU, never over the 65535 cap. */
export function strideGroups(n: number, workgroupSize = 256): number {
  return Math.max(1, Math.min(Math.ceil(n / workgroupSize), 4096));
}

/** A range of `size` floats at float `offset` inside `buffer`, for binding. */
export function floatRange(buffer: GPUBuffer, offset: number, size: number): GPUBufferBinding {
  return { buffer, offset: offset * 4, size: Math.max(4, size * 4) };
}
