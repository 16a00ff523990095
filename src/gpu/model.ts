// The GPT on the GPU: every buffer, pipeline and bind group is built once; a training step
// (forward, backward over each microbatch, global-norm clip, AdamW) is one command encoder
// and one queue.submit, and the only readback is the loss, when asked for.
import type { AdamWHyper } from '../model/optimizer';
import { createAdamW, type AdamW } from './adamw';
import { attentionBackward } from './attention';
import { destroyDispatches, encodePass, floatRange, readFloat32, type Binding, type Dispatch } from './buffers';
import { checkConfig, type GptConfig } from '../model/config';
import { crossEntropy } from './crossentropy';
import { bucketByToken, embeddingBackward } from './embedding';
import {
  allocateForward,
  forwardDispatches,
  headChunks,
  headDispatch,
  headLossDispatches,
  headRowsFor,
  tokenIds,
  type ForwardBuffers,
  type LayerActs,
} from './forward';
import { geluBackward } from './gelu';
import { layerNormBackward } from './layernorm';
import { paramLayout, tensor, TENSOR_ALIGN_FLOATS, type ParamLayout } from '../model/layout';
import { biasGradDispatch, matmulDispatch } from './matmul';
import { assertFits, checkShape, type MemoryEstimate } from './memoryPlan';
import { createSumReduction, type SumReduction } from './reduce';

export interface GpuGptOptions {
  config: GptConfig;
  /** Sequences per microbatch. */
  batchSize: number;
  /** Tokens per sequence; defaults to the context length. */
  seqLen?: number;
  /** Microbatches accumulated into one optimizer step. */
  microSteps?: number;
  /** Rows per logits chunk (a multiple of 64); default: all rows while they fit HEAD_CHUNK_BYTES. */
  headRows?: number;
}

/** Everything needed to resume training on another device: parameters and Adam moments. */
export interface TrainingState {
  params: Float32Array;
  m: Float32Array;
  v: Float32Array;
}

export interface MicroBatch {
  tokens: ArrayLike<number>;
  targets: ArrayLike<number>;
}

interface MicroInputs {
  tokens: GPUBuffer;
  targets: GPUBuffer;
  bucketStart: GPUBuffer;
  bucketRows: GPUBuffer;
}

/** Bytes this model allocated on the GPU, by purpose (what estimateMemory predicts). */
export type GpuMemory = Omit<MemoryEstimate, 'largestBuffer' | 'minimum'>;

export class GpuGpt {
  readonly config: GptConfig;
  readonly layout: ParamLayout;
  readonly batchSize: number;
  readonly seqLen: number;
  readonly microSteps: number;
  /** Rows per logits chunk: the head, loss and dlogits run chunk by chunk. */
  readonly headRows: number;
  readonly params: GPUBuffer;
  readonly grads: GPUBuffer;
  readonly memory: GpuMemory = { parameters: 0, optimizer: 0, gradients: 0, activations: 0, scratch: 0, total: 0 };
  /** Logits of the last microbatch run; [batch·seq, vocab]. */
  readonly logits: GPUBuffer;

  private readonly device: GPUDevice;
  private readonly buffers: GPUBuffer[] = [];
  private readonly inputs: MicroInputs[];
  private readonly losses: GPUBuffer;
  private readonly lossTotal: GPUBuffer;
  private readonly lossStaging: GPUBuffer;
  private lossReadPending = false;
  /** Completion of submitted steps, oldest first (see throttle). */
  private readonly inFlight: Promise<undefined>[] = [];
  /** Settles when the staging buffer is unmapped again: it cannot be copied into while mapped. */
  private lossRead: Promise<unknown> = Promise.resolve();
  private readonly trainDispatches: Dispatch[][];
  private readonly evalDispatches: Dispatch[];
  private readonly normSquared: GPUBuffer;
  private readonly gradNorm: SumReduction;
  private readonly lossSum: SumReduction;
  private readonly evalLossSum: SumReduction;
  private readonly optimizer: AdamW;
  private readonly adamM: GPUBuffer;
  private readonly adamV: GPUBuffer;

