// Every refusal code of docs/VALIDATOR.md's table, asserted by its code: one offender beside
// two plain contributions, decided by the real gauntlet and codec (checks only, no scoring, so
// no other refusal can stand in for the one under test); the scored codes are in adversarial.
import { describe, expect, it } from 'vitest';
import { chunkPlan } from '../../src/compress/chunks';
import { SparseLoCoEncoder } from '../../src/compress/sparseloco';
import { decodeWorkPayload, packWorkPayload, receiptPlan } from '../../src/compress/workPayload';
import { gptConfig } from '../../src/model/config';
import { initParams } from '../../src/model/init';
import { paramLayout } from '../../src/model/layout';
import { signContribution, type Contribution } from '../../src/protocol/contribution';
import { contentHash, modelHash } from '../../src/protocol/hash';
import { ed25519Signer, sr25519Signer } from '../../src/protocol/keys';
import { runGauntlet, type Arrival, type VerdictCode } from '../../src/validator/gauntlet';
import { sessionIdentity, type Identity } from '../../src/wallet/authority';
import { delegateSession, walletPairFromSecret } from '../../src/wallet/keySource';
import { randomBytes, randomFloats } from '../support/random';

const RUN = 'refusal-run';
const WINDOW = 4;
const START = Date.UTC(2026, 11, 1);
const CLOSE = START + 60_000;
const config = gptConfig('tiny', 65);
const layout = paramLayout(config);
const plan = chunkPlan(layout);
const theta = initParams(config, layout, 3);
const other = initParams(config, layout, 4);
const encoder = (): SparseLoCoEncoder => new SparseLoCoEncoder(plan, layout.totalFloats);

/** A payload moving θ by `scale` × a seeded random direction (what training would send, in shape). */
async function payload(seed: number, scale = 1e-3): Promise<Uint8Array> {
  const noise = randomFloats(theta.length, seed);
  return (
    await encoder().encode(
      theta,
      theta.map((v, i) => v + scale * noise[i]),
    )
  ).bytes;
}

const identity = (n: number): Identity => sessionIdentity(sr25519Signer(new Uint8Array(32).fill(n)));

interface Over {
  runId?: string;
  window?: number;
  base?: Float32Array;
  steps?: number;
  address?: string;
  arrivedAt?: number;
}

function arrival(id: Identity, bytes: Uint8Array, o: Over = {}): Arrival {
  const header: Contribution = signContribution(
    {
      runId: o.runId ?? RUN,
      window: o.window ?? WINDOW,
      baseHash: modelHash(o.base ?? theta),
      payloadHash: contentHash(bytes),
      payloadBytes: bytes.length,
      peerAddress: o.address ?? id.address,
      steps: o.steps ?? 10,
      tokens: 640,
      certificate: id.certificate,
    },
    id.signer,
  );
  return { header, payload: bytes, arrivedAt: o.arrivedAt ?? START + 30_000 };
}

/** The offender's code, beside two plain contributions that pass every check. */
async function codeOf(
  offender: (plain: Arrival[]) => Promise<Arrival> | Arrival,
  units?: { unitSteps: number; plain: Arrival[] },
): Promise<{ code: VerdictCode; plain: VerdictCode[] }> {
  const plain = units?.plain ?? [arrival(identity(1), await payload(1)), arrival(identity(2), await payload(2))];
  const bad = await offender(plain);
  const result = await runGauntlet({
    runId: RUN,
    window: WINDOW,
    windowStartMs: START,
    closeAt: CLOSE,
    minSteps: 3,
    maxSteps: 20,
    outerLr: 1,
    sequencesPerStep: 2,
    seqLen: 32,
    corpusLength: 1_000_000,
    theta,
    plan,
    arrivals: [...plain, bad],
    signer: ed25519Signer(new Uint8Array(32).fill(9)),
    unitSteps: units?.unitSteps,
  });
  const verdict = (a: Arrival): VerdictCode =>
    result.verdicts.find((v) => v.id === Buffer.from(a.header.id).toString('hex'))?.code ?? ('missing' as VerdictCode);
  return { code: verdict(bad), plain: plain.map(verdict) };
}

