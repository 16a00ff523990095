// `npm run bench:swarm-sim`: N simulated peers on one GPU device, three arms at equal tokens —
// centralized AdamW, dense DiLoCo (Nesterov outer step), SparseLoCo (compressed, error feedback).
// Flags: --preset --peers --inner --rounds --batch --seq --lr --outer-lr --diloco-lr --diloco-momentum --eval-batches
// --arms (comma list, default all three) --out.
// Prints final validation loss per arm, bytes per peer per round, the loss ratios, compression
// vs fp32 and the codec's share of inner-loop time; writes the curves as CSV and SVG.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_ADAMW } from '../src/model/optimizer';
import { gptConfig, PRESETS, type PresetName } from '../src/model/config';
import { requestGpuDevice } from '../src/gpu/device';
import { initParams } from '../src/model/init';
import { GpuGpt } from '../src/gpu/model';
import { nodeGpu } from '../src/gpu/nodeGpu';
import { createGpuTopK } from '../src/gpu/topk';
import { chunkPlan, DEFAULT_SPARSELOCO } from '../src/compress/chunks';
import { applySparseOuterStep, DILOCO_OUTER, NesterovOuterStep } from '../src/compress/outerStep';
import { decodeSparseLoCo, SparseLoCoEncoder } from '../src/compress/sparseloco';
import { lossPlotSvg } from '../src/node/lossPlot';
import { assignedPages, randomPages } from '../src/train/dataPages';
import { runInnerLoop, validationLoss } from '../src/train/innerLoop';
import type { CosineSchedule } from '../src/model/schedule';
import { charCorpus } from '../src/train/tokenizer';
import { flags } from './nodeDriver';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const f = flags();
const num = (name: string, fallback: number): number => {
  const v = Number(f.get(name) ?? fallback);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number`);
  return v;
};
const preset = (f.get('preset') ?? 'tiny') as PresetName;
if (!(preset in PRESETS)) throw new Error(`--preset must be one of ${Object.keys(PRESETS).join(', ')}`);
const peers = num('peers', 4);
const inner = num('inner', 15);
const rounds = num('rounds', 8);
const batch = num('batch', 4);
const seq = num('seq', Math.min(64, PRESETS[preset].contextLength));
const sparseLr = num('outer-lr', 1);
const dilocoOuter = { lr: num('diloco-lr', DILOCO_OUTER.lr), momentum: Number(f.get('diloco-momentum') ?? DILOCO_OUTER.momentum) };
if (!(dilocoOuter.momentum >= 0 && dilocoOuter.momentum < 1)) throw new Error('--diloco-momentum must be in [0, 1)');
const innerLr = num('lr', 2e-3);
const evalBatches = num('eval-batches', 4);
const arms = new Set((f.get('arms') ?? 'centralized,diloco,sparseloco').split(','));
for (const a of arms) if (!['centralized', 'diloco', 'sparseloco'].includes(a)) throw new Error(`--arms takes centralized, diloco, sparseloco; got ${a}`);
const out = f.get('out') ?? join(ROOT, 'runs', `swarm-sim-${preset}-${new Date().toISOString().replace(/[:.]/g, '-')}`);

function sparseLocoDescription(): string {
  const p = DEFAULT_SPARSELOCO;
  return `β ${p.beta}, ${p.blockSide}×${p.blockSide} blocks / ${p.vectorChunk}-element chunks, top-${p.topK} per ${p.vectorChunk}, ${p.valueBits}-bit values, ${p.indexCoding} indices`;
}

const text = readFileSync(join(ROOT, 'public', 'data', 'tinyshakespeare.txt'), 'utf8');
const corpus = charCorpus(text);
const config = gptConfig(preset, corpus.tokenizer.vocabSize);
const ctx = await requestGpuDevice({ gpu: nodeGpu(), label: 'swarm-sim' });
const schedule: CosineSchedule = { maxLr: innerLr, minLr: innerLr / 10, warmupSteps: Math.min(20, inner), decaySteps: inner * rounds };
const hyper = DEFAULT_ADAMW;
const peerModel = new GpuGpt(ctx.device, { config, batchSize: batch, seqLen: seq });
const layout = peerModel.layout;
const theta0 = initParams(config, layout, 1337);
const valOffsets = await randomPages('swarm-sim/validation', { count: evalBatches * batch, seqLen: seq, corpusLength: corpus.val.length });
const val = { ids: corpus.val, offsets: valOffsets };
const fp32Bytes = layout.parameterCount * 4;
const tokensPerRound = peers * inner * batch * seq;

console.log(
  `[swarm-sim] ${preset}: ${layout.parameterCount.toLocaleString('en-US')} params, ${peers} peers × ${inner} inner steps × ${rounds} rounds, batch ${batch}×${seq}; ${(tokensPerRound * rounds).toLocaleString('en-US')} tokens per arm; adapter ${ctx.report.adapter.vendor} ${ctx.report.adapter.architecture}`,
);
console.log(
  `[swarm-sim] inner AdamW lr ${innerLr} (warmup + cosine); DiLoCo outer Nesterov lr ${dilocoOuter.lr} momentum ${dilocoOuter.momentum}; SparseLoCo outer lr ${sparseLr}, ${sparseLocoDescription()}`,
);

interface Curve {
  label: string;
  points: { step: number; loss: number }[];
}

/** Offsets for peer p's global step s in round r: its assigned pages for window r, H steps of them. */
async function peerPages(p: number, r: number): Promise<Uint32Array> {
  return assignedPages({ runSeed: 'swarm-sim', peerAddress: `peer-${p}`, window: r, count: inner * batch, seqLen: seq, corpusLength: corpus.train.length });
}

async function centralized(): Promise<Curve> {
  // Same tokens per step as the whole swarm: each peer's batch becomes one microbatch.
  const model = new GpuGpt(ctx.device, { config, batchSize: batch, seqLen: seq, microSteps: peers });
  model.setParams(theta0);
  const curve: Curve = { label: 'centralized AdamW', points: [{ step: 0, loss: await validationLoss(model, val.ids, val.offsets) }] };
  for (let r = 0; r < rounds; r++) {
    const pages = await Promise.all(Array.from({ length: peers }, (_, p) => peerPages(p, r)));
    const res = await runInnerLoop({
      model,
      train: corpus.train,
      startStep: r * inner,
      steps: inner,
      schedule,
      hyper,
      offsetsForStep: (s) => pages.flatMap((pg) => Array.from(pg.subarray((s - r * inner) * batch, (s - r * inner + 1) * batch))),
      val,
    });
    curve.points.push({ step: (r + 1) * inner, loss: res.valLosses[res.valLosses.length - 1].loss });
    console.log(`[swarm-sim] centralized round ${r + 1}/${rounds}: val ${curve.points[r + 1].loss.toFixed(4)}`);
  }
  model.destroy();
  return curve;
}

interface PeerState {
  m: Float32Array;
  v: Float32Array;
}

/** One round of every peer's inner loop from θ; returns each peer's θ' and the time spent. */
async function innerRound(theta: Float32Array, states: PeerState[], r: number): Promise<{ after: Float32Array[]; ms: number }> {
  const after: Float32Array[] = [];
  let ms = 0;
  for (let p = 0; p < peers; p++) {
    const pages = await peerPages(p, r);
    peerModel.importState({ params: theta, m: states[p].m, v: states[p].v });
    const res = await runInnerLoop({
      model: peerModel,
      train: corpus.train,
      startStep: r * inner,
      steps: inner,
      schedule,
      hyper,
      offsetsForStep: (s) => pages.subarray((s - r * inner) * batch, (s - r * inner + 1) * batch),
    });
    ms += res.milliseconds;
    const state = await peerModel.exportState();
    states[p] = { m: state.m, v: state.v };
    after.push(state.params);
  }
  return { after, ms };
}

async function evaluate(theta: Float32Array): Promise<number> {
  peerModel.setParams(theta);
  return validationLoss(peerModel, val.ids, val.offsets);
}

const freshStates = (): PeerState[] =>
  Array.from({ length: peers }, () => ({ m: new Float32Array(layout.totalFloats), v: new Float32Array(layout.totalFloats) }));

async function diloco(): Promise<Curve> {
  const theta = theta0.slice();
  const states = freshStates();
  const outer = new NesterovOuterStep(theta.length, dilocoOuter);
  const curve: Curve = { label: 'dense DiLoCo', points: [{ step: 0, loss: await evaluate(theta) }] };
  for (let r = 0; r < rounds; r++) {
    const { after } = await innerRound(theta, states, r);
    outer.apply(
      theta,
      after.map((a) => theta.map((t, i) => t - a[i])),
    );
    curve.points.push({ step: (r + 1) * inner, loss: await evaluate(theta) });
    console.log(`[swarm-sim] diloco round ${r + 1}/${rounds}: val ${curve.points[r + 1].loss.toFixed(4)}`);
  }
  return curve;
}

async function sparseloco(): Promise<Curve & { bytes: number; codecMs: number; innerMs: number }> {
  const theta = theta0.slice();
  const states = freshStates();
  const plan = chunkPlan(layout);
  const topk = createGpuTopK(ctx.device, plan.chunks, layout.totalFloats);
  const encoders = Array.from({ length: peers }, () => new SparseLoCoEncoder(plan, layout.totalFloats, (v) => topk.run(v)));
  const curve = { label: 'SparseLoCo', points: [{ step: 0, loss: await evaluate(theta) }], bytes: 0, codecMs: 0, innerMs: 0 };
  for (let r = 0; r < rounds; r++) {
    const { after, ms } = await innerRound(theta, states, r);
    curve.innerMs += ms;
    const payloads: Uint8Array[] = [];
    const t0 = performance.now();
    for (let p = 0; p < peers; p++) payloads.push((await encoders[p].encode(theta, after[p])).bytes);
    const t1 = performance.now();
    const updates = payloads.map((b) => decodeSparseLoCo(b, plan));
    // Per peer and round: its own encode, plus decoding every payload (its own included).
    curve.codecMs += (t1 - t0) / peers + (performance.now() - t1);
    curve.bytes = payloads[0].length;
    const report = applySparseOuterStep(theta, updates, sparseLr);
    curve.points.push({ step: (r + 1) * inner, loss: await evaluate(theta) });
    console.log(
      `[swarm-sim] sparseloco round ${r + 1}/${rounds}: val ${curve.points[r + 1].loss.toFixed(4)}, ${payloads[0].length} B/peer, median norm ${report.median.toExponential(2)}, ${report.touched} coords moved`,
    );
  }
  topk.destroy();
  return curve;
}

const started = performance.now();
const skipped = (label: string): Curve & { bytes: number; codecMs: number; innerMs: number } => ({
  label,
  points: Array.from({ length: rounds + 1 }, (_, r) => ({ step: r * inner, loss: NaN })),
  bytes: NaN,
  codecMs: NaN,
  innerMs: NaN,
});
const central = arms.has('centralized') ? await centralized() : skipped('centralized AdamW');
const dense = arms.has('diloco') ? await diloco() : skipped('dense DiLoCo');
const sparse = arms.has('sparseloco') ? await sparseloco() : skipped('SparseLoCo');
const last = (c: Curve): number => c.points[c.points.length - 1].loss;

mkdirSync(out, { recursive: true });
const csv = [
  'step,tokens,centralized,diloco,sparseloco',
  ...central.points.map((p, i) => `${p.step},${(p.step / inner) * tokensPerRound},${p.loss},${dense.points[i].loss},${sparse.points[i].loss}`),
];
writeFileSync(join(out, 'loss.csv'), `${csv.join('\n')}\n`);
writeFileSync(
  join(out, 'loss.svg'),
  lossPlotSvg(`${preset}: ${peers} peers, H=${inner}, validation loss per round`, [
    { label: 'centralized AdamW', color: '#111827', points: central.points },
    { label: 'dense DiLoCo', color: '#2563eb', points: dense.points },
    { label: 'SparseLoCo', color: '#dc2626', points: sparse.points },
  ]),
);

const innerPerPeer = sparse.innerMs / (rounds * peers);
console.log(
  `[swarm-sim] final validation loss: centralized ${last(central).toFixed(4)}, diloco ${last(dense).toFixed(4)}, sparseloco ${last(sparse).toFixed(4)}`,
);
console.log(
  `[swarm-sim] bytes per peer per round: centralized (data-parallel fp32 all-reduce every step) ${(fp32Bytes * inner).toLocaleString('en-US')}, diloco ${fp32Bytes.toLocaleString('en-US')}, sparseloco ${sparse.bytes.toLocaleString('en-US')}`,
);
const codecPerPeer = sparse.codecMs / rounds;
console.log(
  `[swarm-sim] codec per peer per round: encode 1 + decode ${peers} payloads ${codecPerPeer.toFixed(1)} ms = ${((codecPerPeer / innerPerPeer) * 100).toFixed(2)}% of its inner loop (${innerPerPeer.toFixed(0)} ms)`,
);
console.log(`sparseloco/diloco loss ratio: ${(last(sparse) / last(dense)).toFixed(3)}`);
console.log(`sparseloco/centralized loss ratio: ${(last(sparse) / last(central)).toFixed(3)}`);
console.log(`compression vs fp32: ${(fp32Bytes / sparse.bytes).toFixed(1)}×`);
console.log(`[swarm-sim] wrote ${join(out, 'loss.csv')} and loss.svg in ${((performance.now() - started) / 1000).toFixed(0)} s`);
peerModel.destroy();
ctx.destroy();
process.exit(0);
