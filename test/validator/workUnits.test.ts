// Unit mode on the real engine (Dawn) and codec: peers train whole units from θ_w, each with a
// receipt; proof of work tests receipts of units the validator draws, so a slow and a fast
// honest peer both prove their work, while work on the wrong pages or a padded claim does not,
// an update that is not its receipts' mean is refused, and a long record opens no hole.
// Ed25519 keys sign deterministically, so the units the validator draws are the same every run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chunkPlan, type ChunkPlan } from '../../src/compress/chunks';
import { decodeSparseLoCo, SparseLoCoEncoder, type SparseUpdate } from '../../src/compress/sparseloco';
import { decodeWorkPayload, packWorkPayload, receiptPlan, workPayloadMain } from '../../src/compress/workPayload';
import { requestGpuDevice, type GpuContext } from '../../src/gpu/device';
import { initParams } from '../../src/model/init';
import { GpuGpt } from '../../src/gpu/model';
import { nodeGpu } from '../../src/gpu/nodeGpu';
import { signContribution } from '../../src/protocol/contribution';
import { contentHash, modelHash } from '../../src/protocol/hash';
import { ed25519Signer } from '../../src/protocol/keys';
import { GpuWindowTrainer } from '../../src/swarm/windowTrainer';
import { CpuLossProbe } from '../../src/validator/cpuLossProbe';
import { updateStandings } from '../../src/validator/ratings';
import { outcomeOf } from '../../src/validator/windowStandings';
import { MIN_RECEIPT_AGREEMENT, runGauntlet, type Arrival, type Verdict } from '../../src/validator/gauntlet';
import { allowedUntraced, POW_T_THRESHOLD } from '../../src/validator/scoring';
import { sessionIdentity, type Identity } from '../../src/wallet/authority';
import { tinyCorpus } from '../support/tinyCorpus';

const RUN = 'units-run';
const START = Date.UTC(2026, 11, 2);
const [BATCH, SEQ, UNIT] = [2, 32, 4];
const schedule = { maxLr: 3e-3, minLr: 3e-4, warmupSteps: 5, decaySteps: 300 };
const { corpus, config } = tinyCorpus();
const identity = (n: number): Identity => sessionIdentity(ed25519Signer(new Uint8Array(32).fill(n)));

let ctx: GpuContext;
let model: GpuGpt;
let plan: ChunkPlan;
let theta: Float32Array;
let verdicts: Map<string, Verdict>;
/** workEma after this one window, by name: the work the standings credit. */
let credited: Map<string, number>;

/** A peer's unit-mode window of `units` units on `pagesOf`'s pages (the trainer the swarm runs). */
async function trainUnits(pagesOf: string, units: number, from = theta): Promise<{ payload: Uint8Array; steps: number }> {
  const trainer = new GpuWindowTrainer(model, corpus.train);
  const r = await trainer.trainWindow({
    runId: RUN,
    peerAddress: pagesOf,
    window: 0,
    theta: from,
    deadline: Date.now() + 600_000,
    minSteps: UNIT,
    maxSteps: units * UNIT,
    schedule,
    unitSteps: UNIT,
  });
  if (!r.payload) throw new Error('no payload');
  return { payload: r.payload, steps: r.steps };
}

/** θ_w − θ as a dense vector, scaled: what an update (or receipt) moves, for re-encoding. */
function dense(u: SparseUpdate, scale = 1): Float32Array {
  const d = new Float32Array(theta.length);
  u.indices.forEach((idx, i) => (d[idx] = scale * u.values[i]));
  return d;
}

/** `d` re-encoded at the update's density, as a peer's own encoder would send it. */
async function encodeDense(d: Float32Array, p = plan): Promise<Uint8Array> {
  return (
    await new SparseLoCoEncoder(p, theta.length).encode(
      theta,
      theta.map((t, i) => t - d[i]),
    )
  ).bytes;
}

/** `u` with 15 % of its entries moved to other indices: a copy that dodges an exact-overlap check. */
function reindexed(u: SparseUpdate, seed: number): Float32Array {
  const d = dense(u);
  let x = seed;
  const next = (): number => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let i = 0; i < u.indices.length; i++) {
    if (next() >= 0.15) continue;
    const to = Math.floor(next() * d.length);
    if (d[to] !== 0) continue;
    d[to] = d[u.indices[i]];
    d[u.indices[i]] = 0;
  }
  return d;
}

