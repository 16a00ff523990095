// The validator's instruments and arithmetic: CPU and GPU losses agree, the proof-of-work gate
// treats newcomers and proven peers as documented, standings rank and penalise, weights scale.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chunkPlan } from '../../src/compress/chunks';
import { SparseLoCoEncoder } from '../../src/compress/sparseloco';
import { DEFAULT_ADAMW } from '../../src/model/optimizer';
import { gptConfig } from '../../src/model/config';
import { requestGpuDevice, type GpuContext } from '../../src/gpu/device';
import { initParams } from '../../src/model/init';
import { GpuGpt } from '../../src/gpu/model';
import { nodeGpu } from '../../src/gpu/nodeGpu';
import { decodeContribution, signContribution } from '../../src/protocol/contribution';
import { contentHash, modelHash } from '../../src/protocol/hash';
import { ed25519Signer, sr25519Signer } from '../../src/protocol/keys';
import { assignedPages, batchForStep, pagesTrained, randomPages } from '../../src/train/dataPages';
import { runInnerLoop } from '../../src/train/innerLoop';
import { charCorpus } from '../../src/train/tokenizer';
import { CpuLossProbe } from '../../src/validator/cpuLossProbe';
import { runGauntlet } from '../../src/validator/gauntlet';
import { GpuLossProbe } from '../../src/validator/gpuLossProbe';
import { freshStanding, MAX_BLOCK_WINDOWS, rewardScore, updateStandings, type Standing, type WindowOutcome } from '../../src/validator/ratings';
import { addEvidence, evidenceT, tToZ, welchT, windowEvidence, type Evidence } from '../../src/validator/scoring';
import { toU16Weights, U16_MAX } from '../../src/validator/weights';
import { sessionIdentity } from '../../src/wallet/authority';

const text = readFileSync('public/data/tinyshakespeare.txt', 'utf8');
const corpus = charCorpus(text);
const config = gptConfig('tiny', corpus.tokenizer.vocabSize);
const SEQ = 16;
let ctx: GpuContext;

beforeAll(async () => {
  ctx = await requestGpuDevice({ gpu: nodeGpu(), label: 'scoring' });
});
afterAll(() => ctx?.destroy());

describe('loss probes', () => {
  it('the CPU reference and the GPU engine give the same per-sequence losses', async () => {
    const gpu = new GpuLossProbe(ctx.device, config, SEQ, corpus.train, 4);
    const cpu = new CpuLossProbe(config, SEQ, corpus.train);
    const theta = initParams(config, (await import('../../src/model/layout')).paramLayout(config), 3);
    const pages = await randomPages('probe', { count: 6, seqLen: SEQ, corpusLength: corpus.train.length }); // 6: a short last batch
    const [a, b] = [await gpu.perSequence(theta, pages), await cpu.perSequence(theta, pages)];
    for (let i = 0; i < pages.length; i++) expect(a[i]).toBeCloseTo(b[i], 4);
    expect(new Set(Array.from(b, (x) => x.toFixed(6))).size).toBe(6); // really per sequence
    gpu.destroy();
  });
});

describe('the proof-of-work gate', () => {
  it('refuses a newcomer whose update shows no work on its pages, and admits a proven peer on its improvement', async () => {
    const BATCH = 2;
    const STEPS = 16;
    const model = new GpuGpt(ctx.device, { config, batchSize: BATCH, seqLen: SEQ });
    const plan = chunkPlan(model.layout);
    const theta = initParams(config, model.layout, 5);
    const signer = sr25519Signer(new Uint8Array(32).fill(21));
    const identity = sessionIdentity(signer);
    // Trained, as a peer trains, but on somebody else's pages.
    const pages = await assignedPages({
      runSeed: 'gate',
      peerAddress: 'somebody-else',
      window: 0,
      count: pagesTrained(STEPS, BATCH),
      seqLen: SEQ,
      corpusLength: corpus.train.length,
    });
    const z = (): Float32Array => new Float32Array(model.layout.totalFloats);
    model.importState({ params: theta, m: z(), v: z() });
    await runInnerLoop({
      model,
      train: corpus.train,
      startStep: 0,
      steps: STEPS,
      schedule: { maxLr: 3e-3, minLr: 3e-4, warmupSteps: 2, decaySteps: 100 },
      hyper: DEFAULT_ADAMW,
      offsetsForStep: (s) => pages.subarray(batchForStep(s) * BATCH, (batchForStep(s) + 1) * BATCH),
      lossEvery: 0,
    });
    const { bytes } = await new SparseLoCoEncoder(plan, model.layout.totalFloats).encode(theta, (await model.exportState()).params);
    model.destroy();
    const header = decodeContribution(
      signContribution(
        {
          runId: 'gate',
          window: 0,
          baseHash: modelHash(theta),
          payloadHash: contentHash(bytes),
          payloadBytes: bytes.length,
          peerAddress: identity.address,
          steps: STEPS,
          tokens: STEPS * BATCH * SEQ,
          certificate: identity.certificate,
        },
        signer,
      ).bytes,
      'gate',
    );
    const decide = (proven: boolean) =>
      runGauntlet({
        runId: 'gate',
        window: 0,
        windowStartMs: 0,
        closeAt: 1,
        minSteps: 1,
        outerLr: 1,
        sequencesPerStep: BATCH,
        seqLen: SEQ,
        corpusLength: corpus.train.length,
        theta,
        plan,
        arrivals: [{ header, payload: bytes, arrivedAt: 0 }],
        signer: ed25519Signer(new Uint8Array(32).fill(1)),
        probe: new CpuLossProbe(config, SEQ, corpus.train),
        limits: { randomSequences: 32 },
        proven: () => proven,
      });
    const newcomer = (await decide(false)).verdicts[0];
    expect(newcomer.score?.random).toBeGreaterThan(0); // real training helps the model…
    expect(newcomer.code).toBe('no-proof-of-work'); // …but it was not on its own pages
    const proven = (await decide(true)).verdicts[0];
    expect(proven.accepted).toBe(true);
    expect(proven.reason).toMatch(/admitted on its recent record/);
  }, 120_000);
});

