// GPT engine checks against the CPU reference, written once and run on Dawn (Vitest) and in
// Chromium (harness page): logits, loss, every parameter's gradient, accumulation, AdamW.
import { checkConfig, gptConfig, type GptConfig } from '../../src/model/config';
import { withGpuErrors } from '../../src/gpu/errors';
import { initParams } from '../../src/model/init';
import { paramLayout, type ParamLayout } from '../../src/model/layout';
import { GpuEvaluator } from '../../src/gpu/evaluator';
import { estimateEvaluationMemory, estimateMemory, PresetTooLargeError } from '../../src/gpu/memoryPlan';
import { GpuGpt } from '../../src/gpu/model';
import { GpuSampler } from '../../src/gpu/sampler';
import { kernelStrategy, setKernelStrategy, type KernelStrategy } from '../../src/gpu/strategy';
import { clipScale, referenceAdamW, referenceBackward, referenceForward, referenceGradNorm, type Batch } from '../../src/model/reference';
import { seededRandom } from '../support/random';
import type { KernelCase } from './kernelSuite';

/** Vocabulary of the character-level Shakespeare corpus. */
const VOCAB = 65;

function check(condition: boolean, message: string): void {
  if (!condition) throw new Error(message);
}

/** Init params plus noise on every entry, so no gradient is trivially zero (biases 0, gains 1). */
export function testParams(config: GptConfig, layout: ParamLayout, seed: number): Float32Array {
  const params = initParams(config, layout, seed);
  const next = seededRandom(seed + 1);
  for (const t of layout.tensors) {
    for (let i = t.offset; i < t.offset + t.size; i++) params[i] += (next() - 0.5) * 0.04;
  }
  return params;
}

export function randomBatch(batchSize: number, seqLen: number, vocab: number, seed: number): Batch {
  const next = seededRandom(seed);
  const n = batchSize * seqLen;
  const tokens = new Int32Array(n);
  const targets = new Int32Array(n);
  // Skewed ids so some tokens repeat many times (exercises the gathered embedding gradient)
  // and some never appear.
  for (let i = 0; i < n; i++) {
    tokens[i] = Math.floor(next() ** 2 * (vocab - 5));
    targets[i] = Math.floor(next() * vocab);
  }
  return { tokens, targets, batchSize, seqLen };
}

/** max|got − want| ≤ tol · max|want| over a tensor; names the worst element on failure. */
function checkTensor(name: string, got: Float32Array, want: ArrayLike<number>, offset: number, size: number, tol: number): void {
  let scale = 0;
  for (let i = 0; i < size; i++) scale = Math.max(scale, Math.abs(want[offset + i]));
  let worst = 0;
  let at = 0;
  for (let i = 0; i < size; i++) {
    const err = Math.abs(got[offset + i] - want[offset + i]);
    if (!(err <= worst)) {
      worst = err;
      at = i;
    }
  }
  check(
    worst <= tol * Math.max(scale, 1e-8),
    `${name}: element ${at} got ${got[offset + at]}, want ${want[offset + at]} (max |want| ${scale.toExponential(2)}, relative error ${(worst / scale).toExponential(2)} > ${tol})`,
  );
}

/** Builds the model under one kernel family (the choice is made when dispatches are recorded). */
async function withStrategy(device: GPUDevice, strategy: KernelStrategy, work: () => Promise<void>): Promise<void> {
  const previous = kernelStrategy(device);
  setKernelStrategy(device, strategy);
  try {
    await work();
  } finally {
    setKernelStrategy(device, previous);
  }
}