function arrival(who: Identity, payload: Uint8Array, steps: number, at: number): Arrival {
  const header = signContribution(
    {
      runId: RUN,
      window: 0,
      baseHash: modelHash(theta),
      payloadHash: contentHash(payload),
      payloadBytes: payload.length,
      peerAddress: who.address,
      steps,
      tokens: steps * BATCH * SEQ,
      certificate: who.certificate,
    },
    who.signer,
  );
  return { header, payload, arrivedAt: at };
}

beforeAll(async () => {
  ctx = await requestGpuDevice({ gpu: nodeGpu(), label: 'work-units' });
  model = new GpuGpt(ctx.device, { config, batchSize: BATCH, seqLen: SEQ });
  plan = chunkPlan(model.layout);
  theta = initParams(config, model.layout, 5);
  const [slow, fast, elsewhere, padded] = [identity(1), identity(2), identity(3), identity(4)];
  const slowWork = await trainUnits(slow.address, 4);
  const fastWork = await trainUnits(fast.address, 24);
  // Trained on another address's unit pages: real work, but not the work it was assigned.
  const nine = identity(9);
  const otherWork = await trainUnits(nine.address, 24);
  // Trains 6 units and claims 24: the 18 untrained units carry its trained receipts, each
  // re-encoded at 1.01× (byte-identical receipts are refused outright as wrong-units).
  const few = await trainUnits(padded.address, 6);
  const parts = decodeWorkPayload(few.payload, plan);
  const main = workPayloadMain(few.payload);
  const copies = await Promise.all(
    [...Array(18).keys()].map(async (u) => encodeDense(dense(decodeSparseLoCo(parts.receipts[u % 6], plan), 1.01 + u / 1000), receiptPlan(model.layout))),
  );
  const paddedPayload = packWorkPayload({ main, receipts: [...parts.receipts, ...copies] });
  // Its own real units, joined to fast's update (a borrowed one) …
  const mismatched = packWorkPayload({ main: workPayloadMain(fastWork.payload), receipts: decodeWorkPayload(otherWork.payload, plan).receipts });
  // … and to an update of its own making (poison: a direction no unit took, at an honest norm).
  const poisoner = identity(10);
  const poisonWork = await trainUnits(poisoner.address, 4);
  const honestMain = decodeWorkPayload(poisonWork.payload, plan).main;
  const norm = Math.hypot(...honestMain.values);
  const noise = Float32Array.from({ length: theta.length }, (_, i) => Math.sin(i * 12.9898 + 78.233));
  const noiseNorm = Math.hypot(...noise);
  const poison = await encodeDense(noise.map((v) => (v * norm) / noiseNorm));
  const poisoned = packWorkPayload({ main: poison, receipts: decodeWorkPayload(poisonWork.payload, plan).receipts });
  // Addresses with a long record (proven: true), the holes a record might open:
  // fast's whole payload with 15 % of every part's entries moved (a re-indexed copy) …
  const [copier, scaler, stale] = [identity(11), identity(12), identity(13)];
  const fastParts = decodeWorkPayload(fastWork.payload, plan);
  const copied = packWorkPayload({
    main: await encodeDense(reindexed(fastParts.main, 1)),
    receipts: await Promise.all(fastParts.receipts.map(async (r, u) => encodeDense(reindexed(decodeSparseLoCo(r, plan), 2 + u), receiptPlan(model.layout)))),
  });
  // … its own 4 units with the update scaled ×3 (clipping caps it; credit is its steps) …
  const scaleWork = await trainUnits(scaler.address, 4);
  const scaleParts = decodeWorkPayload(scaleWork.payload, plan);
  const scaled = packWorkPayload({ main: await encodeDense(dense(scaleParts.main, 3)), receipts: scaleParts.receipts });
  // … and 4 units trained from another θ while its header names θ_w (a stale base, unflagged).
  const staleWork = await trainUnits(stale.address, 4, initParams(config, model.layout, 6));
  const arrivals = [
    arrival(slow, slowWork.payload, slowWork.steps, START + 1),
    arrival(fast, fastWork.payload, fastWork.steps, START + 2),
    arrival(elsewhere, otherWork.payload, otherWork.steps, START + 3),
    arrival(padded, paddedPayload, 24 * UNIT, START + 4),
    arrival(nine, mismatched, otherWork.steps, START + 5),
    arrival(poisoner, poisoned, poisonWork.steps, START + 6),
    arrival(copier, copied, fastWork.steps, START + 7),
    arrival(scaler, scaled, scaleWork.steps, START + 8),
    arrival(stale, staleWork.payload, staleWork.steps, START + 9),
  ];
  const longRecord = new Set([copier.address, scaler.address, stale.address]);
  const result = await runGauntlet({
    runId: RUN,
    window: 0,
    windowStartMs: START,
    closeAt: START + 60_000,
    minSteps: UNIT,
    outerLr: 1,
    unitSteps: UNIT,
    sequencesPerStep: BATCH,
    seqLen: SEQ,
    corpusLength: corpus.train.length,
    theta,
    plan,
    arrivals,
    signer: ed25519Signer(new Uint8Array(32).fill(200)),
    probe: new CpuLossProbe(config, SEQ, corpus.train),
    limits: { randomSequences: 64, copyOverlap: 1 },
    proven: (a) => longRecord.has(a),
  });
  const names = new Map([
    [slow.address, 'slow'],
    [fast.address, 'fast'],
    [elsewhere.address, 'elsewhere'],
    [padded.address, 'padded'],
    [nine.address, 'mismatched'],
    [poisoner.address, 'poisoned'],
    [copier.address, 'copied'],
    [scaler.address, 'scaled'],
    [stale.address, 'stale'],
  ]);
  verdicts = new Map(result.verdicts.map((v) => [names.get(v.address) ?? v.address, v]));
  const after = updateStandings(
    new Map(),
    0,
    result.verdicts.flatMap((v) => outcomeOf(v) ?? []),
  );
  credited = new Map([...names].map(([address, name]) => [name, after.get(address)?.workEma ?? 0]));
  for (const [name, v] of verdicts)
    console.log(`[units] ${name}: ${v.code}: ${v.reason}; agreement ${v.score?.agreement?.toFixed(2)}; credited ${credited.get(name)?.toFixed(2)}`);
}, 600_000);

