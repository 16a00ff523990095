// `npm run bench:pow`: the validator's proof of work over a grid of device speeds and peer
// kinds, on the real trainer, codec, gauntlet and standings (unit mode, tiny, Dawn). Per kind
// and speed: the share of windows whose work was credited, and the share of the rewards.
// Flags: --units 1,4,16,128 (units per window) --unit-steps 2 --windows 8 --kinds all
//        --top-kinds all (kinds run at the largest speed: each of its peers trains all of it)
//        --batch 4 --chained (also print the chained mode's t against steps, one window).
import { chunkPlan } from '../src/compress/chunks';
import { decodeSparseLoCo, SparseLoCoEncoder } from '../src/compress/sparseloco';
import { decodeWorkPayload, packWorkPayload, workPayloadMain } from '../src/compress/workPayload';
import { DEFAULT_ADAMW } from '../src/model/optimizer';
import { requestGpuDevice } from '../src/gpu/device';
import { initParams } from '../src/model/init';
import { GpuGpt } from '../src/gpu/model';
import { nodeGpu } from '../src/gpu/nodeGpu';
import { signContribution } from '../src/protocol/contribution';
import { contentHash, modelHash } from '../src/protocol/hash';
import { ed25519Signer } from '../src/protocol/keys';
import { GpuWindowTrainer } from '../src/swarm/windowTrainer';
import { assignedPages, batchForStep, pagesTrained, randomPages } from '../src/train/dataPages';
import { runInnerLoop } from '../src/train/innerLoop';
import { CpuLossProbe } from '../src/validator/cpuLossProbe';
import { runGauntlet, type Arrival } from '../src/validator/gauntlet';
import { PROVEN_POW_EMA, rewardScore, type Standing } from '../src/validator/ratings';
import { POW_T_THRESHOLD, scoreUpdate } from '../src/validator/scoring';
import { standingsAfter } from '../src/validator/windowStandings';
import { sessionIdentity, type Identity } from '../src/wallet/authority';
import { tinyCorpus } from '../test/support/tinyCorpus';
import { flags } from './nodeDriver';

const f = flags();
const speeds = (f.get('units') ?? '1,4,16,128').split(',').map(Number);
const unitSteps = Number(f.get('unit-steps') ?? 2);
const windows = Number(f.get('windows') ?? 8);
const batchSize = Number(f.get('batch') ?? 4);
const seqLen = 32;
const KINDS = ['honest', 'other-pages', 'random-pages', 'quarter-work', 'perturbed-copy', 'scaled-x3'] as const;
type Kind = (typeof KINDS)[number];
const kinds = (f.get('kinds') ?? 'all') === 'all' ? KINDS : ((f.get('kinds') ?? '').split(',') as Kind[]);
const topKinds = (f.get('top-kinds') ?? 'all') === 'all' ? kinds : ((f.get('top-kinds') ?? '').split(',') as Kind[]);
const schedule = { maxLr: 3e-3, minLr: 3e-4, warmupSteps: 5, decaySteps: 3000 };
const RUN = 'bench-pow';
const START = Date.UTC(2026, 11, 2);
const WINDOW_MS = 60_000;

const { corpus, config } = tinyCorpus();
const ctx = await requestGpuDevice({ gpu: nodeGpu(), label: 'bench-pow' });
const model = new GpuGpt(ctx.device, { config, batchSize, seqLen });
const plan = chunkPlan(model.layout);
const probe = new CpuLossProbe(config, seqLen, corpus.train);
const validator = ed25519Signer(new Uint8Array(32).fill(200));
let theta = initParams(config, model.layout, 3);

interface Peer {
  kind: Kind;
  units: number;
  identity: Identity;
  trainer: GpuWindowTrainer;
  credited: number;
  judged: number;
  /** Sum of its reward score over the windows from 3 on (weights are set every window). */
  rewardSum: number;
}

let n = 1;
const peers: Peer[] = [];
for (const kind of kinds) {
  for (const units of speeds) {
    if (kind === 'quarter-work' && units < 4) continue; // a quarter of one unit is no unit
    if (units === Math.max(...speeds) && !topKinds.includes(kind)) continue;
    peers.push({
      kind,
      units,
      identity: sessionIdentity(ed25519Signer(new Uint8Array(32).fill(n++))),
      trainer: new GpuWindowTrainer(model, corpus.train),
      credited: 0,
      judged: 0,
      rewardSum: 0,
    });
  }
}
const stranger = sessionIdentity(ed25519Signer(new Uint8Array(32).fill(250))).address;
console.log(
  `[pow] unit mode, tiny, ${batchSize}×${seqLen} tokens per step, ${unitSteps}-step units (${pagesTrained(unitSteps, batchSize)} pages each), ${windows} windows; speeds ${speeds.map((u) => `${u * unitSteps} steps`).join(', ')}; kinds ${kinds.join(', ')}`,
);

