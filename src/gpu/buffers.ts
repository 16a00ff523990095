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

export function createKernel(device: GPUDevice, label: string, code: string, entryPoint = 'main'): GPUComputePipeline {
  const module = device.createShaderModule({ label, code });
  return device.createComputePipeline({ label, layout: 'auto', compute: { module, entryPoint } });
}

/** Binds buffers to group 0 in binding order: kernels declare their bindings 0..n-1. */
export function bindBuffers(device: GPUDevice, pipeline: GPUComputePipeline, label: string, buffers: readonly GPUBuffer[]): GPUBindGroup {
  return device.createBindGroup({
    label,
    layout: pipeline.getBindGroupLayout(0),
    entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
  });
}

export function encodeDispatch(encoder: GPUCommandEncoder, pipeline: GPUComputePipeline, group: GPUBindGroup, x: number, y = 1, z = 1): void {
  const pass = encoder.beginComputePass({ label: pipeline.label });
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, group);
  pass.dispatchWorkgroups(x, y, z);
  pass.end();
}
