// `npm run bench:scale`: full middle and gpt2-small training steps at GPT-2's vocabulary on this
// machine's WebGPU (Dawn), then SparseLoCo at 124M parameters against the inner loop it rides on.
// Flags: --presets middle,gpt2-small --batch 1 --seq 64 --steps 2 --inner-steps 30.
import { readFileSync } from 'node:fs';
import { chunkPlan } from '../src/compress/chunks';
import { decodeSparseLoCo, SparseLoCoEncoder } from '../src/compress/sparseloco';
import { estimateMemory, mib } from '../src/gpu/memoryPlan';
import { GpuGpt } from '../src/gpu/model';
import { createGpuTopK } from '../src/gpu/topk';
import { gptConfig, PRESETS, type PresetName } from '../src/model/config';
import { initParams } from '../src/model/init';
import { DEFAULT_ADAMW } from '../src/model/optimizer';
import { seededRandom } from '../src/model/random';
import { batchAt } from '../src/train/innerLoop';
import { encodeCorpus } from '../src/train/tokenizer';
import { adapterName, flags, nodeDevice } from './nodeDriver';

const params = flags();
const presets = (params.get('presets') ?? 'middle,gpt2-small').split(',') as PresetName[];
for (const p of presets) if (!Object.hasOwn(PRESETS, p)) throw new Error(`unknown preset ${p}; use ${Object.keys(PRESETS).join(', ')}`);
const batch = Number(params.get('batch') ?? 1);
const seq = Number(params.get('seq') ?? 64);
const steps = Number(params.get('steps') ?? 2);
const innerSteps = Number(params.get('inner-steps') ?? 30);

const corpus = await encodeCorpus('gpt2', readFileSync('public/data/tinyshakespeare.txt', 'utf8'));
const ctx = await nodeDevice();
console.log(
  `[scale] adapter: ${adapterName(ctx)}; GPT-2 tokenizer (vocab ${corpus.tokenizer.vocabSize}); batch ${batch} × ${seq}, ${steps} timed step(s) after one warm-up`,
);
const summary: string[] = [];
const stepMs = new Map<PresetName, number>();
let last: { model: GpuGpt; theta: Float32Array } | undefined;

for (const preset of presets) {
  const config = gptConfig(preset, corpus.tokenizer.vocabSize);
  const model = new GpuGpt(ctx.device, { config, batchSize: batch, seqLen: seq });
  const theta = initParams(config, model.layout, 1);
  model.setParams(theta);
  const rand = seededRandom(7);
  const next = (): void =>
    model.setBatch(
      0,
      batchAt(
        corpus.train,
        Array.from({ length: batch }, () => Math.floor(rand() * (corpus.train.length - seq - 1))),
        seq,
      ),
    );
  next();
  await model.trainStep(1, DEFAULT_ADAMW, { readLoss: true });
  const t0 = performance.now();
  let loss = 0;
  for (let s = 0; s < steps; s++) {
    next();
    const read = model.trainStep(s + 2, DEFAULT_ADAMW, { readLoss: s === steps - 1 });
    if (read) loss = await read;
    else await model.throttle(1);
  }
  const ms = (performance.now() - t0) / steps;
  stepMs.set(preset, ms);
  const minimum = estimateMemory(config, { batchSize: batch, seqLen: seq, microSteps: 1 }).minimum;
  console.log(`[scale] ${preset}: ${(model.layout.parameterCount / 1e6).toFixed(2)}M parameters, loss ${loss.toFixed(3)} after ${steps + 1} steps`);
  summary.push(
    `[scale] ${preset}: ${ms.toFixed(0)} ms/step, ${((batch * seq * 1000) / ms).toFixed(1)} tok/s, GPU ${mib(model.memory.total)} (minimum ${mib(minimum)})`,
  );
  if (last) last.model.destroy();
  last = { model, theta };
}

// The codec on the last preset's model: Δ from θ_0 to after its timed steps, encoded (GPU top-k) and decoded.
if (last) {
  const { model, theta } = last;
  const after = await model.readParams();
  const plan = chunkPlan(model.layout);
  const topk = createGpuTopK(ctx.device, plan.chunks, model.layout.totalFloats);
  const encoder = new SparseLoCoEncoder(plan, model.layout.totalFloats, (v) => topk.run(v));
  const t0 = performance.now();
  const encoded = await encoder.encode(theta, after);
  const t1 = performance.now();
  decodeSparseLoCo(encoded.bytes, plan);
  const t2 = performance.now();
  const preset = presets[presets.length - 1];
  const inner = innerSteps * (stepMs.get(preset) ?? 0);
  console.log(
    `[scale] ${preset} codec: encode ${(t1 - t0).toFixed(0)} ms, decode ${(t2 - t1).toFixed(0)} ms, payload ${encoded.bytes.length} B against ${model.layout.totalFloats * 4} B of fp32; inner loop of ${innerSteps} steps ${(inner / 1000).toFixed(1)} s`,
  );
  summary.push(
    `[scale] ${preset} codec: ${((100 * (t2 - t0)) / inner).toFixed(2)}% of the inner loop, compression vs fp32: ${((model.layout.totalFloats * 4) / encoded.bytes.length).toFixed(0)}×`,
  );
  topk.destroy();
  model.destroy();
}
ctx.destroy();
for (const line of summary) console.log(line);
