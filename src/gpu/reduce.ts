// Sum reduction on the GPU in a fixed tree order (same bytes on every run), the building
// block of the global gradient norm. Two passes: per-workgroup partials, then one workgroup.
import { bindBuffers, createKernel, createStorageBuffer, createUniformU32, encodeDispatch } from './buffers';

const WORKGROUP = 256;
/** At most this many partials, so the second pass fits one workgroup's grid-stride loop. */
const MAX_PARTIALS = 256;

export const SUM_WGSL = /* wgsl */ `
@group(0) @binding(0) var<storage, read> input: array<f32>;
@group(0) @binding(1) var<storage, read_write> output: array<f32>;
@group(0) @binding(2) var<uniform> params: vec4<u32>; // x: element count

var<workgroup> scratch: array<f32, ${WORKGROUP}>;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let n = params.x;
  let stride = ${WORKGROUP}u * groups.x;
  var acc = 0.0;
  for (var i = wid.x * ${WORKGROUP}u + lid.x; i < n; i += stride) {
    acc += input[i];
  }
  scratch[lid.x] = acc;
  workgroupBarrier();
  for (var s = ${WORKGROUP / 2}u; s > 0u; s >>= 1u) {
    if (lid.x < s) {
      scratch[lid.x] += scratch[lid.x + s];
    }
    workgroupBarrier();
  }
  if (lid.x == 0u) {
    output[wid.x] = scratch[0];
  }
}`;

export interface SumReduction {
  /** One f32: the sum, valid after the recorded passes execute. */
  readonly result: GPUBuffer;
  encode(encoder: GPUCommandEncoder): void;
  destroy(): void;
}

/** Builds, once, everything needed to sum the first `n` floats of `input`. */
export function createSumReduction(device: GPUDevice, input: GPUBuffer, n: number): SumReduction {
  const pipeline = createKernel(device, 'sum', SUM_WGSL);
  const groups = Math.min(MAX_PARTIALS, Math.max(1, Math.ceil(n / WORKGROUP)));
  const partials = createStorageBuffer(device, groups * 4, 'sum.partials');
  const result = createStorageBuffer(device, 4, 'sum.result');
  const firstParams = createUniformU32(device, [n], 'sum.params1');
  const secondParams = createUniformU32(device, [groups], 'sum.params2');
  const first = bindBuffers(device, pipeline, 'sum.pass1', [input, partials, firstParams]);
  const second = bindBuffers(device, pipeline, 'sum.pass2', [partials, result, secondParams]);
  return {
    result,
    encode(encoder) {
      encodeDispatch(encoder, pipeline, first, groups);
      encodeDispatch(encoder, pipeline, second, 1);
    },
    destroy() {
      for (const b of [partials, result, firstParams, secondParams]) b.destroy();
    },
  };
}
