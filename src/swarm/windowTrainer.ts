// The GPU half of a swarm participant: train θ_w on the peer's data pages until a deadline and
// compress the result. Runs where the device lives (a Node process, or a tab's worker) while
// the network half (SwarmPeer) runs where WebRTC does (Node, or the tab's main thread).
import { chunkPlan } from '../compress/chunks';
import { SparseLoCoEncoder, type TopKSelector } from '../compress/sparseloco';
import { DEFAULT_ADAMW } from '../gpu/adamw';
import type { GpuGpt } from '../gpu/model';
import { assignedPages, batchForStep, pagesTrained } from '../train/dataPages';
import { runInnerLoop } from '../train/innerLoop';
import type { CosineSchedule } from '../train/schedule';
import { MAX_INNER_STEPS } from './parseRunConfig';


export interface WindowJob {
  runId: string;
  peerAddress: string;
  window: number;
  theta: Float32Array;
  /** Epoch ms by which training must have stopped. */
  deadline: number;
  minSteps: number;
  /** The run's cap on inner steps (MAX_INNER_STEPS when it sets none). */
  maxSteps?: number;
  schedule: CosineSchedule;
}

export interface WindowResult {
  /** The SparseLoCo payload; absent when fewer than minSteps fitted before the deadline. */
  payload?: Uint8Array;
  steps: number;
  tokens: number;
  loss?: number;
}

export interface WindowTrainer {
  trainWindow(job: WindowJob): Promise<WindowResult>;
  /** After a resync: the optimizer moments and error feedback belong to a model we left. */
  reset(): void;
  /** Ends the current window's training early (the peer is stopping). */
  abort(): void;
}

export class GpuWindowTrainer implements WindowTrainer {
  private moments?: { m: Float32Array; v: Float32Array };
  private stepsDone = 0;
  private aborted = false;
  private encoder: SparseLoCoEncoder;

  constructor(
    private readonly model: GpuGpt,
    private readonly train: Uint16Array,
    private readonly topK?: TopKSelector,
    private readonly now: () => number = Date.now,
  ) {
    this.encoder = new SparseLoCoEncoder(chunkPlan(model.layout), model.layout.totalFloats, topK);
  }

  reset(): void {
    this.moments = undefined;
    this.encoder = new SparseLoCoEncoder(chunkPlan(this.model.layout), this.model.layout.totalFloats, this.topK);
  }

  abort(): void {
    this.aborted = true;
  }

  async trainWindow(job: WindowJob): Promise<WindowResult> {
    this.aborted = false;
    const { model } = this;
    if (this.now() >= job.deadline) return { steps: 0, tokens: 0 };
    const per = model.batchSize * model.microSteps;
    const pages = await assignedPages({ runSeed: job.runId, peerAddress: job.peerAddress, window: job.window, count: pagesTrained(MAX_INNER_STEPS, per), seqLen: model.seqLen, corpusLength: this.train.length });
    const zeros = (): Float32Array => new Float32Array(model.layout.totalFloats);
    model.importState({ params: job.theta, m: this.moments?.m ?? zeros(), v: this.moments?.v ?? zeros() });
    let done = 0;
    let lastAt = this.now();
    let stepMs = 0;
    const start = this.stepsDone;
    const result = await runInnerLoop({
      model,
      train: this.train,
      startStep: start,
      steps: Math.min(job.maxSteps ?? MAX_INNER_STEPS, MAX_INNER_STEPS),
      schedule: job.schedule,
      hyper: DEFAULT_ADAMW,
      offsetsForStep: (s) => pages.subarray(batchForStep(s - start) * per, (batchForStep(s - start) + 1) * per),
      lossEvery: 5,
      onProgress: (p) => {
        const t = this.now();
        stepMs = stepMs ? 0.7 * stepMs + 0.3 * (t - lastAt) : t - lastAt;
        lastAt = t;
        done = p.done;
      },
      // Up to two steps are still on the GPU when the loop stops: stop early enough for them.
      shouldStop: () => this.aborted || (done >= job.minSteps && this.now() + 2 * stepMs >= job.deadline),
    });
    this.stepsDone += result.stepsDone;
    const state = await model.exportState();
    this.moments = { m: state.m, v: state.v };
    const figures = { steps: result.stepsDone, tokens: result.tokens, loss: result.trainLosses[result.trainLosses.length - 1]?.loss };
    if (result.stepsDone < job.minSteps || this.aborted) return figures;
    const { bytes } = await this.encoder.encode(job.theta, state.params);
    return { ...figures, payload: bytes };
  }
}
