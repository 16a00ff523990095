// The gauntlet against one attacker of each kind, on the real model (Dawn) and the real codec:
// every attacker is refused (on arrival or by the gauntlet), every honest peer scores above
// zero, and θ_{w+1} is bit-identical to the window decided without the attackers.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chunkPlan, type ChunkPlan } from '../../src/compress/chunks';
import { applySparseOuterStep } from '../../src/compress/outerStep';
import { decodeSparseLoCo, SparseLoCoEncoder } from '../../src/compress/sparseloco';
import { DEFAULT_ADAMW } from '../../src/model/optimizer';
import { gptConfig } from '../../src/model/config';
import { requestGpuDevice, type GpuContext } from '../../src/gpu/device';
import { initParams } from '../../src/model/init';
import { GpuGpt } from '../../src/gpu/model';
import { nodeGpu } from '../../src/gpu/nodeGpu';
import { ProtocolError, toHex } from '../../src/protocol/bytes';
import { decodeContribution, signContribution, type Contribution } from '../../src/protocol/contribution';
import { contentHash, modelHash } from '../../src/protocol/hash';
import { ed25519Signer, sr25519Signer, type Signer } from '../../src/protocol/keys';
import { assignedPages, batchForStep, pagesTrained } from '../../src/train/dataPages';
import { runInnerLoop } from '../../src/train/innerLoop';
import { charCorpus } from '../../src/train/tokenizer';
import { GpuLossProbe } from '../../src/validator/gpuLossProbe';
import { runGauntlet, type Arrival, type GauntletResult } from '../../src/validator/gauntlet';
import { sessionIdentity, type Identity } from '../../src/wallet/authority';
import { delegateSession, walletPairFromSecret } from '../../src/wallet/keySource';
import { randomBytes, randomFloats } from '../support/random';

const RUN = 'gauntlet-run';
const WINDOW = 1;
const START = Date.UTC(2026, 10, 25);
const CLOSE = START + 60_000;
const BATCH = 2;
const SEQ = 32;
const STEPS = 30;
const schedule = { maxLr: 3e-3, minLr: 3e-4, warmupSteps: 5, decaySteps: 300 };

const text = readFileSync('public/data/tinyshakespeare.txt', 'utf8');
const corpus = charCorpus(text);
const config = gptConfig('tiny', corpus.tokenizer.vocabSize);
const validatorKey = ed25519Signer(new Uint8Array(32).fill(200));

let ctx: GpuContext;
let model: GpuGpt;
let probe: GpuLossProbe;
let plan: ChunkPlan;
let theta0: Float32Array;
let theta: Float32Array;
/** Window 0's honest contribution (trained from θ_0): material for a replay and a stale base. */
let window0: Uint8Array;

beforeAll(async () => {
  ctx = await requestGpuDevice({ gpu: nodeGpu(), label: 'gauntlet' });
  model = new GpuGpt(ctx.device, { config, batchSize: BATCH, seqLen: SEQ });
  probe = new GpuLossProbe(ctx.device, config, SEQ, corpus.train);
  plan = chunkPlan(model.layout);
  theta0 = initParams(config, model.layout, 11);
  // Window 0 already happened: θ_1 is one honest outer step on from θ_0.
  window0 = (await train(theta0, 'w1', 0)).bytes;
  theta = theta0.slice();
  applySparseOuterStep(theta, [decodeSparseLoCo(window0, plan)], 1);
}, 300_000);

afterAll(() => {
  probe?.destroy();
  model?.destroy();
  ctx?.destroy();
});

/** θ after STEPS inner steps from `base` on `pagesOf`'s assigned pages for `window`, as a peer trains. */
async function trainedParams(base: Float32Array, pagesOf: string, window: number): Promise<Float32Array> {
  const pages = await assignedPages({
    runSeed: RUN,
    peerAddress: pagesOf,
    window,
    count: pagesTrained(STEPS, BATCH),
    seqLen: SEQ,
    corpusLength: corpus.train.length,
  });
  const zeros = (): Float32Array => new Float32Array(model.layout.totalFloats);
  model.importState({ params: base, m: zeros(), v: zeros() });
  await runInnerLoop({
    model,
    train: corpus.train,
    startStep: 0,
    steps: STEPS,
    schedule,
    hyper: DEFAULT_ADAMW,
    offsetsForStep: (s) => pages.subarray(batchForStep(s) * BATCH, (batchForStep(s) + 1) * BATCH),
    lossEvery: 0,
  });
  return (await model.exportState()).params;
}

async function train(base: Float32Array, pagesOf: string, window: number): Promise<{ bytes: Uint8Array; after: Float32Array }> {
  const after = await trainedParams(base, pagesOf, window);
  const { bytes } = await new SparseLoCoEncoder(plan, model.layout.totalFloats).encode(base, after);
  return { bytes, after };
}

