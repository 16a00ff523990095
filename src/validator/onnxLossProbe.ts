// Per-sequence losses from the exported forward graph in onnxruntime-web (wasm, multi-threaded):
// the instrument of a validator without a GPU. One session for every θ: weights are inputs.
import type * as OrtModule from 'onnxruntime-web';
import type { GptConfig } from '../model/config';
import { paramLayout, type ParamLayout } from '../model/layout';
import { batchAt } from '../train/innerLoop';
import { exportOnnxScorer, ONNX_INPUT, ONNX_LOSSES, ONNX_TARGETS } from '../train/onnxExport';
import type { LossProbe } from './scoring';

// Types only: the runtime itself loads on demand (see open).
type Ort = typeof OrtModule;
type Session = OrtModule.InferenceSession;

/**
 * Logits and their log-softmax are the largest tensors a batch holds (2 × batch × seq × vocab
 * floats); sequences are grouped so they stay under this, whatever the vocabulary.
 */
const BATCH_BUDGET_BYTES = 256 * 2 ** 20;

export interface OnnxProbeOptions {
  /** wasm threads; onnxruntime's own default (half the cores, at most 4) when unset. */
  threads?: number;
}

export class OnnxLossProbe implements LossProbe {
  private readonly layout: ParamLayout;
  private session?: Promise<{ ort: Ort; session: Session }>;
  /** Sequences per run: at least one, more while their logits fit the budget. */
  readonly batchSize: number;

  constructor(
    private readonly config: GptConfig,
    private readonly seqLen: number,
    private readonly corpus: Uint16Array,
    private readonly options: OnnxProbeOptions = {},
  ) {
    this.layout = paramLayout(config);
    this.batchSize = Math.max(1, Math.min(16, Math.floor(BATCH_BUDGET_BYTES / (2 * seqLen * config.vocabSize * 4))));
  }

  /** Loads onnxruntime (14 MB of wasm) and builds the one session; perSequence calls it too. */
  async ready(): Promise<void> {
    await this.open();
  }

  private open(): Promise<{ ort: Ort; session: Session }> {
    this.session ??= (async () => {
      const ort = await import('onnxruntime-web');
      if (this.options.threads !== undefined) ort.env.wasm.numThreads = this.options.threads;
      const session = await ort.InferenceSession.create(exportOnnxScorer(this.config, this.layout), { graphOptimizationLevel: 'all' });
      return { ort, session };
    })();
    return this.session;
  }

  async perSequence(theta: Float32Array, offsets: Uint32Array): Promise<Float64Array> {
    if (theta.length !== this.layout.totalFloats) throw new RangeError(`θ has ${theta.length} floats, the layout needs ${this.layout.totalFloats}`);
    const { ort, session } = await this.open();
    const weights: Record<string, InstanceType<Ort['Tensor']>> = {};
    for (const t of this.layout.tensors) weights[t.name] = new ort.Tensor('float32', theta.subarray(t.offset, t.offset + t.size), [...t.shape]);
    const out = new Float64Array(offsets.length);
    for (let start = 0; start < offsets.length; start += this.batchSize) {
      const group = offsets.subarray(start, start + this.batchSize);
      const b = batchAt(this.corpus, group, this.seqLen);
      const dims = [group.length, this.seqLen];
      const result = await session.run({
        ...weights,
        [ONNX_INPUT]: new ort.Tensor(
          'int64',
          BigInt64Array.from(b.tokens, (v) => BigInt(v)),
          dims,
        ),
        [ONNX_TARGETS]: new ort.Tensor(
          'int64',
          BigInt64Array.from(b.targets, (v) => BigInt(v)),
          dims,
        ),
      });
      const losses = result[ONNX_LOSSES].data as Float32Array;
      for (let i = 0; i < group.length; i++) out[start + i] = losses[i];
      result[ONNX_LOSSES].dispose();
    }
    return out;
  }

  /** Frees the session (and its wasm memory for the weights). */
  async destroy(): Promise<void> {
    const opened = this.session;
    this.session = undefined;
    if (opened) await (await opened).session.release();
  }
}
