// Sums on the GPU in a fixed tree order (same bytes on every run): plain sums for the loss,
// sums of squares for the global gradient norm. Two passes: per-workgroup partials, then one.
import { createStorageBuffer, destroyDispatches, encodePass, type Binding, type Dispatch } from './buffers';
import { defineKernel } from './kernel';

const WORKGROUP = 256;
/** At most this many partials, so the second pass fits one workgroup's grid-stride loop. */
const MAX_PARTIALS = 256;

export const sumKernel = (square: boolean) =>
  defineKernel({
    name: square ? 'sumSquares' : 'sum',
    bindings: { input: 'read f32', output: 'rw f32' },
    dims: ['n'],
    wgsl: /* wgsl */ `
var<workgroup> scratch: array<f32, ${WORKGROUP}>;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let n = dims.n;
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
}`,
  });

export interface SumReduction {
  /** One f32: the sum, valid after the recorded dispatches execute. */
  readonly result: GPUBuffer;
  readonly dispatches: readonly Dispatch[];
  encode(encoder: GPUCommandEncoder): void;
  /** Frees its partials, its shape uniforms, and the result buffer when it made that itself. */
  destroy(): void;
}

/** Builds, once, everything needed to sum (or sum the squares of) the first `n` floats. */
export function createSumReduction(device: GPUDevice, input: Binding, n: number, options: { square?: boolean; result?: GPUBuffer } = {}): SumReduction {
  const groups = Math.min(MAX_PARTIALS, Math.max(1, Math.ceil(n / WORKGROUP)));
  const partials = createStorageBuffer(device, groups * 4, 'sum.partials');
  const result = options.result ?? createStorageBuffer(device, 4, 'sum.result');
  const dispatches = [
    sumKernel(options.square ?? false).dispatch(device, { input, output: partials }, { n }, groups),
    sumKernel(false).dispatch(device, { input: partials, output: result }, { n: groups }, 1),
  ];
  return {
    result,
    dispatches,
    encode: (encoder) => encodePass(encoder, dispatches, 'sum'),
    destroy: () => {
      destroyDispatches(dispatches);
      partials.destroy();
      if (!options.result) result.destroy();
    },
  };
}
