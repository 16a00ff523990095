// Token + position embedding, forward and backward. WGSL has no float atomics, so the
// token-embedding gradient gathers instead of scattering: the host groups positions by
// token id (it uploads the tokens anyway) and one thread sums each (token, channel).
import { createKernel, createUniformU32, dispatch, strideGroups, type Binding, type Dispatch } from './buffers';

const DIMS = 'struct Dims { rows: u32, seq: u32, channels: u32, vocab: u32 }';

export const EMBEDDING_FORWARD_WGSL = /* wgsl */ `
${DIMS}
@group(0) @binding(0) var<storage, read> tokens: array<u32>;
@group(0) @binding(1) var<storage, read> wte: array<f32>;
@group(0) @binding(2) var<storage, read> wpe: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<uniform> dims: Dims;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let total = dims.rows * dims.channels;
  for (var i = gid.x; i < total; i += groups.x * 256u) {
    let row = i / dims.channels;
    let c = i % dims.channels;
    // Tokens are validated on upload; the clamp only keeps a bad id from reading out of bounds.
    let tok = min(tokens[row], dims.vocab - 1u);
    let pos = row % dims.seq;
    out[i] = wte[tok * dims.channels + c] + wpe[pos * dims.channels + c];
  }
}`;

export const POSITION_GRAD_WGSL = /* wgsl */ `
${DIMS}
@group(0) @binding(0) var<storage, read> dout: array<f32>;
@group(0) @binding(1) var<storage, read_write> dwpe: array<f32>;
@group(0) @binding(2) var<uniform> dims: Dims;

// One thread per (position, channel): sums over the batch in order.
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x;
  if (i >= dims.seq * dims.channels) { return; }
  let pos = i / dims.channels;
  let c = i % dims.channels;
  var acc = 0.0;
  for (var row = pos; row < dims.rows; row += dims.seq) {
    acc += dout[row * dims.channels + c];
  }
  dwpe[i] += acc;
}`;

export const TOKEN_GRAD_WGSL = /* wgsl */ `
${DIMS}
@group(0) @binding(0) var<storage, read> dout: array<f32>;
@group(0) @binding(1) var<storage, read> bucketStart: array<u32>;   // vocab + 1 offsets
@group(0) @binding(2) var<storage, read> bucketRows: array<u32>;    // rows grouped by token
@group(0) @binding(3) var<storage, read_write> dwte: array<f32>;
@group(0) @binding(4) var<uniform> dims: Dims;

// One thread per (token id, channel); tokens absent from the batch cost one empty loop.
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let total = dims.vocab * dims.channels;
  for (var i = gid.x; i < total; i += groups.x * 256u) {
    let tok = i / dims.channels;
    let c = i % dims.channels;
    var acc = 0.0;
    for (var j = bucketStart[tok]; j < bucketStart[tok + 1u]; j++) {
      acc += dout[bucketRows[j] * dims.channels + c];
    }
    dwte[i] += acc;
  }
}`;

export interface EmbeddingShape {
  rows: number;
  seq: number;
  channels: number;
  vocab: number;
}

function dims(device: GPUDevice, s: EmbeddingShape, label: string): GPUBuffer {
  return createUniformU32(device, [s.rows, s.seq, s.channels, s.vocab], label);
}

export function embeddingForward(device: GPUDevice, s: EmbeddingShape, tokens: Binding, wte: Binding, wpe: Binding, out: Binding): Dispatch {
  const pipeline = createKernel(device, 'embedding.forward', EMBEDDING_FORWARD_WGSL);
  return dispatch(device, pipeline, [tokens, wte, wpe, out, dims(device, s, 'embedding.dims')], strideGroups(s.rows * s.channels));
}

/** dwpe += Σ_batch dout and dwte += Σ_{rows with that token} dout; bucket buffers from `bucketByToken`. */
export function embeddingBackward(
  device: GPUDevice,
  s: EmbeddingShape,
  dout: Binding,
  bucketStart: Binding,
  bucketRows: Binding,
  dwte: Binding,
  dwpe: Binding,
): Dispatch[] {
  const u = dims(device, s, 'embedding.grad.dims');
  return [
    dispatch(device, createKernel(device, 'embedding.positionGrad', POSITION_GRAD_WGSL), [dout, dwpe, u], Math.ceil((s.seq * s.channels) / 256)),
    dispatch(
      device,
      createKernel(device, 'embedding.tokenGrad', TOKEN_GRAD_WGSL),
      [dout, bucketStart, bucketRows, dwte, u],
      strideGroups(s.vocab * s.channels),
    ),
  ];
}

/**
 * Groups row indices by token id (counting sort, stable, so rows keep their order and the
 * GPU sums in a fixed order). Returns offsets[vocab + 1] and the grouped rows.
 */
export function bucketByToken(
  tokens: ArrayLike<number>,
  vocab: number,
  start = new Uint32Array(vocab + 1),
  rows = new Uint32Array(tokens.length),
): { start: Uint32Array; rows: Uint32Array } {
  start.fill(0);
  for (let i = 0; i < tokens.length; i++) start[tokens[i] + 1]++;
  for (let v = 0; v < vocab; v++) start[v + 1] += start[v];
  const next = start.slice(0, vocab);
  for (let i = 0; i < tokens.length; i++) rows[next[tokens[i]]++] = i;
  return { start, rows };
}
