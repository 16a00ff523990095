// `npm run bench:pow`: how the validator's proof-of-work statistic (own-page against
// random-page improvement, Welch's t) depends on how many inner steps a peer takes in a window.
// Flags: --steps 12,24,48,110 (comma list) --peers N (2) --own N (64) --random N (64).
import { chunkPlan } from '../src/compress/chunks';
import { decodeSparseLoCo, SparseLoCoEncoder } from '../src/compress/sparseloco';
import { DEFAULT_ADAMW } from '../src/gpu/adamw';
import { requestGpuDevice } from '../src/gpu/device';
import { initParams } from '../src/gpu/init';
import { GpuGpt } from '../src/gpu/model';
import { nodeGpu } from '../src/gpu/nodeGpu';
import { assignedPages, batchForStep, pagesTrained, randomPages } from '../src/train/dataPages';
import { runInnerLoop } from '../src/train/innerLoop';
import { CpuLossProbe } from '../src/validator/cpuLossProbe';
import { POW_T_THRESHOLD, scoreUpdate } from '../src/validator/scoring';
import { tinyCorpus } from '../test/support/tinyCorpus';
import { flags } from './nodeDriver';

const f = flags();
const stepCounts = (f.get('steps') ?? '12,24,48,110').split(',').map(Number);
const peers = Number(f.get('peers') ?? 2);
const ownCount = Number(f.get('own') ?? 64);
const randomCount = Number(f.get('random') ?? 64);
// The shape of the e2e and screenshot swarms (tiny, 2 × 32 tokens per step).
const [batchSize, seqLen] = [2, 32];
const schedule = { maxLr: 3e-3, minLr: 3e-4, warmupSteps: 5, decaySteps: 300 };

const { corpus, config } = tinyCorpus();
const ctx = await requestGpuDevice({ gpu: nodeGpu(), label: 'bench-pow' });
const model = new GpuGpt(ctx.device, { config, batchSize, seqLen });
const plan = chunkPlan(model.layout);
const theta = initParams(config, model.layout, 3);
const probe = new CpuLossProbe(config, seqLen, corpus.train);
const random = await randomPages('bench-pow/random', { count: randomCount, seqLen, corpusLength: corpus.train.length });
const randomBefore = await probe.perSequence(theta, random);
console.log(`[pow] tiny from θ_0, ${batchSize}×${seqLen} tokens per step, each batch twice; ≤ ${ownCount} own and ${randomCount} random pages; t ≥ ${POW_T_THRESHOLD} proves work`);

/** One peer's window of `steps` inner steps from θ_0, encoded and decoded as the validator sees it. */
async function windowUpdate(address: string, steps: number) {
  const pages = await assignedPages({ runSeed: 'bench-pow', peerAddress: address, window: 0, count: pagesTrained(steps, batchSize), seqLen, corpusLength: corpus.train.length });
  const zeros = (): Float32Array => new Float32Array(model.layout.totalFloats);
  model.importState({ params: theta, m: zeros(), v: zeros() });
  const per = batchSize;
  await runInnerLoop({ model, train: corpus.train, startStep: 0, steps, schedule, hyper: DEFAULT_ADAMW, offsetsForStep: (s) => pages.subarray(batchForStep(s) * per, (batchForStep(s) + 1) * per), lossEvery: steps });
  const { bytes } = await new SparseLoCoEncoder(plan, model.layout.totalFloats).encode(theta, (await model.exportState()).params);
  return { pages, update: decodeSparseLoCo(bytes, plan) };
}

for (const steps of stepCounts) {
  for (let p = 0; p < peers; p++) {
    const { pages, update } = await windowUpdate(`peer-${p}`, steps);
    // The validator's choice: the first pages the peer trained (gauntlet.ts), up to its limit.
    const own = pages.subarray(0, Math.min(ownCount, pages.length));
    const s = await scoreUpdate(probe, { theta, update, clipNorm: Infinity, outerLr: 1, ownPages: own, randomPages: random, randomBefore });
    console.log(`[pow] ${String(steps).padStart(3)} steps, peer-${p}: own pages ${(s.own * 100).toFixed(2)}%, random ${(s.random * 100).toFixed(2)}%, t = ${s.powT.toFixed(2)} (${s.powT >= POW_T_THRESHOLD ? 'proven' : 'not proven'}, ${own.length} own pages)`);
  }
}
ctx.destroy();