  constructor(device: GPUDevice, options: GpuGptOptions) {
    this.device = device;
    this.config = checkConfig(options.config);
    this.layout = paramLayout(this.config);
    this.batchSize = options.batchSize;
    this.seqLen = options.seqLen ?? this.config.contextLength;
    this.microSteps = options.microSteps ?? 1;
    this.checkShapes(options.headRows);
    const { vocabSize: V, embedDim: C } = this.config;
    const rows = this.batchSize * this.seqLen;
    const n = this.layout.totalFloats;

    this.params = this.alloc(n, 'parameters', 'params');
    this.grads = this.alloc(n, 'gradients', 'grads');
    const m = (this.adamM = this.alloc(n, 'optimizer', 'adam.m'));
    const v = (this.adamV = this.alloc(n, 'optimizer', 'adam.v'));
    this.inputs = Array.from({ length: this.microSteps }, (_, k) => ({
      tokens: this.alloc(rows, 'scratch', `tokens${k}`),
      targets: this.alloc(rows, 'scratch', `targets${k}`),
      bucketStart: this.alloc(V + 1, 'scratch', `bucketStart${k}`),
      bucketRows: this.alloc(rows, 'scratch', `bucketRows${k}`),
    }));

    const headRows = (this.headRows = headRowsFor(rows, V, options.headRows));
    const chunks = headChunks(rows, headRows);
    const fwd = allocateForward(this.config, this.batchSize, this.seqLen, (floats, label) => this.alloc(floats, 'activations', label), false, headRows);
    const { x0, acts, lnfStats } = fwd;
    this.logits = fwd.logits;
    // Each microbatch's losses start on a 256-byte boundary (binding alignment); the gap
    // floats are never written, stay zero, and so do not change the summed loss.
    const lossStride = Math.ceil(rows / TENSOR_ALIGN_FLOATS) * TENSOR_ALIGN_FLOATS;
    this.losses = this.alloc(lossStride * this.microSteps, 'activations', 'losses');
    this.lossTotal = this.alloc(1, 'scratch', 'loss.sum');
    this.lossStaging = this.track(
      device.createBuffer({ label: 'loss.staging', size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST }),
      'scratch',
    );

    const scratch = {
      dlogits: this.alloc(headRows * V, 'scratch', 'dlogits'),
      dres: this.alloc(rows * C, 'scratch', 'dres'),
      dC: this.alloc(rows * C, 'scratch', 'dC'),
      d4a: this.alloc(rows * 4 * C, 'scratch', 'd4a'),
      d4b: this.alloc(rows * 4 * C, 'scratch', 'd4b'),
      dscores: this.alloc(this.batchSize * this.config.heads * this.seqLen * this.seqLen, 'scratch', 'dscores'),
    };

    const shape = { batchSize: this.batchSize, seqLen: this.seqLen };
    this.trainDispatches = this.inputs.map((input, k) => [
      ...forwardDispatches(device, this.config, this.layout, shape, this.params, input.tokens, fwd),
      ...chunks.flatMap((c) => this.headDispatches(input, c, fwd, floatRange(this.losses, k * lossStride + c.start, c.rows), scratch)),
      ...this.backwardDispatches(input, x0, acts, lnfStats, scratch),
    ]);
    this.evalDispatches = [
      ...forwardDispatches(device, this.config, this.layout, shape, this.params, this.inputs[0].tokens, fwd),
      ...chunks.flatMap((c) =>
        headLossDispatches(device, this.config, this.layout, this.params, fwd, c, { targets: this.inputs[0].targets, losses: this.losses, positions: rows }),
      ),
    ];
    this.normSquared = this.alloc(1, 'scratch', 'grad.normSquared');
    this.gradNorm = createSumReduction(device, this.grads, n, { square: true, result: this.normSquared });
    this.lossSum = createSumReduction(device, this.losses, lossStride * this.microSteps, { result: this.lossTotal });
    this.evalLossSum = createSumReduction(device, floatRange(this.losses, 0, rows), rows, { result: this.lossTotal });
    this.optimizer = createAdamW(device, n, this.layout.decayEnd, this.params, this.grads, m, v, this.normSquared);
  }

  /** Uploads the flat parameter vector (e.g. from initParams or a checkpoint). */
  setParams(params: Float32Array): void {
    if (params.length !== this.layout.totalFloats) throw new RangeError(`expected ${this.layout.totalFloats} parameters, got ${params.length}`);
    this.device.queue.writeBuffer(this.params, 0, params);
  }

  readParams(): Promise<Float32Array> {
    return readFloat32(this.device, this.params, this.layout.totalFloats);
  }

  /**
   * Parameters and moments, for checkpoints and for rebuilding after device loss (the caller
   * keeps a recent copy: a lost device cannot be read).
   */
  async exportState(): Promise<TrainingState> {
    const n = this.layout.totalFloats;
    const [params, m, v] = await Promise.all([this.params, this.adamM, this.adamV].map((b) => readFloat32(this.device, b, n)));
    return { params, m, v };
  }