/** Encodes θ_base − `delta`-scaled change as a contribution payload. */
async function encodeDelta(base: Float32Array, after: Float32Array, scale: number): Promise<Uint8Array> {
  const moved = base.map((v, i) => v + scale * (after[i] - v));
  return (await new SparseLoCoEncoder(plan, model.layout.totalFloats).encode(base, moved)).bytes;
}

function header(
  identity: Identity,
  payload: Uint8Array,
  over: { window?: number; base?: Float32Array; payloadBytes?: number; address?: string } = {},
): Contribution {
  return signContribution(
    {
      runId: RUN,
      window: over.window ?? WINDOW,
      baseHash: modelHash(over.base ?? theta),
      payloadHash: contentHash(payload),
      payloadBytes: over.payloadBytes ?? payload.length,
      peerAddress: over.address ?? identity.address,
      steps: STEPS,
      tokens: STEPS * BATCH * SEQ,
      certificate: identity.certificate,
    },
    identity.signer,
  );
}

const key = (n: number): Signer => sr25519Signer(new Uint8Array(32).fill(n));

interface Entrant {
  label: string;
  honest: boolean;
  /** Header bytes as they arrive from the network, the payload, and when it completed. */
  bytes: Uint8Array;
  payload: Uint8Array;
  arrivedAt: number;
}

function decide(entrants: readonly Entrant[]): Promise<GauntletResult> & { refused: Map<string, string> } {
  const refused = new Map<string, string>();
  const arrivals: Arrival[] = [];
  for (const e of entrants) {
    try {
      arrivals.push({ header: decodeContribution(e.bytes, RUN), payload: e.payload, arrivedAt: e.arrivedAt });
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      refused.set(e.label, `${err.code}: ${err.message}`);
    }
  }
  const result = runGauntlet({
    runId: RUN,
    window: WINDOW,
    windowStartMs: START,
    closeAt: CLOSE,
    minSteps: 3,
    outerLr: 1,
    sequencesPerStep: BATCH,
    seqLen: SEQ,
    corpusLength: corpus.train.length,
    theta,
    plan,
    arrivals,
    signer: validatorKey,
    probe,
  });
  return Object.assign(result, { refused });
}

