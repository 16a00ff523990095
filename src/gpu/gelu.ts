// GELU (GPT-2's tanh approximation) forward and backward, and the residual add; all
// elementwise with grid-stride loops so any size fits the 65535-workgroup cap.
import { strideGroups, type Binding, type Dispatch } from './buffers';
import { defineKernel } from './kernel';

const GELU_COMMON = /* wgsl */ `
const K0: f32 = 0.7978845608028654; // sqrt(2/pi)
const K1: f32 = 0.044715;
// Clamped: some WGSL tanh implementations return NaN for large arguments (inf/inf).
fn tanhSafe(u: f32) -> f32 { return tanh(clamp(u, -15.0, 15.0)); }`;

export const GELU_FORWARD = defineKernel({
  name: 'gelu.forward',
  bindings: { x: 'read f32', out: 'rw f32' },
  dims: ['n'],
  wgsl: /* wgsl */ `
${GELU_COMMON}
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  for (var i = gid.x; i < dims.n; i += groups.x * 256u) {
    let v = x[i];
    out[i] = 0.5 * v * (1.0 + tanhSafe(K0 * (v + K1 * v * v * v)));
  }
}`,
});

export const GELU_BACKWARD = defineKernel({
  name: 'gelu.backward',
  bindings: { x: 'read f32', dout: 'read f32', dx: 'rw f32' },
  dims: ['n'],
  wgsl: /* wgsl */ `
${GELU_COMMON}
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  for (var i = gid.x; i < dims.n; i += groups.x * 256u) {
    let v = x[i];
    let t = tanhSafe(K0 * (v + K1 * v * v * v));
    let local = 0.5 * (1.0 + t) + 0.5 * v * (1.0 - t * t) * K0 * (1.0 + 3.0 * K1 * v * v);
    dx[i] = dout[i] * local;
  }
}`,
});

export const ADD = defineKernel({
  name: 'residual.forward',
  bindings: { a: 'read f32', b: 'read f32', out: 'rw f32' },
  dims: ['n'],
  wgsl: /* wgsl */ `
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  for (var i = gid.x; i < dims.n; i += groups.x * 256u) {
    out[i] = a[i] + b[i];
  }
}`,
});

export function geluForward(device: GPUDevice, n: number, x: Binding, out: Binding): Dispatch {
  return GELU_FORWARD.dispatch(device, { x, out }, { n }, strideGroups(n));
}

export function geluBackward(device: GPUDevice, n: number, x: Binding, dout: Binding, dx: Binding): Dispatch {
  return GELU_BACKWARD.dispatch(device, { x, dout, dx }, { n }, strideGroups(n));
}

/**
 * out = a + b (the residual connection). Its backward needs no kernel: the gradient passes
 * to both inputs unchanged, and the kernels downstream add into the residual gradient.
 */
export function residualForward(device: GPUDevice, n: number, a: Binding, b: Binding, out: Binding): Dispatch {
  return ADD.dispatch(device, { a, b, out }, { n }, strideGroups(n));
}
