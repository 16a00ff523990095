// The GPU half of a swarm participant: train θ_w on the peer's data pages until a deadline and
// compress the result. Runs where the device lives (a Node process, or a tab's worker) while
// the network half (SwarmPeer) runs where WebRTC does (Node, or the tab's main thread).
import { chunkPlan } from '../compress/chunks';
import { SparseLoCoEncoder, type TopKSelector } from '../compress/sparseloco';
import { MAX_UNITS, packWorkPayload, receiptPlan } from '../compress/workPayload';
import { DEFAULT_ADAMW } from '../model/optimizer';
import { GpuGpt } from '../gpu/model';
import { createGpuTopK } from '../gpu/topk';
import type { GptConfig } from '../model/config';
import { assignedPages, batchForStep, pagesTrained, unitPages } from '../train/dataPages';
import { runInnerLoop } from '../train/innerLoop';
import type { CosineSchedule } from '../model/schedule';
import { MAX_INNER_STEPS } from '../protocol/parseRunConfig';

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
  /**
   * Unit mode (the run's unitSteps): train whole units of this many steps, each from θ_w on
   * its own pages, and send their mean with one receipt per unit (src/compress/workPayload.ts).
   */
  unitSteps?: number;
}

export interface WindowResult {
  /** The SparseLoCo payload; absent when fewer than minSteps fitted before the deadline. */
  payload?: Uint8Array;
  steps: number;
  tokens: number;
  loss?: number;
}

/**
 * How hard the device works, the volunteer's power setting: `share` of each window spent
 * training (the trainer rests between units in proportion), or none while `paused` (on
 * battery, a hidden tab). Unit mode honours it; chained mode trains flat out.
 */
export interface Effort {
  share: number;
  paused: boolean;
}

export const FULL_EFFORT: Effort = { share: 1, paused: false };

/** A share the trainer can use: (0, 1], anything else is full. */
export const effortShare = (e: Effort): number => (Number.isFinite(e.share) && e.share > 0 && e.share <= 1 ? e.share : 1);

export interface WindowTrainer {
  trainWindow(job: WindowJob): Promise<WindowResult>;
  /** Applies from the next unit on, also mid-window. */
  setEffort?(effort: Effort): void;
  /** After a resync: the optimizer moments and error feedback belong to a model we left. */
  reset(): void;
  /** Ends the current window's training early (the peer is stopping). */
  abort(): void;
  /** Calls `listener` once if the trainer can train no more (its worker died, its device was lost), even between windows. */
  onDeath?(listener: (err: Error) => void): void;
}

export class GpuWindowTrainer implements WindowTrainer {
  private moments?: { m: Float32Array; v: Float32Array };
  private stepsDone = 0;
  private aborted = false;
  private encoder: SparseLoCoEncoder;
  private effort: Effort = FULL_EFFORT;