describe('standings and weights', () => {
  it('ranks by score, penalises the missing and the refused, and leaves skipped addresses alone', () => {
    let s = updateStandings(new Map(), 0, [
      { address: 'a', kind: 'scored', score: 0.03, pow: true },
      { address: 'b', kind: 'scored', score: 0.01, pow: true },
      { address: 'c', kind: 'penalty' },
    ]);
    const get = (x: string) => s.get(x) ?? freshStanding(x);
    expect(get('a').mu).toBeGreaterThan(get('b').mu);
    expect(get('b').mu).toBeGreaterThan(get('c').mu);
    expect(get('a').powEma).toBeCloseTo(0.2);
    const before = get('b');
    s = updateStandings(s, 1, [
      { address: 'a', kind: 'scored', score: 0.02, pow: false },
      { address: 'b', kind: 'skip' },
      { address: 'c', kind: 'scored', score: 0.05, pow: true },
    ]);
    expect(get('b')).toEqual(before); // skipped: not scored, not missing
    expect(get('a').powEma).toBeCloseTo(0.16);
    const aBefore = get('a').mu;
    s = updateStandings(s, 2, [{ address: 'c', kind: 'scored', score: 0.05, pow: true }]);
    expect(get('a').mu).toBeLessThan(aBefore); // a and b missed window 2: both lose ground
    expect(get('b').mu).toBeLessThan(before.mu);
    expect(rewardScore(get('c'))).toBeGreaterThan(rewardScore(get('a')));
  });

  /** Evidence of `units` tested units of 4 own pages each: own pages gain `own`, random ones 1 %. */
  function evidence(units: number, own: number, traced = units): Evidence {
    // Values mean ± 0.2 % alternately: a fixed, known spread.
    const side = (n: number, mean: number): Float64Array => Float64Array.from({ length: n }, (_, i) => mean + (i % 2 ? 0.002 : -0.002));
    return windowEvidence(side(4 * units, own), side(8 * units, 0.01), units, traced);
  }
  const unitWindow = (address: string, units: number, own: number, traced = units): WindowOutcome => ({
    address,
    kind: 'scored',
    score: 0.01,
    pow: false,
    work: 4 * units,
    evidence: evidence(units, own, traced),
  });
  const run = (windows: WindowOutcome[][]): Map<string, Standing> =>
    windows.reduce((s, outcomes, w) => updateStandings(s, w, outcomes), new Map<string, Standing>());

  it('pools a slow device’s few pages across windows, then credits the whole block or none of it', () => {
    // Two units of 4 pages a window: 8 own pages, under the 16 a judgement needs.
    const one = run([[unitWindow('slow', 2, 0.02)]]);
    expect(one.get('slow')?.pending?.windows).toBe(1);
    expect(one.get('slow')?.workEma).toBe(0);
    const two = run([[unitWindow('slow', 2, 0.02)], [unitWindow('slow', 2, 0.02)]]);
    expect(two.get('slow')?.pending).toBeUndefined();
    expect(two.get('slow')?.workEma).toBeCloseTo(0.2 * 16); // both windows' 8 steps, credited at once
    expect(two.get('slow')?.powEma).toBeCloseTo(0.2);
    // Untrained units (no own-page gain) are judged the same way and credited nothing.
    const lazy = run([[unitWindow('lazy', 2, 0.01, 1)], [unitWindow('lazy', 2, 0.01, 1)]]);
    expect(lazy.get('lazy')?.workEma).toBe(0);
    // A block never waits longer than MAX_BLOCK_WINDOWS windows for enough pages.
    const tiny = run(Array.from({ length: MAX_BLOCK_WINDOWS }, () => [unitWindow('tiny', 1, 0.02)]));
    expect(tiny.get('tiny')?.pending).toBeUndefined();
  });

  it('pools windows as z-scores (Stouffer): scale-free, and a few pages’ heavy-tailed t counts for less', () => {
    const own = Float64Array.from([0.021, 0.019, 0.024, 0.018, 0.02, 0.022, 0.017, 0.023]);
    const random = Float64Array.from([0.01, 0.012, 0.009, 0.011, 0.01, 0.008, 0.013, 0.01, 0.011, 0.009]);
    const one = evidenceT(windowEvidence(own, random, 2, 2));
    // Many degrees of freedom: z is t; few: z is smaller (a t of 3 on 3 df is no 3σ event).
    expect(tToZ(3, 1e6)).toBeCloseTo(3, 4);
    expect(tToZ(3, 3)).toBeLessThan(2.2);
    expect(one).toBeGreaterThan(0);
    expect(one).toBeLessThan(welchT(own, random));
    // The same window at a hundredth of the scale (θ_0, warm-up): the same z, the same weight.
    const faint = windowEvidence(
      own.map((x) => x / 100),
      random.map((x) => x / 100),
      2,
      2,
    );
    expect(evidenceT(addEvidence(windowEvidence(own, random, 2, 2), faint))).toBeCloseTo(Math.SQRT2 * one, 8);
    // A faint window without a gain pulls a clear one down by its pages only, not to its own z.
    const nothing = windowEvidence(
      random.slice(0, 8).map((x) => x / 100),
      random.map((x) => x / 100),
      2,
      2,
    );
    expect(evidenceT(addEvidence(windowEvidence(own, random, 2, 2), nothing))).toBeCloseTo((one + evidenceT(nothing)) / Math.SQRT2, 8);
  });

  it('credits work in proportion: four times the proven steps earn four times the reward', () => {
    const s = run(Array.from({ length: 12 }, () => [unitWindow('slow', 4, 0.02), unitWindow('fast', 16, 0.02)]));
    const ratio = rewardScore(s.get('fast') as Standing) / rewardScore(s.get('slow') as Standing);
    expect(ratio).toBeCloseTo(4, 5);
  });

  it('pays one device’s work split across many addresses no more than under one address', () => {
    const windows = 24;
    // Weights are set every window, so what an address is paid is its reward summed over windows.
    const paid = (outcomes: WindowOutcome[][]): number => {
      let s = new Map<string, Standing>();
      let sum = 0;
      outcomes.forEach((o, w) => {
        s = updateStandings(s, w, o);
        sum += [...s.values()].reduce((a, x) => a + rewardScore(x), 0);
      });
      return sum;
    };
    // The same 16 units a window, as 1 address, as 4 addresses of 4 units and as 16 of 1 unit
    // (4 pages each: too few alone, so each waits for a block of 16 pages across 4 windows and
    // is credited in a burst; read at a burst the split's rewards peak above one address's).
    const split = (addresses: number): WindowOutcome[][] =>
      Array.from({ length: windows }, () => Array.from({ length: addresses }, (_, i) => unitWindow(`${addresses}-${i}`, 16 / addresses, 0.02)));
    const one = paid(split(1));
    expect(one).toBeGreaterThan(0);
    expect(paid(split(4))).toBeCloseTo(one, 6);
    expect(paid(split(16))).toBeLessThanOrEqual(one);
    // Paid late, not less in the long run: the delay costs at most its first blocks.
    expect(paid(split(16))).toBeGreaterThan(0.8 * one);
  });

  it('lets no record carry unproven work: a peer that stops training its pages stops earning', () => {
    const honest = Array.from({ length: 10 }, () => [unitWindow('p', 8, 0.02)]);
    const before = run(honest).get('p') as Standing;
    // Units that leave no trace (t near 0, half the tested units untraced) credit nothing.
    const after = run([...honest, [unitWindow('p', 8, 0.01, 4)], [unitWindow('p', 8, 0.01, 4)], [unitWindow('p', 8, 0.01, 4)]]).get('p') as Standing;
    expect(after.workEma).toBeCloseTo(before.workEma * 0.8 ** 3);
    // Real gains on most units but two of eight tested without a trace: refused too (padding).
    const padded = run([[unitWindow('q', 8, 0.02, 6)]]).get('q') as Standing;
    expect(padded.workEma).toBe(0);
    // A penalty drops an unjudged block: its windows earn nothing.
    const dropped = run([[unitWindow('r', 2, 0.02)], [{ address: 'r', kind: 'penalty' }], [unitWindow('r', 2, 0.02)]]).get('r') as Standing;
    expect(dropped.workEma).toBe(0);
    expect(dropped.pending?.windows).toBe(1);
  });

  it('max-upscales positive scores to u16, in address order, and gives nothing when nobody earned', () => {
    expect(
      toU16Weights(
        new Map([
          ['b', 0.5],
          ['a', 1],
          ['c', 0],
          ['d', -1],
          ['e', Number.NaN],
        ]),
      ),
    ).toEqual([
      { address: 'a', weight: U16_MAX },
      { address: 'b', weight: 32_768 },
    ]);
    expect(toU16Weights(new Map([['a', 0]]))).toEqual([]);
  });

  it("Welch's t is zero for equal samples and large for a clear shift", () => {
    const a = Float64Array.from({ length: 50 }, (_, i) => Math.sin(i));
    expect(welchT(a, a)).toBe(0);
    expect(
      welchT(
        a.map((x) => x + 1),
        a,
      ),
    ).toBeGreaterThan(5);
  });
});