describe('the gauntlet', () => {
  it('refuses every attack, scores every honest peer above zero, and leaves the model as if no attacker came', async () => {
    const aliceKey = key(1);
    const honest = {
      alice: sessionIdentity(aliceKey, delegateSession(walletPairFromSecret('//Alice'), aliceKey, RUN, START - 60_000)),
      bob: sessionIdentity(key(2)),
      carol: sessionIdentity(key(3)),
    };
    const updates = new Map<string, { bytes: Uint8Array; after: Float32Array }>();
    for (const [name, id] of Object.entries(honest)) updates.set(name, await train(theta, id.address, WINDOW));
    const alice = updates.get('alice') as { bytes: Uint8Array; after: Float32Array };
    const bob = updates.get('bob') as { bytes: Uint8Array; after: Float32Array };
    let t = START + 20_000;
    const at = (): number => (t += 100);
    const entrants: Entrant[] = Object.entries(honest).map(([name, id]) => {
      const u = updates.get(name) as { bytes: Uint8Array };
      return { label: `honest ${name}`, honest: true, bytes: header(id, u.bytes).bytes, payload: u.bytes, arrivedAt: at() };
    });
    const attacker = (n: number): Identity => sessionIdentity(key(100 + n));
    const add = (label: string, identity: Identity, payload: Uint8Array, over: Parameters<typeof header>[2] = {}, arrivedAt = at()): void =>
      void entrants.push({ label, honest: false, bytes: header(identity, payload, over).bytes, payload, arrivedAt });

    const own = await train(theta, attacker(1).address, WINDOW);
    const poisoned = own.bytes.slice();
    new DataView(poisoned.buffer).setFloat32(32, Number.NaN, true); // first codebook entry
    new DataView(poisoned.buffer).setFloat32(36, Number.POSITIVE_INFINITY, true);
    add('NaN/Inf values', attacker(1), poisoned);
    // Its own honest training, sent ×100 and sign-flipped by two more keys.
    add('update scaled ×100', attacker(2), await encodeDelta(theta, own.after, 100));
    const noise = randomFloats(theta.length, 5).map((v, i) => theta[i] + 0.02 * v);
    add('random noise', attacker(3), await encodeDelta(theta, noise, 1));
    add('sign-flipped update', attacker(4), await encodeDelta(theta, own.after, -1));
    add('byte-identical copy (of alice)', attacker(5), alice.bytes);
    const bobDense = theta.slice();
    const bu = decodeSparseLoCo(bob.bytes, plan);
    bu.indices.forEach((k, j) => (bobDense[k] -= 1.01 * bu.values[j]));
    add('re-signed copy (of bob, re-encoded)', attacker(6), await encodeDelta(theta, bobDense, 1));
    // The same bytes twice: the header checks refuse both before any payload check could.
    add('replay of an older window', attacker(7), window0, { window: 0, base: theta0 });
    add('stale base', attacker(8), window0, { base: theta0 });
    // Claims to be carol's session key, signed with another key.
    const forged = header(honest.carol, own.bytes);
    const bytes = forged.bytes.slice();
    bytes.set(header(attacker(9), own.bytes).signature, bytes.length - 64);
    entrants.push({ label: 'forged signature (as carol)', honest: false, bytes, payload: own.bytes, arrivedAt: at() });
    add('malformed payload', attacker(10), randomBytes(1500, 7));
    add('oversized payload', attacker(11), randomBytes(2 ** 20, 8));
    const free = await train(theta, 'somebody-else', WINDOW);
    add('free-rider (trained on the wrong pages)', attacker(12), free.bytes);
    add('late (complete after the close)', attacker(13), await encodeDelta(theta, own.after, 0.9), {}, CLOSE + 5000);
    add('claims alice’s address without her certificate', attacker(14), await encodeDelta(theta, own.after, 0.8), { address: honest.alice.address });

    const withAttackers = decide(entrants);
    const result = await withAttackers;
    const honestOnly = await decide(entrants.filter((e) => e.honest));

    const verdictOf = (e: Entrant): { accepted: boolean; verdict: string; score?: number } => {
      const refused = withAttackers.refused.get(e.label);
      if (refused) return { accepted: false, verdict: `refused on arrival (${refused})` };
      const id = toHex(decodeContribution(e.bytes, RUN).id);
      const v = result.verdicts.find((x) => x.id === id);
      if (!v) throw new Error(`no verdict for ${e.label}`);
      return { accepted: v.accepted, verdict: `${v.code}: ${v.reason}`, score: v.score?.random };
    };
    const rows = entrants.map((e) => ({ e, ...verdictOf(e) }));
    const same = toHex(result.manifest.nextHash) === toHex(honestOnly.manifest.nextHash);
    console.log(
      [
        '| attack | accepted | score | verdict | effect on θ_{w+1} |',
        '| --- | --- | --- | --- | --- |',
        ...rows.map(
          (r) =>
            `| ${r.e.label} | ${r.accepted ? 'yes' : 'no'} | ${r.score === undefined ? '–' : `${(r.score * 100).toFixed(2)}%`} | ${r.verdict.slice(0, 160)} | ${r.e.honest ? 'included' : r.accepted ? 'INCLUDED' : 'none'} |`,
        ),
        `θ_${WINDOW + 1} with attackers ${toHex(result.manifest.nextHash).slice(0, 16)}, without ${toHex(honestOnly.manifest.nextHash).slice(0, 16)}: ${same ? 'identical' : 'DIFFERENT'}`,
      ].join('\n'),
    );
    // Each attack is refused by the check meant for it, not by whichever check comes first.
    const expected: Record<string, string> = {
      'NaN/Inf values': 'undecodable',
      'update scaled ×100': 'norm-outlier',
      'random noise': 'no-improvement',
      'sign-flipped update': 'no-improvement',
      'byte-identical copy (of alice)': 'duplicate-payload',
      're-signed copy (of bob, re-encoded)': 'copy',
      'replay of an older window': 'wrong-window',
      'stale base': 'stale-base',
      'forged signature (as carol)': 'refused on arrival (bad-signature',
      'malformed payload': 'undecodable',
      'oversized payload': 'undecodable',
      'free-rider (trained on the wrong pages)': 'no-proof-of-work',
      'late (complete after the close)': 'late',
      'claims alice’s address without her certificate': 'unauthorized',
    };
    const prefix = (label: string): string => (expected[label].includes('(') ? expected[label] : `${expected[label]}:`);
    for (const r of rows.filter((x) => !x.e.honest)) expect(r.verdict.startsWith(prefix(r.e.label)), `${r.e.label}: ${r.verdict}`).toBe(true);
    expect(Object.keys(expected).sort()).toEqual(
      rows
        .filter((x) => !x.e.honest)
        .map((x) => x.e.label)
        .sort(),
    );
    for (const r of rows) {
      if (r.e.honest) {
        expect(r.accepted, r.e.label).toBe(true);
        expect(r.score, r.e.label).toBeGreaterThan(0);
      } else expect(r.accepted, `${r.e.label}: ${r.verdict}`).toBe(false); // refused: whatever it scored, it earns nothing
    }
    expect(same).toBe(true);
    expect(result.manifest.accepted.map(toHex).sort()).toEqual(honestOnly.manifest.accepted.map(toHex).sort());
  }, 600_000);
});