afterAll(() => {
  model?.destroy();
  ctx?.destroy();
});

describe('work units', () => {
  it('prove a slow and a fast honest peer alike: each tested unit is as strong whatever the unit count', () => {
    for (const name of ['slow', 'fast']) {
      const v = verdicts.get(name) as Verdict;
      expect(v.code).toBe('accepted');
      expect(v.score?.powT).toBeGreaterThanOrEqual(POW_T_THRESHOLD);
    }
    expect(verdicts.get('slow')?.score).toMatchObject({ units: 4, unitsTested: 4, ownSequences: 16 });
    expect(verdicts.get('fast')?.score).toMatchObject({ units: 24, unitsTested: 16, ownSequences: 64 });
  });

  it('refuse a newcomer whose units were trained on another address’s pages', () => {
    expect(verdicts.get('elsewhere')?.code).toBe('no-proof-of-work');
  });

  it('refuse a claim padded with receipts of units it did not train, however strong its real units', () => {
    const v = verdicts.get('padded') as Verdict;
    expect(v.code).toBe('no-proof-of-work');
    expect(v.reason).toMatch(/tested of 24 units show a trace/);
    expect((v.score?.unitsTested ?? 0) - (v.score?.unitsWithTrace ?? 0)).toBeGreaterThan(allowedUntraced(v.score?.unitsTested ?? 0));
  });

  it('credit the proven work in proportion: 24 units earn 6× what 4 units do', () => {
    expect(credited.get('slow')).toBeGreaterThan(0);
    expect((credited.get('fast') as number) / (credited.get('slow') as number)).toBeCloseTo(6, 6);
  });

  it('refuse an update that is not the one its receipts describe: a borrowed update, or poison joined to real units', () => {
    for (const name of ['mismatched', 'poisoned']) {
      expect(verdicts.get(name)?.code).toBe('inconsistent-update');
      expect(credited.get(name)).toBe(0);
    }
    expect(verdicts.get('mismatched')?.reason).toMatch(/agrees more with .*'s receipts/);
    expect(verdicts.get('poisoned')?.score?.agreement).toBeLessThan(MIN_RECEIPT_AGREEMENT);
    // Honest updates agree with their own receipts well above the floor.
    for (const name of ['slow', 'fast']) expect(verdicts.get(name)?.score?.agreement).toBeGreaterThan(2 * MIN_RECEIPT_AGREEMENT);
  });

  it('close the holes a long record might open: a re-indexed copy and a stale base earn nothing, a scaled update only its steps', () => {
    expect(verdicts.get('copied')?.accepted).toBe(false);
    expect(credited.get('copied')).toBe(0);
    expect(verdicts.get('stale')?.accepted).toBe(false);
    expect(credited.get('stale')).toBe(0);
    // ×3 on its own 4 units: admitted (clipped like any update), credited as any 4 units are.
    expect(verdicts.get('scaled')?.code).toBe('accepted');
    expect(credited.get('scaled')).toBeCloseTo(credited.get('slow') as number, 9);
  });
});