async function trained(p: Peer, window: number, pagesOf: string, units: number): Promise<{ payload: Uint8Array; steps: number }> {
  const r = await p.trainer.trainWindow({
    runId: RUN,
    peerAddress: pagesOf,
    window,
    theta,
    deadline: Date.now() + 3_600_000,
    minSteps: unitSteps,
    maxSteps: units * unitSteps,
    unitSteps,
    schedule,
  });
  if (!r.payload) throw new Error(`${p.kind} trained no payload`);
  return { payload: r.payload, steps: r.steps };
}

/** A dense change re-encoded alone: how a cheater rewrites an update it has. */
async function reencode(main: Uint8Array, change: (v: Float32Array) => Float32Array): Promise<Uint8Array> {
  const u = decodeSparseLoCo(main, plan);
  const dense = new Float32Array(theta.length);
  u.indices.forEach((j, i) => (dense[j] = u.values[i]));
  const moved = change(dense);
  return (
    await new SparseLoCoEncoder(plan, theta.length).encode(
      theta,
      theta.map((t, i) => t - moved[i]),
    )
  ).bytes;
}

/** Each value changed by up to ±1 %: new bytes, the same direction. */
const jitter = (d: Float32Array): Float32Array => d.map((v) => v * (1 + 0.02 * (Math.random() - 0.5)));

/** What peer p sends in window w. */
async function contribution(p: Peer, w: number, honestFast: Uint8Array | undefined): Promise<{ payload: Uint8Array; steps: number } | undefined> {
  const me = p.identity.address;
  switch (p.kind) {
    case 'honest':
      return trained(p, w, me, p.units);
    case 'other-pages':
      return trained(p, w, stranger, p.units);
    case 'random-pages':
      return trained(p, w, `random-${w}-${Math.random()}`, p.units);
    case 'quarter-work': {
      const done = await trained(p, w, me, p.units / 4);
      const parts = decodeWorkPayload(done.payload, plan);
      // The untrained units carry its real receipts, each re-encoded a little changed (the
      // gauntlet refuses byte-identical receipts outright): only the trace test can catch them.
      const receipts = await Promise.all(
        Array.from({ length: p.units }, (_, u) =>
          u < parts.receipts.length ? parts.receipts[u] : reencode(parts.receipts[u % parts.receipts.length], jitter),
        ),
      );
      return { payload: packWorkPayload({ main: workPayloadMain(done.payload), receipts }), steps: p.units * unitSteps };
    }
    case 'perturbed-copy': {
      if (!honestFast) return undefined;
      const parts = decodeWorkPayload(honestFast, plan);
      const main = await reencode(workPayloadMain(honestFast), (d) => d.map((v) => v * (1 + 0.05 * (Math.random() - 0.5))));
      // The victim's receipts, as many as its claim needs (repeated when the victim did fewer).
      const receipts = await Promise.all(
        Array.from({ length: p.units }, (_, u) =>
          u < parts.receipts.length ? parts.receipts[u] : reencode(parts.receipts[u % parts.receipts.length], jitter),
        ),
      );
      return { payload: packWorkPayload({ main, receipts }), steps: p.units * unitSteps };
    }
    case 'scaled-x3': {
      const done = await trained(p, w, me, p.units);
      const main = await reencode(workPayloadMain(done.payload), (d) => d.map((v) => 3 * v));
      return { payload: packWorkPayload({ main, receipts: decodeWorkPayload(done.payload, plan).receipts }), steps: done.steps };
    }
  }
}

let standings = new Map<string, Standing>();
const earners = new Set(peers.map((p) => p.identity.address));
const started = performance.now();
for (let w = 0; w < windows; w++) {
  const arrivals: Arrival[] = [];
  let honestFast: Uint8Array | undefined;
  for (const p of peers) {
    const c = await contribution(p, w, honestFast);
    if (!c) continue;
    if (p.kind === 'honest' && (!honestFast || p.units >= 4)) honestFast = c.payload;
    const header = signContribution(
      {
        runId: RUN,
        window: w,
        baseHash: modelHash(theta),
        payloadHash: contentHash(c.payload),
        payloadBytes: c.payload.length,
        peerAddress: p.identity.address,
        steps: c.steps,
        tokens: c.steps * batchSize * seqLen,
        certificate: p.identity.certificate,
      },
      p.identity.signer,
    );
    arrivals.push({ header, payload: c.payload, arrivedAt: START + w * WINDOW_MS + arrivals.length });
  }
  const result = await runGauntlet({
    runId: RUN,
    window: w,
    windowStartMs: START + w * WINDOW_MS,
    closeAt: START + (w + 1) * WINDOW_MS,
    minSteps: unitSteps,
    unitSteps,
    outerLr: 1,
    sequencesPerStep: batchSize,
    seqLen,
    corpusLength: corpus.train.length,
    theta,
    plan,
    arrivals,
    signer: validator,
    probe,
    limits: { randomSequences: 64, maxScored: 64 },
    proven: (a) => (standings.get(a)?.powEma ?? 0) >= PROVEN_POW_EMA,
  });
  const before = standings;
  standings = standingsAfter(before, w, result.verdicts, earners).standings;
  for (const p of peers) {
    const prev = before.get(p.identity.address);
    const now = standings.get(p.identity.address);
    if (w >= 3 && now) p.rewardSum += rewardScore(now);
    if (!now || now.pending) continue; // nothing judged yet: its block is still gathering pages
    const block = (prev?.pending?.windows ?? 0) + 1;
    const proved = now.workEma > (prev?.workEma ?? 0) * 0.8 + 1e-12;
    if (w >= 3) {
      p.judged += block;
      if (proved) p.credited += block;
    }
  }
  theta = result.next;
  const codes = result.verdicts.map((v) => v.code).reduce((m, c) => m.set(c, (m.get(c) ?? 0) + 1), new Map<string, number>());
  console.log(`[pow] window ${w}: ${[...codes].map(([c, k]) => `${k} ${c}`).join(', ')} (${((performance.now() - started) / 1000).toFixed(0)} s)`);
}

