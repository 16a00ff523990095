// LayerNorm forward and backward (eps 1e-5, biased variance). One thread per row for the row
// statistics; parameter gradients reduce over rows per channel in a fixed order.
import type { Binding, Dispatch } from './buffers';
import { defineKernel } from './kernel';
import { kernelStrategy } from './strategy';

const WG = 64;
const DIMS = ['rows', 'channels'] as const;

/** Fixed-order tree sum of one value per thread across the workgroup. */
const REDUCE = /* wgsl */ `
var<workgroup> red: array<f32, ${WG}>;
fn workgroupSum(v: f32, lane: u32) -> f32 {
  red[lane] = v;
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s >>= 1u) {
    if (lane < s) { red[lane] += red[lane + s]; }
    workgroupBarrier();
  }
  let total = red[0];
  workgroupBarrier();
  return total;
}`;

// Row kernels use one thread per row: no workgroup barriers, which software adapters
// (SwiftShader) emulate at great cost, and rows of ≤ 1–2k channels stay in cache on GPUs.
export const LAYERNORM_FORWARD = defineKernel({
  name: 'layernorm.forward',
  // stats: per row, mean and rstd.
  bindings: { x: 'read f32', weight: 'read f32', bias: 'read f32', out: 'rw f32', stats: 'rw f32' },
  dims: DIMS,
  wgsl: /* wgsl */ `
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let row = gid.x;
  if (row >= dims.rows) { return; }
  let base = row * dims.channels;
  let n = f32(dims.channels);
  var s = 0.0;
  for (var c = 0u; c < dims.channels; c++) { s += x[base + c]; }
  let mean = s / n;
  // Two-pass variance: numerically safer than E[x²] − mean².
  var v = 0.0;
  for (var c = 0u; c < dims.channels; c++) { let d = x[base + c] - mean; v += d * d; }
  let rstd = 1.0 / sqrt(v / n + 1e-5);
  for (var c = 0u; c < dims.channels; c++) {
    out[base + c] = (x[base + c] - mean) * rstd * weight[c] + bias[c];
  }
  stats[2u * row] = mean;
  stats[2u * row + 1u] = rstd;
}`,
});

export const layerNormBackwardKernel = (accumulate: boolean) =>
  defineKernel({
    name: accumulate ? 'layernorm.backward+acc' : 'layernorm.backward',
    bindings: { dout: 'read f32', x: 'read f32', stats: 'read f32', weight: 'read f32', dx: 'rw f32' },
    dims: DIMS,
    wgsl: /* wgsl */ `
// dx (+)= rstd·(dnorm − mean(dnorm) − xhat·mean(dnorm·xhat)), dnorm = dout·weight.
// Inside blocks it adds into dx, where the residual stream's gradient already flows.
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let row = gid.x;
  if (row >= dims.rows) { return; }
  let base = row * dims.channels;
  let mean = stats[2u * row];
  let rstd = stats[2u * row + 1u];
  var s1 = 0.0;
  var s2 = 0.0;
  for (var c = 0u; c < dims.channels; c++) {
    let dnorm = dout[base + c] * weight[c];
    s1 += dnorm;
    s2 += dnorm * (x[base + c] - mean) * rstd;
  }
  let n = f32(dims.channels);
  let meanD = s1 / n;
  let meanDX = s2 / n;
  for (var c = 0u; c < dims.channels; c++) {
    let xhat = (x[base + c] - mean) * rstd;
    let dnorm = dout[base + c] * weight[c];
    dx[base + c] ${accumulate ? '+=' : '='} rstd * (dnorm - meanD - xhat * meanDX);
  }
}`,
  });

const PARAM_GRAD_BINDINGS = { dout: 'read f32', x: 'read f32', stats: 'read f32', dweight: 'rw f32', dbias: 'rw f32' } as const;

export const LAYERNORM_PARAM_GRAD = defineKernel({
  name: 'layernorm.paramGrad',
  bindings: PARAM_GRAD_BINDINGS,
  dims: DIMS,
  wgsl: /* wgsl */ `
${REDUCE}

// One workgroup per channel; lanes stride over rows, then a fixed-order tree sum.
@compute @workgroup_size(${WG})
fn main(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let c = wid.x;
  var dw = 0.0;
  var db = 0.0;
  for (var row = lid.x; row < dims.rows; row += ${WG}u) {
    let g = dout[row * dims.channels + c];
    let xhat = (x[row * dims.channels + c] - stats[2u * row]) * stats[2u * row + 1u];
    dw += g * xhat;
    db += g;
  }
  let totalW = workgroupSum(dw, lid.x);
  let totalB = workgroupSum(db, lid.x);
  if (lid.x == 0u) {
    dweight[c] += totalW;
    dbias[c] += totalB;
  }
}`,
});

/** Barrier-free variant for software adapters: one thread per channel walks every row. */
export const LAYERNORM_PARAM_GRAD_DIRECT = defineKernel({
  name: 'layernorm.paramGrad direct',
  bindings: PARAM_GRAD_BINDINGS,
  dims: DIMS,
  wgsl: /* wgsl */ `
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let c = gid.x;
  if (c >= dims.channels) { return; }
  var dw = 0.0;
  var db = 0.0;
  for (var row = 0u; row < dims.rows; row++) {
    let g = dout[row * dims.channels + c];
    dw += g * (x[row * dims.channels + c] - stats[2u * row]) * stats[2u * row + 1u];
    db += g;
  }
  dweight[c] += dw;
  dbias[c] += db;
}`,
});

export interface LayerNormShape {
  rows: number;
  channels: number;
}

export function layerNormForward(device: GPUDevice, s: LayerNormShape, x: Binding, weight: Binding, bias: Binding, out: Binding, stats: Binding): Dispatch {
  return LAYERNORM_FORWARD.dispatch(device, { x, weight, bias, out, stats }, s, Math.ceil(s.rows / WG));
}

/** dx (+)= input gradient (`accumulate` adds); dweight, dbias += parameter gradients. */
export function layerNormBackward(
  device: GPUDevice,
  s: LayerNormShape & { accumulate: boolean },
  dout: Binding,
  x: Binding,
  stats: Binding,
  weight: Binding,
  dx: Binding,
  dweight: Binding,
  dbias: Binding,
): Dispatch[] {
  const dims = { rows: s.rows, channels: s.channels };
  const grads = { dout, x, stats, dweight, dbias };
  return [
    layerNormBackwardKernel(s.accumulate).dispatch(device, { dout, x, stats, weight, dx }, dims, Math.ceil(s.rows / WG)),
    kernelStrategy(device) === 'direct'
      ? LAYERNORM_PARAM_GRAD_DIRECT.dispatch(device, grads, dims, Math.ceil(s.channels / WG))
      : LAYERNORM_PARAM_GRAD.dispatch(device, grads, dims, s.channels),
  ];
}
