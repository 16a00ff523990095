// Text generation from the model on the GPU: a batch-1 forward that reads the shared training
// parameters (no copy), then temperature and top-k sampling of the next token.
import type { GptConfig } from '../model/config';
import { sampleToken, type SamplingOptions } from '../model/sampling';
import { GpuEvaluator } from './evaluator';

export class GpuSampler {
  private readonly device: GPUDevice;
  private readonly config: GptConfig;
  private readonly evaluator: GpuEvaluator;
  private readonly staging: GPUBuffer;
  private busy: Promise<unknown> = Promise.resolve();

  /** `params`: the flat parameter buffer of a model with this config, read in place; `headRows`: see GpuEvaluator. */
  constructor(device: GPUDevice, config: GptConfig, params: GPUBuffer, headRows?: number) {
    this.device = device;
    this.config = config;
    this.evaluator = new GpuEvaluator(device, { config, batchSize: 1, seqLen: config.contextLength, params, headRows });
    this.staging = device.createBuffer({ label: 'sampler.staging', size: config.vocabSize * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  }

  /** Logits for the token after `context` (its last contextLength tokens). */
  nextLogits(context: ArrayLike<number>): Promise<Float32Array> {
    // One forward at a time: the staging buffer cannot be copied into while mapped.
    const run = this.busy.then(() => this.runForward(context));
    this.busy = run.catch(() => undefined);
    return run;
  }

  /** Appends up to `count` sampled tokens to `prompt`, reporting each as it arrives. */
  async generate(prompt: ArrayLike<number>, count: number, options: SamplingOptions, random: () => number, onToken?: (id: number) => void): Promise<number[]> {
    const ids = Array.from(prompt);
    if (ids.length === 0) throw new RangeError('generation needs a prompt of at least one token');
    const out: number[] = [];
    for (let i = 0; i < count; i++) {
      const id = sampleToken(await this.nextLogits(ids), options, random);
      ids.push(id);
      out.push(id);
      onToken?.(id);
    }
    return out;
  }

  destroy(): void {
    this.evaluator.destroy();
    this.staging.destroy();
  }

  private async runForward(context: ArrayLike<number>): Promise<Float32Array> {
    const { contextLength: T, vocabSize: V } = this.config;
    const window = Array.from(context).slice(-T);
    if (window.length === 0) throw new RangeError('context is empty');
    // Positions after the context hold token 0; causal attention keeps them from affecting it.
    const tokens = new Array<number>(T).fill(0);
    window.forEach((id, i) => (tokens[i] = id));
    this.evaluator.setBatch(tokens);
    const encoder = this.device.createCommandEncoder({ label: 'sample' });
    const at = this.evaluator.encodeLogitsAt(encoder, window.length - 1);
    encoder.copyBufferToBuffer(this.evaluator.logits, at * 4, this.staging, 0, V * 4);
    this.device.queue.submit([encoder.finish()]);
    await this.staging.mapAsync(GPUMapMode.READ);
    const row = new Float32Array(this.staging.getMappedRange().slice(0));
    this.staging.unmap();
    return row;
  }
}
