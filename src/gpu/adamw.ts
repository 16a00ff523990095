// AdamW with decoupled weight decay over the flat parameter buffer, gradients scaled by the
// global-norm clip factor computed on the GPU (no readback between backward and update).
import type { AdamWHyper } from '../model/optimizer';
import { strideGroups, type Binding, type Dispatch } from './buffers';
import { defineKernel } from './kernel';

export const ADAMW = defineKernel({
  name: 'adamw',
  // hp: this step's hyperparameters, written by setStep (a struct of f32 and u32, so not dims).
  bindings: { params: 'rw f32', grads: 'read f32', m: 'rw f32', v: 'rw f32', normSquared: 'read f32', hp: 'uniform Hyper' },
  wgsl: /* wgsl */ `
struct Hyper {
  lr: f32, beta1: f32, beta2: f32, eps: f32,
  weightDecay: f32, biasCorrection1: f32, biasCorrection2: f32, maxNorm: f32,
  count: u32, decayEnd: u32, pad0: u32, pad1: u32,
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  var scale = 1.0;
  if (hp.maxNorm > 0.0) {
    scale = min(1.0, hp.maxNorm / (sqrt(normSquared[0]) + 1e-6));
  }
  for (var i = gid.x; i < hp.count; i += groups.x * 256u) {
    let g = grads[i] * scale;
    let mi = hp.beta1 * m[i] + (1.0 - hp.beta1) * g;
    let vi = hp.beta2 * v[i] + (1.0 - hp.beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    let p = params[i];
    let decay = select(0.0, hp.weightDecay * p, i < hp.decayEnd);
    params[i] = p - hp.lr * ((mi / hp.biasCorrection1) / (sqrt(vi / hp.biasCorrection2) + hp.eps) + decay);
  }
}`,
});

export interface AdamW {
  readonly dispatch: Dispatch;
  /** Writes this step's hyperparameters (a queue write, no allocation); step is 1-based. */
  setStep(step: number, hyper: AdamWHyper): void;
  /** Frees its hyperparameter uniform. */
  destroy(): void;
}

/** `normSquared` holds Σ g² (one float) computed earlier in the same submission. */
export function createAdamW(
  device: GPUDevice,
  count: number,
  decayEnd: number,
  params: Binding,
  grads: Binding,
  m: Binding,
  v: Binding,
  normSquared: Binding,
): AdamW {
  const uniform = device.createBuffer({ label: 'adamw.hyper', size: 48, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  const data = new ArrayBuffer(48);
  const f32 = new Float32Array(data);
  const u32 = new Uint32Array(data);
  return {
    dispatch: ADAMW.dispatch(device, { params, grads, m, v, normSquared, hp: uniform }, {}, strideGroups(count)),
    setStep(step, hyper) {
      if (!Number.isInteger(step) || step < 1) throw new RangeError(`AdamW step must be a positive integer, got ${step}`);
      f32.set([hyper.lr, hyper.beta1, hyper.beta2, hyper.eps, hyper.weightDecay, 1 - hyper.beta1 ** step, 1 - hyper.beta2 ** step, hyper.maxGradNorm]);
      u32[8] = count;
      u32[9] = decayEnd;
      device.queue.writeBuffer(uniform, 0, data);
    },
    destroy: () => uniform.destroy(),
  };
}