async function gradientsMatch(
  device: GPUDevice,
  batchSize: number,
  seqLen: number,
  microSteps: number,
  config: GptConfig = gptConfig('tiny', VOCAB),
  headRows?: number,
): Promise<void> {
  const vocab = config.vocabSize;
  const layout = paramLayout(config);
  const params = testParams(config, layout, 3);
  const micro = Array.from({ length: microSteps }, (_, k) => randomBatch(batchSize, seqLen, vocab, 10 + k));
  // The reference sees all microbatches as one batch: accumulation must equal that.
  const whole: Batch = {
    tokens: Int32Array.from(micro.flatMap((b) => [...b.tokens])),
    targets: Int32Array.from(micro.flatMap((b) => [...b.targets])),
    batchSize: batchSize * microSteps,
    seqLen,
  };
  const fwd = referenceForward(config, layout, params, whole);
  const refGrads = referenceBackward(config, layout, params, whole, fwd);

  const model = new GpuGpt(device, { config, batchSize, seqLen, microSteps, headRows });
  try {
    const { loss, logits, grads } = await withGpuErrors(device, async () => {
      model.setParams(params);
      micro.forEach((b, k) => model.setBatch(k, b));
      const l = await model.computeGradients();
      return { loss: l, logits: await model.readLogits(), grads: await model.readGrads() };
    });
    check(Math.abs(loss - fwd.loss) <= 1e-5 * fwd.loss, `loss ${loss} vs reference ${fwd.loss}`);
    // The GPU keeps the last logits chunk of the last microbatch.
    const last = (microSteps * batchSize * seqLen - logits.length / vocab) * vocab;
    checkTensor('logits', logits, fwd.logits.subarray(last), 0, logits.length, 1e-5);
    for (const t of layout.tensors) checkTensor(`grad ${t.name}`, grads, refGrads, t.offset, t.size, 1e-4);
  } finally {
    model.destroy();
  }
}

