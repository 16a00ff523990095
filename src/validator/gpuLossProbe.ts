// Per-sequence losses on the GPU engine (Dawn in Node, WebGPU in a tab): the validator's
// measuring instrument. Batches pages through one evaluation model; no gradients.
import type { GptConfig } from '../model/config';
import { GpuGpt } from '../gpu/model';
import { batchAt } from '../train/innerLoop';
import type { LossProbe } from './scoring';

export class GpuLossProbe implements LossProbe {
  private readonly model: GpuGpt;

  constructor(
    device: GPUDevice,
    config: GptConfig,
    private readonly seqLen: number,
    private readonly corpus: Uint16Array,
    private readonly batchSize = 8,
  ) {
    this.model = new GpuGpt(device, { config, batchSize, seqLen });
  }

  async perSequence(theta: Float32Array, offsets: Uint32Array): Promise<Float64Array> {
    this.model.setParams(theta);
    const out = new Float64Array(offsets.length);
    const B = this.batchSize;
    for (let i = 0; i < offsets.length; i += B) {
      // A short last batch is padded with its first page; the padding's losses are dropped.
      const chunk = Array.from({ length: B }, (_, b) => offsets[Math.min(i + b, offsets.length - 1)]);
      this.model.setBatch(0, batchAt(this.corpus, chunk, this.seqLen));
      const losses = await this.model.evaluatePositions();
      for (let b = 0; b < B && i + b < offsets.length; b++) {
        let s = 0;
        for (let t = 0; t < this.seqLen; t++) s += losses[b * this.seqLen + t];
        out[i + b] = s / this.seqLen;
      }
    }
    return out;
  }

  destroy(): void {
    this.model.destroy();
  }
}
