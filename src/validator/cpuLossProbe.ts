// Per-sequence losses from the CPU reference model (float64): the validator's instrument where
// no GPU is available, practical for `tiny`; same numbers as the GPU engine to ~1e-5.
import type { GptConfig } from '../model/config';
import { paramLayout, type ParamLayout } from '../model/layout';
import { referenceForward } from '../model/reference';
import { batchAt } from '../train/innerLoop';
import type { LossProbe } from './scoring';

export class CpuLossProbe implements LossProbe {
  private readonly layout: ParamLayout;

  constructor(
    private readonly config: GptConfig,
    private readonly seqLen: number,
    private readonly corpus: Uint16Array,
  ) {
    this.layout = paramLayout(config);
  }

  perSequence(theta: Float32Array, offsets: Uint32Array): Promise<Float64Array> {
    const out = new Float64Array(offsets.length);
    offsets.forEach((offset, i) => {
      const b = batchAt(this.corpus, [offset], this.seqLen);
      const { loss } = referenceForward(this.config, this.layout, theta, {
        tokens: Int32Array.from(b.tokens),
        targets: Int32Array.from(b.targets),
        batchSize: 1,
        seqLen: this.seqLen,
      });
      out[i] = loss;
    });
    return Promise.resolve(out);
  }
}