  importState(state: TrainingState): void {
    for (const [name, array] of Object.entries(state)) {
      if (!(array instanceof Float32Array) || array.length !== this.layout.totalFloats)
        throw new RangeError(`state.${name} must be a Float32Array of ${this.layout.totalFloats} floats`);
    }
    this.device.queue.writeBuffer(this.params, 0, state.params);
    this.device.queue.writeBuffer(this.adamM, 0, state.m);
    this.device.queue.writeBuffer(this.adamV, 0, state.v);
  }

  readGrads(): Promise<Float32Array> {
    return readFloat32(this.device, this.grads, this.layout.totalFloats);
  }

  /** The last logits chunk computed: the last `headRows` rows of the last microbatch (all of them when one chunk holds the batch). */
  readLogits(): Promise<Float32Array> {
    const rows = this.batchSize * this.seqLen;
    const last = headChunks(rows, this.headRows).at(-1) ?? { start: 0, rows };
    return readFloat32(this.device, this.logits, last.rows * this.config.vocabSize);
  }

  /** Validates and uploads microbatch k's tokens and targets (and the token buckets backward needs). */
  setBatch(k: number, batch: MicroBatch): void {
    if (!Number.isInteger(k) || k < 0 || k >= this.microSteps) throw new RangeError(`microbatch index ${k} is outside 0..${this.microSteps - 1}`);
    const shape = { batchSize: this.batchSize, seqLen: this.seqLen, vocab: this.config.vocabSize };
    const tokens = tokenIds(batch.tokens, shape, 'tokens');
    const targets = tokenIds(batch.targets, shape, 'targets');
    const buckets = bucketByToken(tokens, this.config.vocabSize);
    const input = this.inputs[k];
    const q = this.device.queue;
    q.writeBuffer(input.tokens, 0, tokens);
    q.writeBuffer(input.targets, 0, targets);
    q.writeBuffer(input.bucketStart, 0, buckets.start);
    q.writeBuffer(input.bucketRows, 0, buckets.rows);
  }

  /** Forward and backward over every microbatch; gradients of the mean loss land in `grads`. */
  encodeGradients(encoder: GPUCommandEncoder): void {
    encoder.clearBuffer(this.grads);
    for (const d of this.trainDispatches) encodePass(encoder, d, 'forward-backward');
    encodePass(encoder, this.lossSum.dispatches, 'loss');
  }

  /**
   * One optimizer step on the microbatches set with setBatch: one submit. With `readLoss`,
   * resolves to the step's mean loss (skipped, null, if the previous read is still pending).
   */
  trainStep(step: number, hyper: AdamWHyper, options: { readLoss?: boolean } = {}): Promise<number> | null {
    this.optimizer.setStep(step, hyper);
    const encoder = this.device.createCommandEncoder({ label: 'train-step' });
    this.encodeGradients(encoder);
    encodePass(encoder, [...this.gradNorm.dispatches, this.optimizer.dispatch], 'clip-adamw');
    const read = options.readLoss === true && !this.lossReadPending;
    if (read) encoder.copyBufferToBuffer(this.lossTotal, 0, this.lossStaging, 0, 4);
    this.device.queue.submit([encoder.finish()]);
    // A destroyed device rejects these (AbortError); throttling only needs them settled.
    this.inFlight.push(this.device.queue.onSubmittedWorkDone().catch(() => undefined));
    return read ? this.readLossStaging(this.batchSize * this.seqLen * this.microSteps) : null;
  }

  /**
   * Waits until at most `max` submitted steps are still running. Without it a loop can queue
   * steps far ahead of the GPU, and progress, pause and loss reads would all lag behind.
   */
  async throttle(max = 2): Promise<void> {
    while (this.inFlight.length > max) await this.inFlight.shift();
  }

  /**
   * The mean loss of the last step submitted, read after the fact: for a loop stopped early,
   * whose final step did not ask for its loss (the loss sum stays until the next step clears it).
   */
  async lastStepLoss(): Promise<number> {
    await this.lossRead;
    const encoder = this.device.createCommandEncoder({ label: 'last-step-loss' });
    encoder.copyBufferToBuffer(this.lossTotal, 0, this.lossStaging, 0, 4);
    this.device.queue.submit([encoder.finish()]);
    return this.readLossStaging(this.batchSize * this.seqLen * this.microSteps);
  }

  /** Gradients only (no update): for tests against the reference. Resolves to the mean loss. */
  async computeGradients(): Promise<number> {
    await this.lossRead;
    const encoder = this.device.createCommandEncoder({ label: 'gradients' });
    this.encodeGradients(encoder);
    encoder.copyBufferToBuffer(this.lossTotal, 0, this.lossStaging, 0, 4);
    this.device.queue.submit([encoder.finish()]);
    return this.readLossStaging(this.batchSize * this.seqLen * this.microSteps);
  }

