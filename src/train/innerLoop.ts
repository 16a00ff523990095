// The inner loop: H AdamW steps from a given model state on given data, with the learning
// rate from the global step, periodic validation, and progress reports. The swarm calls it
// once per window; the single-peer trainer calls it in a row.
import type { AdamWHyper } from '../model/optimizer';
import type { GpuGpt, MicroBatch } from '../gpu/model';
import { learningRate, type CosineSchedule } from '../model/schedule';

export interface InnerLoopProgress {
  /** Steps done in this call, and its length. */
  done: number;
  of: number;
  globalStep: number;
  lr: number;
  tokensPerSecond: number;
  loss?: number;
  valLoss?: number;
}

export interface InnerLoopOptions {
  model: GpuGpt;
  train: Uint16Array;
  /** Start offsets for global step s: batchSize × microSteps of them. */
  offsetsForStep(globalStep: number): ArrayLike<number>;
  /** Global step of the first step taken (0-based); the schedule and Adam's bias correction use it. */
  startStep: number;
  steps: number;
  schedule: CosineSchedule;
  hyper: Omit<AdamWHyper, 'lr'>;
  /** Fixed validation batches, scored every `evalEvery` steps and at the end. */
  val?: { ids: Uint16Array; offsets: ArrayLike<number> };
  evalEvery?: number;
  /** Read the loss back every this many steps (it is the only readback). */
  lossEvery?: number;
  onProgress?(progress: InnerLoopProgress): void;
  /** Polled between steps: true ends the loop early (pause, stop). */
  shouldStop?(): boolean;
  /** Awaited before each step: lets other GPU work (sampling) run between steps, not behind them. */
  beforeStep?(): Promise<void>;
}

export interface InnerLoopResult {
  stepsDone: number;
  trainLosses: { step: number; loss: number }[];
  valLosses: { step: number; loss: number }[];
  tokens: number;
  milliseconds: number;
}

/** Tokens and next-token targets for sequences starting at `offsets`. */
export function batchAt(ids: Uint16Array, offsets: ArrayLike<number>, seqLen: number): MicroBatch {
  const tokens = new Uint16Array(offsets.length * seqLen);
  const targets = new Uint16Array(offsets.length * seqLen);
  for (let b = 0; b < offsets.length; b++) {
    const start = offsets[b];
    if (!Number.isInteger(start) || start < 0 || start + seqLen + 1 > ids.length)
      throw new RangeError(`offset ${start} leaves no room for ${seqLen + 1} tokens in a corpus of ${ids.length}`);
    tokens.set(ids.subarray(start, start + seqLen), b * seqLen);
    targets.set(ids.subarray(start + 1, start + seqLen + 1), b * seqLen);
  }
  return { tokens, targets };
}

function setStepBatches(model: GpuGpt, ids: Uint16Array, offsets: ArrayLike<number>): void {
  const per = model.batchSize;
  if (offsets.length !== per * model.microSteps) throw new RangeError(`expected ${per * model.microSteps} offsets per step, got ${offsets.length}`);
  for (let k = 0; k < model.microSteps; k++)
    model.setBatch(k, batchAt(ids, Array.prototype.slice.call(offsets, k * per, (k + 1) * per) as number[], model.seqLen));
}

/** Mean loss over the fixed validation batches (batchSize sequences per evaluation). */
export async function validationLoss(model: GpuGpt, ids: Uint16Array, offsets: ArrayLike<number>): Promise<number> {
  const per = model.batchSize;
  let sum = 0;
  let batches = 0;
  for (let i = 0; i + per <= offsets.length; i += per) {
    model.setBatch(0, batchAt(ids, Array.prototype.slice.call(offsets, i, i + per) as number[], model.seqLen));
    sum += await model.evaluate();
    batches++;
  }
  if (batches === 0) throw new RangeError(`validation needs at least ${per} offsets`);
  return sum / batches;
}

export async function runInnerLoop(o: InnerLoopOptions): Promise<InnerLoopResult> {
  const { model } = o;
  const tokensPerStep = model.batchSize * model.seqLen * model.microSteps;
  const lossEvery = o.lossEvery ?? 10;
  const result: InnerLoopResult = { stepsDone: 0, trainLosses: [], valLosses: [], tokens: 0, milliseconds: 0 };
  const started = performance.now();
  const pending: Promise<void>[] = [];
  let lastStepRead = false;
  for (let i = 0; i < o.steps; i++) {
    await o.beforeStep?.();
    if (o.shouldStop?.()) break;
    const globalStep = o.startStep + i;
    const lr = learningRate(o.schedule, globalStep);
    setStepBatches(model, o.train, o.offsetsForStep(globalStep));
    const last = i === o.steps - 1;
    // A read still in flight would make the model skip this one; the last loss must arrive.
    if (last) await model.settled();
    const read = model.trainStep(globalStep + 1, { ...o.hyper, lr }, { readLoss: last || (i + 1) % lossEvery === 0 });
    await model.throttle();
    result.stepsDone++;
    result.tokens += tokensPerStep;
    const report = (extra: Partial<InnerLoopProgress>): void =>
      o.onProgress?.({
        done: i + 1,
        of: o.steps,
        globalStep: globalStep + 1,
        lr,
        tokensPerSecond: (result.tokens * 1000) / (performance.now() - started),
        ...extra,
      });
    lastStepRead = read !== null;
    if (read) {
      // Not awaited: the GPU keeps working while the loss travels back.
      pending.push(
        read.then((loss) => {
          result.trainLosses.push({ step: globalStep + 1, loss });
          report({ loss });
        }),
      );
    } else report({});
    if (o.val && o.evalEvery && (i + 1) % o.evalEvery === 0 && !last) {
      const valLoss = await validationLoss(model, o.val.ids, o.val.offsets);
      result.valLosses.push({ step: globalStep + 1, loss: valLoss });
      report({ valLoss });
    }
  }
  await Promise.all(pending);
  // Stopped early (a deadline, a pause) between reads: the loop still reports where it ended.
  if (result.stepsDone > 0 && !lastStepRead) {
    const step = o.startStep + result.stepsDone;
    const loss = await model.lastStepLoss();
    result.trainLosses.push({ step, loss });
    o.onProgress?.({
      done: result.stepsDone,
      of: o.steps,
      globalStep: step,
      lr: learningRate(o.schedule, step - 1),
      tokensPerSecond: (result.tokens * 1000) / (performance.now() - started),
      loss,
    });
  }
  if (o.val && result.stepsDone > 0) {
    const valLoss = await validationLoss(model, o.val.ids, o.val.offsets);
    const step = o.startStep + result.stepsDone;
    result.valLosses.push({ step, loss: valLoss });
    o.onProgress?.({
      done: result.stepsDone,
      of: o.steps,
      globalStep: step,
      lr: learningRate(o.schedule, step - 1),
      tokensPerSecond: (result.tokens * 1000) / (performance.now() - started),
      valLoss,
    });
  }
  result.milliseconds = performance.now() - started;
  result.trainLosses.sort((a, b) => a.step - b.step);
  return result;
}
