// The forward-only GPT for validators and sampling: parameters, one layer's activations that
// every layer reuses, logits and per-position losses. No gradients, no moments, no backward.
import type { GptConfig } from '../model/config';
import { checkConfig } from '../model/config';
import { paramLayout, type ParamLayout } from '../model/layout';
import { createStorageBuffer, destroyDispatches, encodePass, readFloat32, type Dispatch } from './buffers';
import { crossEntropy } from './crossentropy';
import { allocateForward, forwardDispatches, tokenIds, type ForwardBuffers } from './forward';
import { assertFits, estimateEvaluationMemory, type MemoryEstimate } from './memoryPlan';

export interface GpuEvaluatorOptions {
  config: GptConfig;
  batchSize: number;
  /** Tokens per sequence; defaults to the context length. */
  seqLen?: number;
  /** Another model's parameter buffer, read in place (the sampler beside a trainer); else its own. */
  params?: GPUBuffer;
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
  /** Logits of the last forward; [batch·seq, vocab]. */
  readonly logits: GPUBuffer;

  private readonly device: GPUDevice;
  private readonly buffers: GPUBuffer[] = [];
  private readonly tokens: GPUBuffer;
  private readonly targets: GPUBuffer;
  private readonly losses: GPUBuffer;
  private readonly forward: readonly Dispatch[];
  private readonly loss: Dispatch;

  constructor(device: GPUDevice, options: GpuEvaluatorOptions) {
    this.device = device;
    this.config = checkConfig(options.config);
    this.layout = paramLayout(this.config);
    this.batchSize = options.batchSize;
    this.seqLen = options.seqLen ?? this.config.contextLength;
    for (const [name, value] of Object.entries({ batchSize: this.batchSize, seqLen: this.seqLen }))
      if (!Number.isInteger(value) || value <= 0) throw new RangeError(`${name} must be a positive integer, got ${value}`);
    if (this.seqLen > this.config.contextLength) throw new RangeError(`seqLen ${this.seqLen} exceeds the context length ${this.config.contextLength}`);
    const shape = { batchSize: this.batchSize, seqLen: this.seqLen };
    assertFits(device.limits, this.config, { ...shape, microSteps: 1 }, undefined, (c, s) => estimateEvaluationMemory(c, s, !options.params));
    const rows = this.batchSize * this.seqLen;
    this.params = options.params ?? this.alloc(this.layout.totalFloats, 'parameters', 'eval.params');
    const fwd: ForwardBuffers = allocateForward(
      this.config,
      this.batchSize,
      this.seqLen,
      (floats, label) => this.alloc(floats, 'activations', `eval.${label}`),
      true,
    );
    this.logits = fwd.logits;
    this.losses = this.alloc(rows, 'activations', 'eval.losses');
    this.tokens = this.alloc(rows, 'scratch', 'eval.tokens');
    this.targets = this.alloc(rows, 'scratch', 'eval.targets');
    this.forward = forwardDispatches(device, this.config, this.layout, shape, this.params, this.tokens, fwd);
    this.loss = crossEntropy(device, { rows, vocab: this.config.vocabSize, lossPositions: rows }, this.logits, this.targets, this.losses);
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

  /** Records the forward pass (logits land in `logits`) into `encoder`. */
  encodeForward(encoder: GPUCommandEncoder): void {
    encodePass(encoder, this.forward, 'evaluate.forward');
  }

  /** Forward on the batch set last: the loss at every position, batch-major. */
  async positionLosses(): Promise<Float32Array> {
    const encoder = this.device.createCommandEncoder({ label: 'evaluate' });
    encodePass(encoder, [...this.forward, this.loss], 'evaluate');
    this.device.queue.submit([encoder.finish()]);
    return readFloat32(this.device, this.losses, this.batchSize * this.seqLen);
  }

  destroy(): void {
    for (const b of this.buffers) b.destroy();
    destroyDispatches([...this.forward, this.loss]);
  }

  private alloc(floats: number, kind: Exclude<keyof EvaluatorMemory, 'total'>, label: string): GPUBuffer {
    const buffer = createStorageBuffer(this.device, Math.max(16, Math.ceil((floats * 4) / 16) * 16), label);
    this.buffers.push(buffer);
    this.memory[kind] += buffer.size;
    this.memory.total += buffer.size;
    return buffer;
  }
}