  /** Forward only on microbatch 0: mean loss (and logits left in `logits`). */
  async evaluate(): Promise<number> {
    await this.lossRead;
    const encoder = this.device.createCommandEncoder({ label: 'evaluate' });
    encodePass(encoder, [...this.evalDispatches, ...this.evalLossSum.dispatches], 'evaluate');
    const rows = this.batchSize * this.seqLen;
    encoder.copyBufferToBuffer(this.lossTotal, 0, this.lossStaging, 0, 4);
    this.device.queue.submit([encoder.finish()]);
    return this.readLossStaging(rows);
  }

  /**
   * Forward only on microbatch 0: the loss at every position (batch-major), so a caller can
   * average per sequence (the validator compares sequences, not just batch means).
   */
  async evaluatePositions(): Promise<Float32Array> {
    await this.lossRead;
    const encoder = this.device.createCommandEncoder({ label: 'evaluate.positions' });
    encodePass(encoder, this.evalDispatches, 'evaluate.positions');
    this.device.queue.submit([encoder.finish()]);
    return readFloat32(this.device, this.losses, this.batchSize * this.seqLen);
  }

  /** Resolves once no loss read is in flight (then the next requested read cannot be skipped). */
  async settled(): Promise<void> {
    await this.lossRead;
  }

  destroy(): void {
    for (const b of this.buffers) b.destroy();
    destroyDispatches([...this.trainDispatches.flat(), ...this.evalDispatches]);
    for (const r of [this.gradNorm, this.lossSum, this.evalLossSum]) r.destroy();
    this.optimizer.destroy();
  }

  private readLossStaging(positions: number): Promise<number> {
    this.lossReadPending = true;
    const read = (async (): Promise<number> => {
      try {
        await this.lossStaging.mapAsync(GPUMapMode.READ);
        const sum = new Float32Array(this.lossStaging.getMappedRange())[0];
        this.lossStaging.unmap();
        return sum / positions;
      } finally {
        this.lossReadPending = false;
      }
    })();
    this.lossRead = read.catch(() => undefined);
    return read;
  }

  private checkShapes(headRows?: number): void {
    const { batchSize, seqLen, microSteps, config } = this;
    checkShape(config, { batchSize, seqLen, microSteps });
    assertFits(this.device.limits, config, { batchSize, seqLen, microSteps, headRows });
  }

