// Causal multi-head self-attention, forward and backward. The forward fuses scale, causal
// mask, softmax and the weighted sum of values, keeping only the probabilities (T² per head)
// for backward. Backward is two gathers, one per query row and one per key row: no atomics.
import type { Binding, Dispatch } from './buffers';
import { defineKernel } from './kernel';

const WG = 64;

const DIMS = ['batch', 'seq', 'heads', 'channels'] as const;

function header(headDim: number): string {
  return /* wgsl */ `
const HS: u32 = ${headDim}u;
fn rowOf(b: u32, t: u32) -> u32 { return b * dims.seq + t; }
fn attRow(b: u32, h: u32, t: u32) -> u32 { return ((b * dims.heads + h) * dims.seq + t) * dims.seq; }`;
}

/** qkv [B·T, 3C] (q | k | v) → att [B, H, T, T] probabilities and out [B·T, C]. */
export const attentionForwardKernel = (headDim: number) =>
  defineKernel({
    name: 'attention.forward',
    bindings: { qkv: 'read f32', att: 'rw f32', out: 'rw f32' },
    dims: DIMS,
    wgsl: /* wgsl */ `
${header(headDim)}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let T = dims.seq;
  let C = dims.channels;
  if (gid.x >= dims.batch * dims.heads * T) { return; }
  let t = gid.x % T;
  let h = (gid.x / T) % dims.heads;
  let b = gid.x / (T * dims.heads);
  let ar = attRow(b, h, t);
  let scale = 1.0 / sqrt(f32(HS));
  var q: array<f32, HS>;
  let qBase = rowOf(b, t) * 3u * C + h * HS;
  for (var d = 0u; d < HS; d++) { q[d] = qkv[qBase + d]; }
  var maxScore = -3.0e38;
  for (var t2 = 0u; t2 <= t; t2++) {
    let kBase = rowOf(b, t2) * 3u * C + C + h * HS;
    var s = 0.0;
    for (var d = 0u; d < HS; d++) { s += q[d] * qkv[kBase + d]; }
    s *= scale;
    att[ar + t2] = s;
    maxScore = max(maxScore, s);
  }
  var sum = 0.0;
  for (var t2 = 0u; t2 <= t; t2++) {
    let e = exp(att[ar + t2] - maxScore);
    att[ar + t2] = e;
    sum += e;
  }
  let inv = 1.0 / sum;
  var acc: array<f32, HS>;
  for (var t2 = 0u; t2 <= t; t2++) {
    let p = att[ar + t2] * inv;
    att[ar + t2] = p;
    let vBase = rowOf(b, t2) * 3u * C + 2u * C + h * HS;
    for (var d = 0u; d < HS; d++) { acc[d] += p * qkv[vBase + d]; }
  }
  for (var t2 = t + 1u; t2 < T; t2++) { att[ar + t2] = 0.0; }
  let oBase = rowOf(b, t) * C + h * HS;
  for (var d = 0u; d < HS; d++) { out[oBase + d] = acc[d]; }
}`,
  });

