// Softmax cross-entropy fused with its gradient: one pass computes the log-sum-exp and
// writes both the loss and dlogits = (softmax − onehot)/positions, in the same dispatch.
import type { Binding, Dispatch } from './buffers';
import { defineKernel } from './kernel';

const WG = 64;

const BINDINGS = { logits: 'read f32', targets: 'read u32', losses: 'rw f32' } as const;

export const crossEntropyKernel = (writeGrad: boolean) =>
  defineKernel({
    name: writeGrad ? 'crossEntropy+grad' : 'crossEntropy',
    bindings: writeGrad ? { ...BINDINGS, dlogits: 'rw f32' } : BINDINGS,
    dims: ['rows', 'vocab', 'lossPositions'],
    wgsl: /* wgsl */ `
// One thread per position: no workgroup barriers (see layernorm.ts). Fine for character and byte
// vocabularies; at GPT-2's 50,257 one thread walks its row three times (a workgroup per row would be faster on GPUs).
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let row = gid.x;
  if (row >= dims.rows) { return; }
  let base = row * dims.vocab;
  let tgt = min(targets[row], dims.vocab - 1u);
  var maxLogit = -3.0e38;
  for (var v = 0u; v < dims.vocab; v++) { maxLogit = max(maxLogit, logits[base + v]); }
  var sum = 0.0;
  for (var v = 0u; v < dims.vocab; v++) { sum += exp(logits[base + v] - maxLogit); }
  losses[row] = log(sum) + maxLogit - logits[base + tgt];
  ${
    writeGrad
      ? `let scale = 1.0 / f32(dims.lossPositions);
  let inv = 1.0 / sum;
  for (var v = 0u; v < dims.vocab; v++) {
    let p = exp(logits[base + v] - maxLogit) * inv;
    dlogits[base + v] = (p - select(0.0, 1.0, v == tgt)) * scale;
  }`
      : ''
  }
}`,
  });

export interface CrossEntropyShape {
  rows: number;
  vocab: number;
  /** Positions the loss is averaged over: all microbatches of a step. */
  lossPositions: number;
}

/** losses[row] = −log softmax(logits)[target]; with `dlogits`, also the gradient of the mean. */
export function crossEntropy(device: GPUDevice, s: CrossEntropyShape, logits: Binding, targets: Binding, losses: Binding, dlogits?: Binding): Dispatch {
  const buffers = dlogits ? { logits, targets, losses, dlogits } : { logits, targets, losses };
  return crossEntropyKernel(dlogits !== undefined).dispatch(device, buffers, s, Math.ceil(s.rows / WG));
}