  constructor(
    private readonly model: GpuGpt,
    private readonly train: Uint16Array,
    private readonly topK?: TopKSelector,
    private readonly now: () => number = Date.now,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
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

  setEffort(effort: Effort): void {
    this.effort = { share: effortShare(effort), paused: effort.paused };
  }

  /**
   * Before a unit: rest in proportion to the last one (at share s, a unit of u ms is followed by
   * u·(1/s − 1) ms idle), and wait while paused. False when the next unit no longer fits.
   */
  private async restBeforeUnit(unitMs: number, deadline: number): Promise<boolean> {
    const rest = unitMs * (1 / this.effort.share - 1);
    if (rest > 0) {
      if (this.now() + rest + 1.2 * unitMs >= deadline) return false;
      await this.sleep(rest);
    }
    while (this.effort.paused && !this.aborted) {
      if (this.now() + 1.2 * unitMs >= deadline) return false;
      await this.sleep(Math.min(250, Math.max(1, deadline - this.now())));
    }
    return !this.aborted && (unitMs === 0 || this.now() + 1.2 * unitMs < deadline);
  }

  async trainWindow(job: WindowJob): Promise<WindowResult> {
    this.aborted = false;
    if (this.now() >= job.deadline) return { steps: 0, tokens: 0 };
    return job.unitSteps ? this.trainUnits(job, job.unitSteps) : this.trainChained(job);
  }

  private async trainChained(job: WindowJob): Promise<WindowResult> {
    const { model } = this;
    const per = model.batchSize * model.microSteps;
    const pages = await assignedPages({
      runSeed: job.runId,
      peerAddress: job.peerAddress,
      window: job.window,
      count: pagesTrained(MAX_INNER_STEPS, per),
      seqLen: model.seqLen,
      corpusLength: this.train.length,
    });
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

  /**
   * Whole units from θ_w, one after another, while the next one fits before the deadline. Each
   * unit's delta is kept alone as its receipt, so its pages' trace does not fade as a fast
   * device trains more; the update sent is the units' mean (as if each were its own peer).
   */
  private async trainUnits(job: WindowJob, unitSteps: number): Promise<WindowResult> {
    const { model } = this;
    const per = model.batchSize * model.microSteps;
    const n = model.layout.totalFloats;
    const maxUnits = Math.min(MAX_UNITS, Math.floor(Math.min(job.maxSteps ?? MAX_INNER_STEPS, MAX_INNER_STEPS) / unitSteps));
    // β = 0: one encoder serves every unit, nothing of one receipt leaks into the next.
    const receiptEncoder = new SparseLoCoEncoder(receiptPlan(model.layout), n, this.topK);
    const sum = new Float64Array(n);
    const receipts: Uint8Array[] = [];
    let moments = this.moments ?? { m: new Float32Array(n), v: new Float32Array(n) };
    let tokens = 0;
    let loss: number | undefined;
    let unitMs = 0;
    while (receipts.length < maxUnits && !this.aborted) {
      // A unit is all or nothing: start one only when it should end before the deadline.
      if (receipts.length > 0 && this.now() + 1.2 * unitMs >= job.deadline) break;
      if (!(await this.restBeforeUnit(receipts.length > 0 ? unitMs : 0, job.deadline))) break;
      const startedAt = this.now();
      const pages = await unitPages({
        runSeed: job.runId,
        peerAddress: job.peerAddress,
        window: job.window,
        unit: receipts.length,
        count: pagesTrained(unitSteps, per),
        seqLen: model.seqLen,
        corpusLength: this.train.length,
      });
      model.importState({ params: job.theta, m: moments.m, v: moments.v });
      const start = this.stepsDone;
      const result = await runInnerLoop({
        model,
        train: this.train,
        startStep: start,
        steps: unitSteps,
        schedule: job.schedule,
        hyper: DEFAULT_ADAMW,
        offsetsForStep: (s) => pages.subarray(batchForStep(s - start) * per, (batchForStep(s - start) + 1) * per),
        lossEvery: unitSteps,
        shouldStop: () => this.aborted,
      });
      if (result.stepsDone < unitSteps) break;
      this.stepsDone += unitSteps;
      const state = await model.exportState();
      moments = { m: state.m, v: state.v };
      for (let i = 0; i < n; i++) sum[i] += state.params[i] - job.theta[i];
      receipts.push((await receiptEncoder.encode(job.theta, state.params)).bytes);
      tokens += result.tokens;
      loss = result.trainLosses[result.trainLosses.length - 1]?.loss ?? loss;
      unitMs = this.now() - startedAt;
    }
    this.moments = moments;
    const steps = receipts.length * unitSteps;
    const figures = { steps, tokens, loss };
    if (steps < job.minSteps || this.aborted || receipts.length === 0) return figures;
    const mean = Float32Array.from(job.theta, (t, i) => t + sum[i] / receipts.length);
    const { bytes } = await this.encoder.encode(job.theta, mean);
    return { ...figures, payload: packWorkPayload({ main: bytes, receipts }) };
  }
}

/** The GPU trainer a peer runs on `device`: the run's model shape, the WGSL top-k, its training split; deadlines read `now`. */
export function openGpuWindowTrainer(
  device: GPUDevice,
  config: GptConfig,
  shape: { batchSize: number; seqLen: number },
  train: Uint16Array,
  now: () => number = Date.now,
): { trainer: GpuWindowTrainer; close(): void } {
  const model = new GpuGpt(device, { config, batchSize: shape.batchSize, seqLen: shape.seqLen });
  const topk = createGpuTopK(device, chunkPlan(model.layout).chunks, model.layout.totalFloats);
  return { trainer: new GpuWindowTrainer(model, train, (v) => topk.run(v), now), close: () => [topk.destroy(), model.destroy()] };
}
