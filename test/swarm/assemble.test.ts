// The one composition root (src/swarm/assemble.ts) on the Node platform: a peer and a validator
// opened from a run close a window together, on the platform's clock rather than the wall's.
import { afterEach, describe, expect, it } from 'vitest';
import { nodePlatform } from '../../src/node/nodePlatform';
import { toHex } from '../../src/protocol/bytes';
import { systemClock, type Clock } from '../../src/protocol/clock';
import { manifestDue } from '../../src/protocol/runConfig';
import { ed25519Signer, randomSigner } from '../../src/protocol/keys';
import { openPeer, openValidator } from '../../src/swarm/assemble';
import type { WindowReport } from '../../src/swarm/swarmPeer';
import { sessionIdentity } from '../../src/wallet/authority';
import { assertPrivateNetwork } from '../support/privateNetwork';
import { Harness, until } from '../support/swarmHarness';
import { tinyRun } from '../support/tinyRun';

const h = new Harness();
afterEach(() => h.cleanup());

/** A clock an hour behind the wall: anything that reads Date.now() instead of it sees the run ~450 windows on. */
const HOUR = 3_600_000;
const behind: Clock = { ...systemClock, now: () => Date.now() - HOUR };

describe('assemble', () => {
  it('openPeer and openValidator close a window on one hash, every deadline read from the platform clock', { timeout: 90_000 }, async () => {
    assertPrivateNetwork();
    const validatorKey = ed25519Signer(new Uint8Array(32).fill(7));
    const run = tinyRun({
      runId: 'assemble',
      seed: 3,
      startTime: behind.now() + 3000,
      windowMs: 8000,
      graceMs: 2000,
      uploadMarginMs: 1000,
      maxSteps: 4,
      validatorKeys: [toHex(validatorKey.publicKey)],
    });
    const signalUrl = await h.signalingUrl();
    const lines: string[] = [];
    const platform = (name: string) => nodePlatform(name, (l) => lines.push(`[${name}] ${l}`), behind);
    const hashes: string[] = [];
    const judged: { verdicts: number; at: number }[] = [];
    const validator = await openValidator(platform('v'), run, {
      signalUrl,
      signer: validatorKey,
      scoring: 'cpu',
      onDecision: (d) => (hashes.push(toHex(d.manifest.nextHash)), judged.push({ verdicts: d.verdicts.length, at: behind.now() })),
    });
    h.defer(validator.stop);
    const reports: WindowReport[] = [];
    const peer = await openPeer(platform('p'), run, { signalUrl, identity: sessionIdentity(randomSigner()), onWindow: (r) => reports.push(r) });
    h.defer(peer.stop);
    expect(peer.fresh).toBe(true); // window 0 on the platform's clock; on the wall's it would be ~450
    h.watch('validator', validator.run());
    h.watch('peer', peer.run());
    await until(() => reports.length > 0 && hashes.length > 0, 60_000);
    expect(reports[0]).toMatchObject({ window: 0, contributed: true });
    expect(reports[0].steps).toBeGreaterThanOrEqual(run.minSteps);
    // The validator closed window 0 at its due time on the platform clock, with the peer's contribution in hand.
    expect(judged[0].verdicts).toBe(1);
    expect(judged[0].at).toBeGreaterThanOrEqual(manifestDue(run, 0));
    expect(reports[0].hash).toBe(hashes[0]);
    expect(validator.probes.label).toMatch(/onnxruntime-web on the CPU/);
    expect(lines.some((l) => l.startsWith('[p] neighbour') && l.includes(' up '))).toBe(true);
  });
});