/** Per query row: dS = P ⊙ (dP − Σ P·dP) with dP = dout·vᵀ, and dq = scale·dS·k. */
export const attentionBackwardQueryKernel = (headDim: number) =>
  defineKernel({
    name: 'attention.backwardQuery',
    // dout [B·T, C], dscores [B, H, T, T], dqkv [B·T, 3C].
    bindings: { qkv: 'read f32', att: 'read f32', dout: 'read f32', dscores: 'rw f32', dqkv: 'rw f32' },
    dims: DIMS,
    wgsl: /* wgsl */ `
${header(headDim)}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let T = dims.seq;
  let C = dims.channels;
  if (gid.x >= dims.batch * dims.heads * T) { return; }
  let t = gid.x % T;
  let h = (gid.x / T) % dims.heads;
  let b = gid.x / (T * dims.heads);
  let ar = attRow(b, h, t);
  var g: array<f32, HS>;
  let oBase = rowOf(b, t) * C + h * HS;
  for (var d = 0u; d < HS; d++) { g[d] = dout[oBase + d]; }
  var rowDot = 0.0;
  for (var t2 = 0u; t2 <= t; t2++) {
    let vBase = rowOf(b, t2) * 3u * C + 2u * C + h * HS;
    var dp = 0.0;
    for (var d = 0u; d < HS; d++) { dp += g[d] * qkv[vBase + d]; }
    dscores[ar + t2] = dp;
    rowDot += att[ar + t2] * dp;
  }
  let scale = 1.0 / sqrt(f32(HS));
  var dq: array<f32, HS>;
  for (var t2 = 0u; t2 <= t; t2++) {
    let ds = att[ar + t2] * (dscores[ar + t2] - rowDot);
    dscores[ar + t2] = ds;
    let kBase = rowOf(b, t2) * 3u * C + C + h * HS;
    for (var d = 0u; d < HS; d++) { dq[d] += ds * qkv[kBase + d]; }
  }
  let qBase = rowOf(b, t) * 3u * C + h * HS;
  for (var d = 0u; d < HS; d++) { dqkv[qBase + d] = dq[d] * scale; }
}`,
  });

/** Per key row t2: dk = scale·Σ_{t≥t2} dS[t,t2]·q_t and dv = Σ_{t≥t2} P[t,t2]·dout_t. */
export const attentionBackwardKeyKernel = (headDim: number) =>
  defineKernel({
    name: 'attention.backwardKey',
    bindings: { qkv: 'read f32', att: 'read f32', dout: 'read f32', dscores: 'read f32', dqkv: 'rw f32' },
    dims: DIMS,
    wgsl: /* wgsl */ `
${header(headDim)}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let T = dims.seq;
  let C = dims.channels;
  if (gid.x >= dims.batch * dims.heads * T) { return; }
  let t2 = gid.x % T;
  let h = (gid.x / T) % dims.heads;
  let b = gid.x / (T * dims.heads);
  var dk: array<f32, HS>;
  var dv: array<f32, HS>;
  for (var t = t2; t < T; t++) {
    let ar = attRow(b, h, t);
    let ds = dscores[ar + t2];
    let p = att[ar + t2];
    let qBase = rowOf(b, t) * 3u * C + h * HS;
    let oBase = rowOf(b, t) * C + h * HS;
    for (var d = 0u; d < HS; d++) {
      dk[d] += ds * qkv[qBase + d];
      dv[d] += p * dout[oBase + d];
    }
  }
  let scale = 1.0 / sqrt(f32(HS));
  let kBase = rowOf(b, t2) * 3u * C + C + h * HS;
  for (var d = 0u; d < HS; d++) {
    dqkv[kBase + d] = dk[d] * scale;
    dqkv[kBase + C + d] = dv[d];
  }
}`,
  });

export interface AttentionShape {
  batch: number;
  seq: number;
  heads: number;
  channels: number;
}

const groupsFor = (s: AttentionShape): number => Math.ceil((s.batch * s.heads * s.seq) / WG);

export function attentionForward(device: GPUDevice, s: AttentionShape, qkv: Binding, att: Binding, out: Binding): Dispatch {
  return attentionForwardKernel(s.channels / s.heads).dispatch(device, { qkv, att, out }, s, groupsFor(s));
}

/** Writes dqkv (not accumulated); `dscores` is scratch of the same size as `att`. */
export function attentionBackward(
  device: GPUDevice,
  s: AttentionShape,
  qkv: Binding,
  att: Binding,
  dout: Binding,
  dscores: Binding,
  dqkv: Binding,
): Dispatch[] {
  const hs = s.channels / s.heads;
  const buffers = { qkv, att, dout, dscores, dqkv };
  return [
    attentionBackwardQueryKernel(hs).dispatch(device, buffers, s, groupsFor(s)),
    attentionBackwardKeyKernel(hs).dispatch(device, buffers, s, groupsFor(s)),
  ];
}