export const modelCases: KernelCase[] = [
  {
    name: 'tiny GPT (workgroup-memory kernels): logits, loss and every parameter gradient match the CPU reference',
    run: ({ device }) => withStrategy(device, 'shared', () => gradientsMatch(device, 2, 64, 1)),
  },
  {
    name: 'tiny GPT (barrier-free kernels): logits, loss and every parameter gradient match the CPU reference',
    run: ({ device }) => withStrategy(device, 'direct', () => gradientsMatch(device, 2, 64, 1)),
  },
  {
    name: 'GPT-2 vocabulary (50,257), logits in chunks of 64 rows: logits, loss and every parameter gradient match the CPU reference',
    run: ({ device }) => gradientsMatch(device, 2, 64, 1, checkConfig({ vocabSize: 50_257, contextLength: 64, embedDim: 32, layers: 1, heads: 2 }), 64),
  },
  {
    name: 'GPT-2 vocabulary: the evaluator in logits chunks gives the unchunked losses bit for bit, and the sampler reads a row of a later chunk',
    run: async ({ device }) => {
      const config = checkConfig({ vocabSize: 50_257, contextLength: 128, embedDim: 32, layers: 1, heads: 2 });
      const layout = paramLayout(config);
      const params = testParams(config, layout, 9);
      const shape = { batchSize: 2, seqLen: 96 };
      const batch = randomBatch(shape.batchSize, shape.seqLen, config.vocabSize, 4);
      const whole = new GpuEvaluator(device, { config, ...shape });
      const chunked = new GpuEvaluator(device, { config, ...shape, headRows: 64 });
      const sampler = new GpuSampler(device, config, chunked.params, 64);
      try {
        const losses = await withGpuErrors(device, async () =>
          Promise.all(
            [whole, chunked].map(async (e) => {
              e.setParams(params);
              e.setBatch(batch.tokens, batch.targets);
              return e.positionLosses();
            }),
          ),
        );
        const differ = losses[1].findIndex((x, i) => !Object.is(x, losses[0][i]));
        check(differ < 0, `position ${differ}: chunked ${losses[1][differ]}, whole ${losses[0][differ]}`);
        check(chunked.memory.activations < whole.memory.activations, 'chunking did not shrink the logits');
        const est = estimateEvaluationMemory(config, { ...shape, headRows: 64 });
        check(est.total === chunked.memory.total, `estimated ${est.total} B, allocated ${chunked.memory.total} B`);
        // Context of 100 tokens: its last row (99) lies in the sampler's second chunk of 64 rows.
        const context = batch.tokens.subarray(0, 100);
        const got = await sampler.nextLogits(context);
        const want = referenceForward(config, layout, params, { tokens: context, targets: context, batchSize: 1, seqLen: context.length }).logits.subarray(
          99 * config.vocabSize,
        );
        checkTensor('next-token logits', got, want, 0, config.vocabSize, 1e-5);
      } finally {
        sampler.destroy();
        chunked.destroy();
        whole.destroy();
      }
    },
  },
  {
    name: 'tiny GPT: two accumulated microbatches (seq 40 < context) equal one batch of both',
    run: ({ device }) => gradientsMatch(device, 1, 40, 2),
  },
  {
    name: 'tiny GPT: one clipped AdamW step matches the reference update',
    run: async ({ device }) => {
      const config = gptConfig('tiny', VOCAB);
      const layout = paramLayout(config);
      const params = testParams(config, layout, 5);
      const hyper = { lr: 1e-2, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, maxGradNorm: 0.5 };
      const model = new GpuGpt(device, { config, batchSize: 2, seqLen: 32 });
      try {
        model.setParams(params);
        model.setBatch(0, randomBatch(2, 32, VOCAB, 7));
        // Gradients first, read back, so the reference applies AdamW to exactly the GPU's gradients.
        await model.computeGradients();
        const grads = await model.readGrads();
        const scale = clipScale(referenceGradNorm(grads), hyper.maxGradNorm);
        check(scale < 1, `test needs clipping to engage, scale ${scale}`);
        const want = params.slice();
        referenceAdamW(layout, want, grads, new Float32Array(want.length), new Float32Array(want.length), 1, hyper, scale);
        await withGpuErrors(device, () => model.trainStep(1, hyper));
        const got = await model.readParams();
        for (let i = 0; i < want.length; i++) {
          const err = Math.abs(got[i] - want[i]);
          check(err <= 1e-6 + 1e-5 * Math.abs(want[i]), `param ${i}: got ${got[i]}, want ${want[i]} (was ${params[i]}, grad ${grads[i]})`);
        }
      } finally {
        model.destroy();
      }
    },
  },
  {
    name: 'tiny GPT: after device loss, training resumes on a new device from exported state, bit for bit',
    run: async ({ open }) => {
      const config = gptConfig('tiny', VOCAB);
      const layout = paramLayout(config);
      const hyper = { lr: 3e-3, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, maxGradNorm: 1 };
      const batches = [1, 2, 3, 4].map((seed) => randomBatch(2, 16, VOCAB, seed));
      const first = await open();
      const a = new GpuGpt(first.device, { config, batchSize: 2, seqLen: 16 });
      a.setParams(testParams(config, layout, 9));
      for (let step = 1; step <= 3; step++) {
        a.setBatch(0, batches[step - 1]);
        a.trainStep(step, hyper);
      }
      const saved = await a.exportState();
      a.setBatch(0, batches[3]);
      a.trainStep(4, hyper);
      const continued = await a.readParams();
      const lost = new Promise<string>((resolve) => first.onLost((e) => resolve(e.reason)));
      first.destroy();
      check((await lost) === 'destroyed', 'the loss event fired');
      const second = await open();
      try {
        const b = new GpuGpt(second.device, { config, batchSize: 2, seqLen: 16 });
        b.importState(saved);
        b.setBatch(0, batches[3]);
        b.trainStep(4, hyper);
        const resumed = await b.readParams();
        const same = resumed.every((x, i) => Object.is(x, continued[i]));
        check(same, 'resumed parameters differ from the uninterrupted run');
      } finally {
        second.destroy();
      }
    },
  },
  {
    name: 'the memory estimate equals what the model allocates (tiny; and GPT-2 vocabulary in logits chunks)',
    run: async ({ device }) => {
      const shapes = [
        { config: gptConfig('tiny', VOCAB), shape: { batchSize: 2, seqLen: 48, microSteps: 3 } },
        {
          config: checkConfig({ vocabSize: 50_257, contextLength: 64, embedDim: 32, layers: 1, heads: 2 }),
          shape: { batchSize: 2, seqLen: 64, microSteps: 1, headRows: 64 },
        },
      ];
      for (const { config, shape } of shapes) {
        const model = new GpuGpt(device, { config, ...shape });
        try {
          const est = estimateMemory(config, shape);
          for (const key of ['parameters', 'optimizer', 'gradients', 'activations', 'scratch', 'total'] as const) {
            check(est[key] === model.memory[key], `vocab ${config.vocabSize} ${key}: estimated ${est[key]}, allocated ${model.memory[key]}`);
          }
        } finally {
          model.destroy();
        }
      }
    },
  },
  {
    name: 'a preset too large for the adapter is refused with the limit it exceeds and what fits',
    run: async ({ device }) => {
      const config = gptConfig('shakespeare', VOCAB);
      const big = Math.floor(device.limits.maxStorageBufferBindingSize / (4 * 4 * config.embedDim * config.contextLength)) + 1;
      let error: unknown;
      try {
        new GpuGpt(device, { config, batchSize: big, seqLen: config.contextLength }).destroy();
      } catch (err) {
        error = err;
      }
      check(error instanceof PresetTooLargeError, `expected PresetTooLargeError, got ${String(error)}`);
      const message = (error as Error).message;
      check(/maxStorageBufferBindingSize is [\d.]+ MiB on this GPU/.test(message), message);
      check(new RegExp(`batchSize ${big - 1} fits`).test(message), message);
    },
  },
  {
    name: 'sampler: next-token logits read the trained parameters in place and match the reference',
    run: async ({ device }) => {
      const config = gptConfig('tiny', VOCAB);
      const layout = paramLayout(config);
      const params = testParams(config, layout, 21);
      const model = new GpuGpt(device, { config, batchSize: 1, seqLen: 8 });
      const sampler = new GpuSampler(device, config, model.params);
      try {
        model.setParams(params);
        const context = randomBatch(1, 23, VOCAB, 4).tokens;
        const got = await sampler.nextLogits(context);
        const want = referenceForward(config, layout, params, { tokens: context, targets: context, batchSize: 1, seqLen: context.length }).logits.subarray(
          22 * VOCAB,
        );
        checkTensor('next-token logits', got, want, 0, VOCAB, 1e-5);
        const generated = await sampler.generate(context, 5, { temperature: 0.8, topK: 10 }, seededRandom(1));
        check(generated.length === 5 && generated.every((id) => id >= 0 && id < VOCAB), `generated ${generated}`);
        const again = await sampler.generate(context, 5, { temperature: 0.8, topK: 10 }, seededRandom(1));
        check(again.join() === generated.join(), 'generation is reproducible from a seed');
      } finally {
        sampler.destroy();
        model.destroy();
      }
    },
  },
  {
    name: 'forward-only evaluator: per-position losses equal the training model’s bit for bit (every layer reusing one activation set), with no gradients or moments',
    run: async ({ device }) => {
      const config = gptConfig('tiny', VOCAB);
      const layout = paramLayout(config);
      const params = testParams(config, layout, 5);
      const shape = { batchSize: 3, seqLen: 40 };
      const batch = randomBatch(shape.batchSize, shape.seqLen, VOCAB, 8);
      const model = new GpuGpt(device, { config, ...shape });
      const evaluator = new GpuEvaluator(device, { config, ...shape });
      try {
        model.setParams(params);
        model.setBatch(0, batch);
        evaluator.setParams(params);
        evaluator.setBatch(batch.tokens, batch.targets);
        const [want, got] = await withGpuErrors(device, async () => [await model.evaluatePositions(), await evaluator.positionLosses()]);
        const differ = got.findIndex((x, i) => !Object.is(x, want[i]));
        check(differ < 0, `position ${differ}: evaluator ${got[differ]}, training model ${want[differ]}`);
        const mean = got.reduce((a, b) => a + b, 0) / got.length;
        const ref = referenceForward(config, layout, params, { ...batch, ...shape }).loss;
        check(Math.abs(mean - ref) <= 1e-5 * ref, `mean loss ${mean} vs reference ${ref}`);
        const est = estimateEvaluationMemory(config, shape);
        for (const key of ['parameters', 'optimizer', 'gradients', 'activations', 'scratch', 'total'] as const)
          check(est[key] === evaluator.memory[key], `${key}: estimated ${est[key]}, allocated ${evaluator.memory[key]}`);
        check(evaluator.memory.gradients === 0 && evaluator.memory.optimizer === 0, 'the evaluator allocated gradients or moments');
        check(evaluator.memory.total < model.memory.total / 2, `evaluator ${evaluator.memory.total} B vs training model ${model.memory.total} B`);
      } finally {
        evaluator.destroy();
        model.destroy();
      }
    },
  },
  {
    name: 'tiny GPT: out-of-range token ids are refused before upload',
    run: async ({ device }) => {
      const config = gptConfig('tiny', VOCAB);
      const model = new GpuGpt(device, { config, batchSize: 1, seqLen: 8 });
      try {
        const batch = randomBatch(1, 8, VOCAB, 1);
        batch.tokens[3] = VOCAB;
        let message = '';
        try {
          model.setBatch(0, batch);
        } catch (err) {
          message = err instanceof RangeError ? err.message : `not a RangeError: ${String(err)}`;
        }
        check(/tokens\[3\] = 65 is not a token id/.test(message), `message: ${message}`);
      } finally {
        model.destroy();
      }
    },
  },
];