  private alloc(floats: number, kind: Exclude<keyof GpuMemory, 'total'>, label: string): GPUBuffer {
    const size = Math.max(16, Math.ceil((floats * 4) / 16) * 16);
    const buffer = this.device.createBuffer({ label, size, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
    return this.track(buffer, kind);
  }

  private track(buffer: GPUBuffer, kind: Exclude<keyof GpuMemory, 'total'>): GPUBuffer {
    this.buffers.push(buffer);
    this.memory[kind] += buffer.size;
    this.memory.total += buffer.size;
    return buffer;
  }

  /** A named parameter tensor as a binding into `buffer` (params or grads). */
  private view(buffer: GPUBuffer, name: string): Binding {
    const t = tensor(this.layout, name);
    return floatRange(buffer, t.offset, t.size);
  }

  /**
   * One chunk of the head for training: logits, the loss and dlogits in one pass, then the
   * chunk's share of dC = dlogits·wte and dwte += dlogitsᵀ·lnf, so no chunk's logits outlive it.
   */
  private headDispatches(
    input: MicroInputs,
    c: { start: number; rows: number },
    fwd: ForwardBuffers,
    losses: Binding,
    s: { dlogits: GPUBuffer; dC: GPUBuffer },
  ): Dispatch[] {
    const d = this.device;
    const { vocabSize: V, embedDim: C } = this.config;
    const positions = this.batchSize * this.seqLen * this.microSteps;
    return [
      headDispatch(d, this.config, this.layout, this.params, fwd, c),
      crossEntropy(d, { rows: c.rows, vocab: V, lossPositions: positions }, this.logits, floatRange(input.targets, c.start, c.rows), losses, s.dlogits),
      matmulDispatch(d, { m: c.rows, n: C, k: V }, s.dlogits, this.view(this.params, 'wte'), floatRange(s.dC, c.start * C, c.rows * C)),
      matmulDispatch(
        d,
        { m: V, n: C, k: c.rows, transA: true, accumulate: true },
        s.dlogits,
        floatRange(fwd.lnf, c.start * C, c.rows * C),
        this.view(this.grads, 'wte'),
      ),
    ];
  }

  private backwardDispatches(
    input: MicroInputs,
    x0: GPUBuffer,
    acts: LayerActs[],
    lnfStats: GPUBuffer,
    s: { dlogits: GPUBuffer; dres: GPUBuffer; dC: GPUBuffer; d4a: GPUBuffer; d4b: GPUBuffer; dscores: GPUBuffer },
  ): Dispatch[] {
    const d = this.device;
    const { vocabSize: V, embedDim: C, heads } = this.config;
    const rows = this.batchSize * this.seqLen;
    const p = (name: string): Binding => this.view(this.params, name);
    const g = (name: string): Binding => this.view(this.grads, name);
    const last = acts.length ? acts[acts.length - 1].x2 : x0;
    const attnShape = { batch: this.batchSize, seq: this.seqLen, heads, channels: C };
    const dqkv = floatRange(s.d4a, 0, rows * 3 * C);
    const out: Dispatch[] = [
      // The head's gradient is already in dC (headDispatches, chunk by chunk).
      // The first LayerNorm backward writes the residual gradient; every later one adds to it.
      ...layerNormBackward(d, { rows, channels: C, accumulate: false }, s.dC, last, lnfStats, p('lnf.w'), s.dres, g('lnf.w'), g('lnf.b')),
    ];
    for (let l = acts.length - 1; l >= 0; l--) {
      const a = acts[l];
      const x = l === 0 ? x0 : acts[l - 1].x2;
      const h = `h${l}`;
      out.push(
        // MLP branch: x2 = x1 + gelu(ln2·Wfc + bfc)·Wproj + bproj.
        matmulDispatch(d, { m: 4 * C, n: C, k: rows, transA: true, accumulate: true }, a.gelu, s.dres, g(`${h}.mlp.proj.w`)),
        biasGradDispatch(d, rows, C, s.dres, g(`${h}.mlp.proj.b`)),
        matmulDispatch(d, { m: rows, n: 4 * C, k: C, transB: true }, s.dres, p(`${h}.mlp.proj.w`), s.d4a),
        geluBackward(d, rows * 4 * C, a.fc, s.d4a, s.d4b),
        matmulDispatch(d, { m: C, n: 4 * C, k: rows, transA: true, accumulate: true }, a.ln2, s.d4b, g(`${h}.mlp.fc.w`)),
        biasGradDispatch(d, rows, 4 * C, s.d4b, g(`${h}.mlp.fc.b`)),
        matmulDispatch(d, { m: rows, n: C, k: 4 * C, transB: true }, s.d4b, p(`${h}.mlp.fc.w`), s.dC),
        ...layerNormBackward(d, { rows, channels: C, accumulate: true }, s.dC, a.x1, a.ln2Stats, p(`${h}.ln2.w`), s.dres, g(`${h}.ln2.w`), g(`${h}.ln2.b`)),
        // Attention branch: x1 = x + attn(ln1·Wqkv + bqkv)·Wproj + bproj.
        matmulDispatch(d, { m: C, n: C, k: rows, transA: true, accumulate: true }, a.attnOut, s.dres, g(`${h}.attn.proj.w`)),
        biasGradDispatch(d, rows, C, s.dres, g(`${h}.attn.proj.b`)),
        matmulDispatch(d, { m: rows, n: C, k: C, transB: true }, s.dres, p(`${h}.attn.proj.w`), s.dC),
        ...attentionBackward(d, attnShape, a.qkv, a.att, s.dC, s.dscores, dqkv),
        matmulDispatch(d, { m: C, n: 3 * C, k: rows, transA: true, accumulate: true }, a.ln1, dqkv, g(`${h}.attn.qkv.w`)),
        biasGradDispatch(d, rows, 3 * C, dqkv, g(`${h}.attn.qkv.b`)),
        matmulDispatch(d, { m: rows, n: C, k: 3 * C, transB: true }, dqkv, p(`${h}.attn.qkv.w`), s.dC),
        ...layerNormBackward(d, { rows, channels: C, accumulate: true }, s.dC, x, a.ln1Stats, p(`${h}.ln1.w`), s.dres, g(`${h}.ln1.w`), g(`${h}.ln1.b`)),
      );
    }
    out.push(...embeddingBackward(d, { rows, seq: this.seqLen, channels: C, vocab: V }, s.dres, input.bucketStart, input.bucketRows, g('wte'), g('wpe')));
    return out;
  }
}
