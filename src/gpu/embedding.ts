// Token + position embedding, forward and backward. WGSL has no float atomics, so the
// token-embedding gradient gathers instead of scattering: the host groups positions by
// token id (it uploads the tokens anyway) and one thread sums each (token, channel).
import { strideGroups, type Binding, type Dispatch } from './buffers';
import { defineKernel } from './kernel';

const DIMS = ['rows', 'seq', 'channels', 'vocab'] as const;

export const EMBEDDING_FORWARD = defineKernel({
  name: 'embedding.forward',
  bindings: { tokens: 'read u32', wte: 'read f32', wpe: 'read f32', out: 'rw f32' },
  dims: DIMS,
  wgsl: /* wgsl */ `
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
}`,
});

export const POSITION_GRAD = defineKernel({
  name: 'embedding.positionGrad',
  bindings: { dout: 'read f32', dwpe: 'rw f32' },
  dims: DIMS,
  wgsl: /* wgsl */ `
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
}`,
});

export const TOKEN_GRAD = defineKernel({
  name: 'embedding.tokenGrad',
  // bucketStart: vocab + 1 offsets into bucketRows, the rows grouped by token.
  bindings: { dout: 'read f32', bucketStart: 'read u32', bucketRows: 'read u32', dwte: 'rw f32' },
  dims: DIMS,
  wgsl: /* wgsl */ `
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
}`,
});

export interface EmbeddingShape {
  rows: number;
  seq: number;
  channels: number;
  vocab: number;
}

export function embeddingForward(device: GPUDevice, s: EmbeddingShape, tokens: Binding, wte: Binding, wpe: Binding, out: Binding): Dispatch {
  return EMBEDDING_FORWARD.dispatch(device, { tokens, wte, wpe, out }, s, strideGroups(s.rows * s.channels));
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
  return [
    POSITION_GRAD.dispatch(device, { dout, dwpe }, s, Math.ceil((s.seq * s.channels) / 256)),
    TOKEN_GRAD.dispatch(device, { dout, bucketStart, bucketRows, dwte }, s, strideGroups(s.vocab * s.channels)),
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