// Rewards averaged over the windows from 3 on: a slow device is credited a block at a time,
// so its reward at any one window is a sawtooth around what it earns on average.
const total = peers.reduce((s, p) => s + p.rewardSum, 0) || 1;
const rewardOf = (p: Peer): number => p.rewardSum / Math.max(1, windows - 3);
const share = (p: Peer): number => (p.judged ? p.credited / p.judged : 0);
console.log('| kind | steps per window | windows credited (from window 3) | share of rewards | reward per step |');
console.log('| --- | --- | --- | --- | --- |');
for (const p of peers)
  console.log(
    `| ${p.kind} | ${p.units * unitSteps} | ${(share(p) * 100).toFixed(0)}% (${p.credited}/${p.judged}) | ${((rewardOf(p) / total) * 100).toFixed(1)}% | ${(rewardOf(p) / (p.units * unitSteps)).toFixed(3)} |`,
  );
const honest = peers.filter((p) => p.kind === 'honest');
// Scaling one's own update is real work: it must earn what honest work earns, no more.
const cheaters = peers.filter((p) => p.kind !== 'honest' && p.kind !== 'scaled-x3');
const perStep = (p: Peer): number => rewardOf(p) / (p.units * unitSteps);
const fastest = honest.reduce((a, b) => (b.units > a.units ? b : a), honest[0]);
const slowest = honest.reduce((a, b) => (b.units < a.units ? b : a), honest[0]);
for (const p of peers.filter((q) => q.kind === 'scaled-x3')) {
  const same = honest.find((h) => h.units === p.units);
  if (same)
    console.log(`[pow] scaled ×3 at ${p.units * unitSteps} steps earns ${(rewardOf(p) / (rewardOf(same) || 1)).toFixed(2)}× the honest peer of its speed`);
}
if (f.has('chained')) await chainedTable();
ctx.destroy();
console.log(`honest credited (worst speed): ${honest.length ? (Math.min(...honest.map(share)) * 100).toFixed(0) : '-'}%`);
console.log(`cheater credited (worst kind): ${cheaters.length ? (Math.max(...cheaters.map(share)) * 100).toFixed(0) : '-'}%`);
console.log(`reward per unit of work, fastest/slowest honest: ${honest.length ? (perStep(fastest) / (perStep(slowest) || Number.NaN)).toFixed(2) : '-'}`);

/** Chained mode, one window from θ_0: Welch's t of the update itself against inner steps. */
async function chainedTable(): Promise<void> {
  const theta0 = initParams(config, model.layout, 3);
  const random = await randomPages('bench-pow/random', { count: 64, seqLen, corpusLength: corpus.train.length });
  const randomBefore = await probe.perSequence(theta0, random);
  for (const steps of [12, 24, 48, 110]) {
    const pages = await assignedPages({
      runSeed: RUN,
      peerAddress: 'peer-0',
      window: 0,
      count: pagesTrained(steps, batchSize),
      seqLen,
      corpusLength: corpus.train.length,
    });
    const zeros = (): Float32Array => new Float32Array(model.layout.totalFloats);
    model.importState({ params: theta0, m: zeros(), v: zeros() });
    await runInnerLoop({
      model,
      train: corpus.train,
      startStep: 0,
      steps,
      schedule,
      hyper: DEFAULT_ADAMW,
      offsetsForStep: (s) => pages.subarray(batchForStep(s) * batchSize, (batchForStep(s) + 1) * batchSize),
      lossEvery: steps,
    });
    const { bytes } = await new SparseLoCoEncoder(plan, model.layout.totalFloats).encode(theta0, (await model.exportState()).params);
    const own = pages.subarray(0, Math.min(64, pages.length));
    const s = await scoreUpdate(probe, {
      theta: theta0,
      update: decodeSparseLoCo(bytes, plan),
      clipNorm: Infinity,
      outerLr: 1,
      ownPages: own,
      randomPages: random,
      randomBefore,
    });
    console.log(
      `[pow] chained ${String(steps).padStart(3)} steps: own pages ${(s.own * 100).toFixed(2)}%, random ${(s.random * 100).toFixed(2)}%, t = ${s.powT.toFixed(2)} (${s.powT >= POW_T_THRESHOLD ? 'proven' : 'not proven'})`,
    );
  }
}
