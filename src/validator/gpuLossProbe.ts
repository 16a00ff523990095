// Per-sequence losses on the GPU engine (Dawn in Node, WebGPU in a tab): the validator's
// measuring instrument. Batches pages through one forward-only evaluator; no gradients.
import { GpuEvaluator } from '../gpu/evaluator';
import type { GptConfig } from '../model/config';
import { batchAt } from '../train/innerLoop';
import type { LossProbe } from './scoring';

/** Pages per forward pass. */
export const GPU_PROBE_BATCH = 8;

export class GpuLossProbe implements LossProbe {
  private readonly model: GpuEvaluator;

  constructor(
    device: GPUDevice,
    config: GptConfig,
    private readonly seqLen: number,
    private readonly corpus: Uint16Array,
    private readonly batchSize = GPU_PROBE_BATCH,
  ) {
    this.model = new GpuEvaluator(device, { config, batchSize, seqLen });
  }

  async perSequence(theta: Float32Array, offsets: Uint32Array): Promise<Float64Array> {
    this.model.setParams(theta);
    const out = new Float64Array(offsets.length);
    const B = this.batchSize;
    for (let i = 0; i < offsets.length; i += B) {
      // A short last batch is padded with its first page; the padding's losses are dropped.
      const chunk = Array.from({ length: B }, (_, b) => offsets[Math.min(i + b, offsets.length - 1)]);
      const batch = batchAt(this.corpus, chunk, this.seqLen);
      this.model.setBatch(batch.tokens, batch.targets);
      const losses = await this.model.positionLosses();
      for (let b = 0; b < B && i + b < offsets.length; b++) {
        let s = 0;
        for (let t = 0; t < this.seqLen; t++) s += losses[b * this.seqLen + t];
        out[i + b] = s / this.seqLen;
      }
    }
    return out;
  }

  /** GPU bytes held, for the validator's log. */
  get gpuBytes(): number {
    return this.model.memory.total;
  }

  destroy(): void {
    this.model.destroy();
  }
}
