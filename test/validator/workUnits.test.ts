// Unit mode on the real engine (Dawn) and codec: peers train whole units from θ_w, each with a
// receipt; proof of work tests receipts of units the validator draws, so a slow and a fast
// honest peer both prove their work, while work on the wrong pages or a padded claim does not.
// Ed25519 keys sign deterministically, so the units the validator draws are the same every run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chunkPlan, type ChunkPlan } from '../../src/compress/chunks';
import { decodeWorkPayload, packWorkPayload, workPayloadMain } from '../../src/compress/workPayload';
import { requestGpuDevice, type GpuContext } from '../../src/gpu/device';
import { initParams } from '../../src/gpu/init';
import { GpuGpt } from '../../src/gpu/model';
import { nodeGpu } from '../../src/gpu/nodeGpu';
import { signContribution } from '../../src/protocol/contribution';
import { contentHash, modelHash } from '../../src/protocol/hash';
import { ed25519Signer } from '../../src/protocol/keys';
import { GpuWindowTrainer } from '../../src/swarm/windowTrainer';
import { CpuLossProbe } from '../../src/validator/cpuLossProbe';
import { runGauntlet, type Arrival, type Verdict } from '../../src/validator/gauntlet';
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

/** A peer's unit-mode window of `units` units on `pagesOf`'s pages (the trainer the swarm runs). */
async function trainUnits(pagesOf: string, units: number): Promise<{ payload: Uint8Array; steps: number }> {
  const trainer = new GpuWindowTrainer(model, corpus.train);
  const r = await trainer.trainWindow({ runId: RUN, peerAddress: pagesOf, window: 0, theta, deadline: Date.now() + 600_000, minSteps: UNIT, maxSteps: units * UNIT, schedule, unitSteps: UNIT });
  if (!r.payload) throw new Error('no payload');
  return { payload: r.payload, steps: r.steps };
}

function arrival(who: Identity, payload: Uint8Array, steps: number, at: number): Arrival {
  const header = signContribution({ runId: RUN, window: 0, baseHash: modelHash(theta), payloadHash: contentHash(payload), payloadBytes: payload.length, peerAddress: who.address, steps, tokens: steps * BATCH * SEQ, certificate: who.certificate }, who.signer);
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
  const otherWork = await trainUnits(identity(9).address, 24);
  // Trains 6 units and claims 24: the 18 untrained units carry copies of the trained receipts.
  const few = await trainUnits(padded.address, 6);
  const parts = decodeWorkPayload(few.payload, plan);
  const main = workPayloadMain(few.payload);
  const paddedPayload = packWorkPayload({ main, receipts: [...Array(24).keys()].map((u) => parts.receipts[u % 6]) });
  const arrivals = [arrival(slow, slowWork.payload, slowWork.steps, START + 1), arrival(fast, fastWork.payload, fastWork.steps, START + 2), arrival(elsewhere, otherWork.payload, otherWork.steps, START + 3), arrival(padded, paddedPayload, 24 * UNIT, START + 4)];
  const result = await runGauntlet({
    runId: RUN, window: 0, windowStartMs: START, closeAt: START + 60_000, minSteps: UNIT, outerLr: 1, unitSteps: UNIT, sequencesPerStep: BATCH, seqLen: SEQ, corpusLength: corpus.train.length, theta, plan, arrivals,
    signer: ed25519Signer(new Uint8Array(32).fill(200)), probe: new CpuLossProbe(config, SEQ, corpus.train), limits: { randomSequences: 64, copyOverlap: 1 },
  });
  const names = new Map([[slow.address, 'slow'], [fast.address, 'fast'], [elsewhere.address, 'elsewhere'], [padded.address, 'padded']]);
  verdicts = new Map(result.verdicts.map((v) => [names.get(v.address) ?? v.address, v]));
  for (const [name, v] of verdicts) console.log(`[units] ${name}: ${v.code}: ${v.reason}`);
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
    expect(verdicts.get('fast')?.score).toMatchObject({ units: 24, unitsTested: 8, ownSequences: 32 });
  });

  it('refuse a newcomer whose units were trained on another address’s pages', () => {
    expect(verdicts.get('elsewhere')?.code).toBe('no-proof-of-work');
  });

  it('refuse a claim padded with receipts of units it did not train, however strong its real units', () => {
    const v = verdicts.get('padded') as Verdict;
    expect(v.code).toBe('no-proof-of-work');
    expect(v.reason).toMatch(/tested of 24 units show a trace/);
    expect((v.score?.unitsTested ?? 0) - (v.score?.unitsWithTrace ?? 0)).toBeGreaterThan(allowedUntraced(8));
  });
});
