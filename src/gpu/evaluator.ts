// The forward-only GPT for validators and sampling: parameters, one layer's activations that
// every layer reuses, logits and per-position losses. No gradients, no moments, no backward.
import type { GptConfig } from '../model/config';
import { checkConfig } from '../model/config';
import { paramLayout, type ParamLayout } from '../model/layout';
import { createStorageBuffer, destroyDispatches, encodePass, readFloat32, type Dispatch } from './buffers';
import { allocateForward, forwardDispatches, headChunks, headLossDispatches, headRowsFor, tokenIds, type ForwardBuffers } from './forward';
import { assertFits, checkShape, estimateEvaluationMemory, type MemoryEstimate } from './memoryPlan';

export interface GpuEvaluatorOptions {
  config: GptConfig;
  batchSize: number;
  /** Tokens per sequence; defaults to the context length. */
  seqLen?: number;
  /** Another model's parameter buffer, read in place (the sampler beside a trainer); else its own. */
  params?: GPUBuffer;
  /** Rows per logits chunk (a multiple of 64); default: all rows while they fit HEAD_CHUNK_BYTES. */
  headRows?: number;
}

/** Bytes the evaluator allocated, by purpose (what estimateEvaluationMemory predicts). */
export type EvaluatorMemory = Omit<MemoryEstimate, 'largestBuffer' | 'minimum'>;

export class GpuEvaluator {
  readonly config: GptConfig;
  readonly layout: ParamLayout;
  readonly batchSize: number;
  readonly seqLen: number;
  readonly params: GPUBuffer;
  readonly memory: EvaluatorMemory = { parameters: 0, optimizer: 0, gradients: 0, activations: 0, scratch: 0, total: 0 };
  /** Logits of the last head chunk encoded: [headRows, vocab] (all rows when one chunk holds the batch). */
  readonly logits: GPUBuffer;

  private readonly device: GPUDevice;
  private readonly buffers: GPUBuffer[] = [];
  private readonly tokens: GPUBuffer;
  private readonly targets: GPUBuffer;
  private readonly losses: GPUBuffer;
  private readonly trunk: readonly Dispatch[];
  /** Per logits chunk: its rows, the head and the loss over them. */
  private readonly chunks: readonly { start: number; rows: number; head: Dispatch; loss: Dispatch }[];

  constructor(device: GPUDevice, options: GpuEvaluatorOptions) {
    this.device = device;
    this.config = checkConfig(options.config);
    this.layout = paramLayout(this.config);
    this.batchSize = options.batchSize;
    this.seqLen = options.seqLen ?? this.config.contextLength;
    const shape = { batchSize: this.batchSize, seqLen: this.seqLen };
    checkShape(this.config, shape);
    const rows = this.batchSize * this.seqLen;
    const headRows = headRowsFor(rows, this.config.vocabSize, options.headRows);
    assertFits(device.limits, this.config, { ...shape, microSteps: 1, headRows }, undefined, (c, s) => estimateEvaluationMemory(c, s, !options.params));
    this.params = options.params ?? this.alloc(this.layout.totalFloats, 'parameters', 'eval.params');
    const fwd: ForwardBuffers = allocateForward(
      this.config,
      this.batchSize,
      this.seqLen,
      (floats, label) => this.alloc(floats, 'activations', `eval.${label}`),
      true,
      headRows,
    );
    this.logits = fwd.logits;
    this.losses = this.alloc(rows, 'activations', 'eval.losses');
    this.tokens = this.alloc(rows, 'scratch', 'eval.tokens');
    this.targets = this.alloc(rows, 'scratch', 'eval.targets');
    this.trunk = forwardDispatches(device, this.config, this.layout, shape, this.params, this.tokens, fwd);
    this.chunks = headChunks(rows, headRows).map((c) => {
      const [head, loss] = headLossDispatches(device, this.config, this.layout, this.params, fwd, c, {
        targets: this.targets,
        losses: this.losses,
        positions: rows,
      });
      return { ...c, head, loss };
    });
  }

  /** Uploads the flat parameter vector (an evaluator reading another model's buffer refuses). */
  setParams(params: Float32Array): void {
    if (this.memory.parameters === 0) throw new Error('this evaluator reads another model’s parameters in place');
    if (params.length !== this.layout.totalFloats) throw new RangeError(`expected ${this.layout.totalFloats} parameters, got ${params.length}`);
    this.device.queue.writeBuffer(this.params, 0, params);
  }

  /** Validates and uploads one batch's tokens (and targets, for losses). */
  setBatch(tokens: ArrayLike<number>, targets?: ArrayLike<number>): void {
    const shape = { batchSize: this.batchSize, seqLen: this.seqLen, vocab: this.config.vocabSize };
    this.device.queue.writeBuffer(this.tokens, 0, tokenIds(tokens, shape, 'tokens'));
    if (targets) this.device.queue.writeBuffer(this.targets, 0, tokenIds(targets, shape, 'targets'));
  }

  /**
   * Records the forward pass up to the logits of the chunk that holds `row` (a row of the batch,
   * batch-major) and returns where that row's logits start in `logits`, in floats.
   */
  encodeLogitsAt(encoder: GPUCommandEncoder, row: number): number {
    const chunk = this.chunks.find((c) => row >= c.start && row < c.start + c.rows);
    if (!chunk) throw new RangeError(`row ${row} is outside the batch's ${this.batchSize * this.seqLen} rows`);
    encodePass(encoder, [...this.trunk, chunk.head], 'evaluate.logits');
    return (row - chunk.start) * this.config.vocabSize;
  }

  /** Forward on the batch set last: the loss at every position, batch-major. */
  async positionLosses(): Promise<Float32Array> {
    const encoder = this.device.createCommandEncoder({ label: 'evaluate' });
    encodePass(encoder, [...this.trunk, ...this.chunks.flatMap((c) => [c.head, c.loss])], 'evaluate');
    this.device.queue.submit([encoder.finish()]);
    return readFloat32(this.device, this.losses, this.batchSize * this.seqLen);
  }

  destroy(): void {
    for (const b of this.buffers) b.destroy();
    destroyDispatches([...this.trunk, ...this.chunks.flatMap((c) => [c.head, c.loss])]);
  }

  private alloc(floats: number, kind: Exclude<keyof EvaluatorMemory, 'total'>, label: string): GPUBuffer {
    const buffer = createStorageBuffer(this.device, Math.max(16, Math.ceil((floats * 4) / 16) * 16), label);
    this.buffers.push(buffer);
    this.memory[kind] += buffer.size;
    this.memory.total += buffer.size;
    return buffer;
  }
}
