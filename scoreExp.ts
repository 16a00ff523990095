import { readFileSync } from 'node:fs';
import { chunkPlan } from './src/compress/chunks';
import { applySparseOuterStep } from './src/compress/outerStep';
import { decodeSparseLoCo, SparseLoCoEncoder } from './src/compress/sparseloco';
import { DEFAULT_ADAMW } from './src/gpu/adamw';
import { gptConfig } from './src/gpu/config';
import { requestGpuDevice } from './src/gpu/device';
import { initParams } from './src/gpu/init';
import { GpuGpt } from './src/gpu/model';
import { nodeGpu } from './src/gpu/nodeGpu';
import { assignedPages, randomPages } from './src/train/dataPages';
import { runInnerLoop, validationLoss } from './src/train/innerLoop';
import { CharTokenizer, splitCorpus } from './src/train/tokenizer';

const text = readFileSync('public/data/tinyshakespeare.txt', 'utf8');
const corpus = splitCorpus(CharTokenizer.fromText(text), text);
const config = gptConfig('tiny', corpus.tokenizer.vocabSize);
const ctx = await requestGpuDevice({ gpu: nodeGpu(), label: 'exp' });
const B = 4, T = 64, U = Number(process.argv[3] ?? 16), STEPS = Number(process.argv[2] ?? 20);
const model = new GpuGpt(ctx.device, { config, batchSize: B, seqLen: T });
const evalModel = new GpuGpt(ctx.device, { config, batchSize: 1, seqLen: T });
const plan = chunkPlan(model.layout);
let theta = initParams(config, model.layout, 1);
const sched = { maxLr: 3e-3, minLr: 3e-4, warmupSteps: 5, decaySteps: 300 };
async function train(theta: Float32Array, addr: string, w: number) {
  const pages = await assignedPages({ runSeed: 'r', peerAddress: addr, window: w, count: STEPS * B, seqLen: T, corpusLength: corpus.train.length });
  const z = () => new Float32Array(model.layout.totalFloats);
  model.importState({ params: theta, m: z(), v: z() });
  await runInnerLoop({ model, train: corpus.train, startStep: 0, steps: STEPS, schedule: sched, hyper: DEFAULT_ADAMW, offsetsForStep: (s) => pages.subarray((s % U) * B, ((s % U) + 1) * B), lossEvery: 0 });
  const st = await model.exportState();
  const { bytes } = await new SparseLoCoEncoder(plan, model.layout.totalFloats).encode(theta, st.params);
  return decodeSparseLoCo(bytes, plan);
}
const loss = async (p: Float32Array, pages: Uint32Array) => { evalModel.setParams(p); return validationLoss(evalModel, corpus.train, pages); };
const per = async (p: Float32Array, pages: Uint32Array) => { evalModel.setParams(p); const out: number[] = []; for (let i = 0; i < pages.length; i++) out.push(await validationLoss(evalModel, corpus.train, pages.subarray(i, i + 1))); return out; };
function tstat(ob: number[], oa: number[], rb: number[], ra: number[]) {
  const d = ob.map((b, i) => (b - oa[i]) / b), e = rb.map((b, i) => (b - ra[i]) / b);
  const m = (x: number[]) => x.reduce((s, v) => s + v, 0) / x.length;
  const v = (x: number[]) => { const mu = m(x); return x.reduce((s, y) => s + (y - mu) ** 2, 0) / (x.length - 1); };
  return (m(d) - m(e)) / Math.sqrt(v(d) / d.length + v(e) / e.length);
}
for (let w = 0; w < 3; w++) {
  const rnd = await randomPages(`val-${w}`, { count: 32, seqLen: T, corpusLength: corpus.train.length });
  const updates = [];
  for (const addr of ['a', 'b', 'c']) updates.push({ addr, u: await train(theta, addr, w) });
  const free = await train(theta, 'zzz', w); // trained on zzz's pages, claims 'd'
  const lb = await loss(theta, rnd);
  for (const { addr, u } of [...updates, { addr: 'd(free)', u: free }]) {
    const own = await assignedPages({ runSeed: 'r', peerAddress: addr === 'd(free)' ? 'd' : addr, window: w, count: Math.min(U, STEPS) * B, seqLen: T, corpusLength: corpus.train.length });
    const after = theta.slice(); applySparseOuterStep(after, [u], 1);
    const ob = await loss(theta, own), oa = await loss(after, own), ra = await loss(after, rnd);
    const t = tstat(await per(theta, own), await per(after, own), await per(theta, rnd), await per(after, rnd));
    console.log(`t=${t.toFixed(2)}`,`w${w} ${addr}: rand ${(lb - ra) / lb * 100 | 0}% (${((lb-ra)/lb).toFixed(4)}) own ${((ob - oa) / ob).toFixed(4)} pow ${(((ob-oa)/ob) - (lb-ra)/lb).toFixed(4)}`);
  }
  const next = theta.slice(); applySparseOuterStep(next, updates.map((x) => x.u), 1); theta = next;
}
ctx.destroy();