/** A receipt as a peer makes one: the receipt plan's encoder (β = 0) on θ_w → θ after a unit. */
async function receiptOf(rplan: ReturnType<typeof receiptPlan>, base: Float32Array, after: Float32Array): Promise<Uint8Array> {
  return (await new SparseLoCoEncoder(rplan, base.length).encode(base, after)).bytes;
}
describe('every refusal code of the gauntlet, by its code', () => {
  const cases: [VerdictCode, string, (plain: Arrival[]) => Promise<Arrival> | Arrival][] = [
    ['wrong-run', 'a header for another run', async () => arrival(identity(3), await payload(3), { runId: 'another-run' })],
    ['wrong-window', 'a replay of an older window', async () => arrival(identity(3), await payload(3), { window: WINDOW - 1 })],
    [
      'unauthorized',
      "claims Alice's address without her certificate",
      async () => arrival(identity(3), await payload(3), { address: walletPairFromSecret('//Alice').address }),
    ],
    ['stale-base', 'trained on another base model', async () => arrival(identity(3), await payload(3), { base: other })],
    ['too-few-steps', 'fewer inner steps than the run requires', async () => arrival(identity(3), await payload(3), { steps: 2 })],
    ['too-many-steps', 'more inner steps than the run allows (a lie about its work)', async () => arrival(identity(3), await payload(3), { steps: 21 })],
    ['late', 'complete after the close', async () => arrival(identity(3), await payload(3), { arrivedAt: CLOSE + 1 })],
    ['duplicate-payload', 'the same bytes as an earlier contribution', (plain) => arrival(identity(3), plain[0].payload, { arrivedAt: START + 40_000 })],
    ['undecodable', 'random bytes as a payload', () => arrival(identity(3), randomBytes(1500, 7))],
    ['same-key', 'a second contribution from one key', async () => arrival(identity(1), await payload(3), { arrivedAt: START + 40_000 })],
    [
      'same-address',
      'a second session key earning for the same wallet',
      async (plain) => {
        const wallet = walletPairFromSecret('//Bob');
        const k1 = sr25519Signer(new Uint8Array(32).fill(21));
        const k2 = sr25519Signer(new Uint8Array(32).fill(22));
        plain[1] = arrival(sessionIdentity(k1, delegateSession(wallet, k1, RUN, START - 1000)), await payload(2));
        return arrival(sessionIdentity(k2, delegateSession(wallet, k2, RUN, START - 1000)), await payload(3), { arrivedAt: START + 40_000 });
      },
    ],
    ['norm-outlier', 'an update scaled ×100', async () => arrival(identity(3), await payload(3, 0.1))],
    [
      'copy',
      'another peer’s update re-encoded at 1.01×',
      async () => {
        const noise = randomFloats(theta.length, 1);
        const bytes = (
          await encoder().encode(
            theta,
            theta.map((v, i) => v + 1.01e-3 * noise[i]),
          )
        ).bytes;
        return arrival(identity(3), bytes, { arrivedAt: START + 40_000 });
      },
    ],
  ];
  for (const [code, what, offender] of cases) {
    it(`${code}: ${what}`, async () => {
      const r = await codeOf(offender);
      expect(r.code).toBe(code);
      expect(r.plain).toEqual(['accepted-unscored', 'accepted-unscored']);
    });
  }
});

describe('refusal codes of unit mode (4-step units, one receipt each)', () => {
  /** A unit-mode payload: the main update and `receipts` receipts, each a seeded direction. */
  async function workPayload(seed: number, receipts: number): Promise<Uint8Array> {
    const rplan = receiptPlan(layout);
    const parts = await Promise.all(
      [...Array(receipts).keys()].map(async (u) => {
        const noise = randomFloats(theta.length, seed * 100 + u);
        return receiptOf(
          rplan,
          theta,
          theta.map((v, i) => v + 1e-3 * noise[i]),
        );
      }),
    );
    return packWorkPayload({ main: await payload(seed), receipts: parts });
  }
  const plainUnits = async (): Promise<Arrival[]> => [
    arrival(identity(1), await workPayload(1, 2), { steps: 8 }),
    arrival(identity(2), await workPayload(2, 3), { steps: 12 }),
  ];
  const cases: [VerdictCode, string, () => Promise<Arrival>][] = [
    ['wrong-units', 'steps that are not whole units', async () => arrival(identity(3), await workPayload(3, 2), { steps: 10 })],
    ['wrong-units', 'fewer receipts than the units its steps claim', async () => arrival(identity(3), await workPayload(3, 2), { steps: 12 })],
    [
      'wrong-units',
      'one unit’s receipt sent twice, as two units',
      async () => {
        const one = decodeWorkPayload(await workPayload(3, 1), plan).receipts[0];
        return arrival(identity(3), packWorkPayload({ main: await payload(3), receipts: [one, one] }), { steps: 8 });
      },
    ],
    ['undecodable', 'a plain SparseLoCo payload, without receipts', async () => arrival(identity(3), await payload(3), { steps: 8 })],
    ['undecodable', 'a truncated work payload', async () => arrival(identity(3), (await workPayload(3, 2)).subarray(0, 400), { steps: 8 })],
  ];
  for (const [code, what, offender] of cases) {
    it(`${code}: ${what}`, async () => {
      const r = await codeOf(offender, { unitSteps: 4, plain: await plainUnits() });
      expect(r.code).toBe(code);
      expect(r.plain).toEqual(['accepted-unscored', 'accepted-unscored']);
    });
  }
});
