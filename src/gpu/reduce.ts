// Sums on the GPU in a fixed tree order (same bytes on every run): plain sums for the loss,
// sums of squares for the global gradient norm. Two passes: per-workgroup partials, then one.
import { createKernel, createStorageBuffer, createUniformU32, dispatch, encodePass, type Binding, type Dispatch } from './buffers';

const WORKGROUP = 256;
/** At most this many partials, so the second pass fits one workgroup's grid-stride loop. */
const MAX_PARTIALS = 256;

export function sumWgsl(square: boolean): string {
  return /* wgsl */ `
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
    let x = input[i];
    acc += ${square ? 'x * x' : 'x'};
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
}

export interface SumReduction {
  /** One f32: the sum, valid after the recorded dispatches execute. */
  readonly result: GPUBuffer;
  readonly dispatches: readonly Dispatch[];
  encode(encoder: GPUCommandEncoder): void;
}

/** Builds, once, everything needed to sum (or sum the squares of) the first `n` floats. */
export function createSumReduction(device: GPUDevice, input: Binding, n: number, options: { square?: boolean; result?: GPUBuffer } = {}): SumReduction {
  const groups = Math.min(MAX_PARTIALS, Math.max(1, Math.ceil(n / WORKGROUP)));
  const partials = createStorageBuffer(device, groups * 4, 'sum.partials');
  const result = options.result ?? createStorageBuffer(device, 4, 'sum.result');
  const first = createKernel(device, options.square ? 'sumSquares' : 'sum', sumWgsl(options.square ?? false));
  const second = createKernel(device, 'sum', sumWgsl(false));
  const dispatches = [
    dispatch(device, first, [input, partials, createUniformU32(device, [n], 'sum.n')], groups),
    dispatch(device, second, [partials, result, createUniformU32(device, [groups], 'sum.partials.n')], 1),
  ];
  return { result, dispatches, encode: (encoder) => encodePass(encoder, dispatches, 'sum') };
}
