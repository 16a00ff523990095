// Child process for the ledger's kill -9 test: validates a deterministic stream of windows into
// a ledger, resuming wherever the ledger says, so a parent can kill it at any moment.
import { modelHash } from '../../src/protocol/hash';
import { signContribution, signManifest } from '../../src/protocol/contribution';
import { ed25519Signer } from '../../src/protocol/keys';
import type { Verdict } from '../../src/validator/gauntlet';
import { Ledger } from '../../src/validator/ledger';
import { rewardScore, updateStandings } from '../../src/validator/ratings';
import { toU16Weights } from '../../src/validator/weights';
import { keyAddress } from '../../src/wallet/address';

const [path, windowsArg, perArg] = process.argv.slice(2);
const WINDOWS = Number(windowsArg);
const PER = Number(perArg);
const RUN = 'crash-run';
const ledger = new Ledger(path, RUN);
const validator = ed25519Signer(new Uint8Array(32).fill(99));
const keys = Array.from({ length: PER }, (_, i) => ed25519Signer(new Uint8Array(32).fill(i + 1)));
const resumed = ledger.resume();
let theta = resumed?.theta ?? new Float32Array(64);
process.stdout.write(`ready ${resumed?.window ?? 0}\n`);

for (let w = resumed?.window ?? 0; w < WINDOWS; w++) {
  const base = modelHash(theta);
  const verdicts: Verdict[] = [];
  for (let i = 0; i < PER; i++) {
    const payloadHash = modelHash(Float32Array.of(w, i));
    const c = signContribution(
      {
        runId: RUN,
        window: w,
        baseHash: base,
        payloadHash,
        payloadBytes: 100 + i,
        peerAddress: keyAddress(keys[i].publicKey),
        steps: 5,
        tokens: 320,
        certificate: new Uint8Array(0),
      },
      keys[i],
    );
    // Each arrival is its own commit: the kill can land between any two.
    ledger.recordArrival(c, 1000 * w + i);
    const accepted = (w + i) % 3 !== 0;
    const score = (((i + 1) * (w + 2)) % 7) / 100 - 0.01;
    verdicts.push({
      id: Buffer.from(c.id).toString('hex'),
      address: c.peerAddress,
      key: Buffer.from(c.publicKey).toString('hex'),
      payloadBytes: c.payloadBytes,
      tokens: c.tokens,
      steps: c.steps,
      trainLoss: 3 - w / 10,
      arrivedAt: 1000 * w + i,
      accepted,
      code: accepted ? 'accepted' : 'no-proof-of-work',
      reason: 'scripted',
      earns: true,
      score: { random: score, own: score * 1.2, powT: accepted ? 4 : 1, ownSequences: 32 },
    });
  }
  const standings = updateStandings(
    ledger.standings(),
    w,
    verdicts.map((v) => ({ address: v.address, kind: 'scored' as const, score: v.score?.random ?? 0, pow: v.accepted })),
  );
  const next = theta.map((x, k) => x + Math.fround(0.001 * ((w + k) % 5)));
  const manifest = signManifest({ runId: RUN, window: w, baseHash: base, accepted: [], outerLr: 1, nextHash: modelHash(next) }, validator);
  ledger.closeWindow({
    window: w,
    manifest,
    verdicts,
    next,
    standings,
    weights: toU16Weights(new Map([...standings.values()].map((s) => [s.address, rewardScore(s)]))),
    closedAt: w,
    stats: { valLoss: 3 - w / 10, durationMs: 1000, denseBytesPerUpdate: 256, online: PER },
  });
  theta = next;
}
ledger.close();
process.stdout.write('done\n');
