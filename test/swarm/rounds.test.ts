// Whole windows across real peers: a validator and Node peers (Dawn, WebRTC, the real
// signaling server) train tiny; after every window each replica holds the manifest's model
// hash. A newcomer syncs the checkpoint and contributes; a peer that dies stalls no one; a
// peer that lies or sends garbage is dropped and never counted.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { gptConfig } from '../../src/model/config';
import { requestGpuDevice, type GpuContext } from '../../src/gpu/device';
import { initParams } from '../../src/model/init';
import { GpuGpt } from '../../src/gpu/model';
import { nodeGpu } from '../../src/gpu/nodeGpu';
import { ContributionExchange } from '../../src/p2p/exchange';
import type { Mesh } from '../../src/p2p/mesh';
import { toHex } from '../../src/protocol/bytes';
import { signContribution } from '../../src/protocol/contribution';
import { contentHash, modelHash } from '../../src/protocol/hash';
import { ed25519Signer } from '../../src/protocol/keys';
import { decodeWire, encodeWire, MAX_WIRE_BYTES } from '../../src/protocol/wire';
import type { RunConfig } from '../../src/protocol/runConfig';
import { SwarmPeer, type WindowReport } from '../../src/swarm/swarmPeer';
import { startHarnessValidator } from '../support/nodePeer';
import { GpuWindowTrainer } from '../../src/swarm/windowTrainer';
import { randomPages } from '../../src/train/dataPages';
import { validationLoss } from '../../src/train/innerLoop';
import { charCorpus } from '../../src/train/tokenizer';
import type { WindowDecision } from '../../src/validator/manifest';
import { keyAddress } from '../../src/wallet/address';
import { sessionIdentity } from '../../src/wallet/authority';
import { delegateSession, walletPairFromSecret } from '../../src/wallet/keySource';
import { assertPrivateNetwork } from '../support/privateNetwork';
import { randomBytes } from '../support/random';
import { Harness, until as untilCondition } from '../support/swarmHarness';

const h = new Harness();
/** Runs (validators', peers') that rejected: each fails the waits below at once, and the test at cleanup. */
const runFailures: Error[] = [];
/** Which test a run belongs to: one that rejects only after its test's cleanup gave up on it is not blamed on the next. */
let generation = 0;
afterEach(async () => {
  await h.cleanup(); // stops every run and awaits it, so a rejection on the way out lands here too
  generation++;
  const failed = runFailures.splice(0);
  if (failed.length) throw failed[0];
});

/** A wait on `check` that a run's rejection ends at once, failing the test. */
function until(check: () => boolean, ms?: number): Promise<void> {
  return untilCondition(() => {
    if (runFailures.length) throw runFailures[0];
    return check();
  }, ms);
}

/**
 * Starts `node`'s loop and keeps its promise: a rejection is recorded (failing the waits and
 * the test); cleanup stops the node and awaits its loop for at most `settleMs`. (A
 * ValidatorNode stopped while it waits for a window's deadline never settles: stop() clears
 * that timer without resolving it. Its rejections while it ran still count.)
 */
function start(name: string, node: { run(): Promise<void>; stop(): void }, settleMs = 20_000): void {
  const mine = generation;
  const running = node.run().catch((err: unknown) => {
    if (generation === mine) runFailures.push(new Error(`${name}'s run() rejected: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`));
  });
  h.defer(async () => {
    node.stop();
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([running, new Promise((resolve) => (timer = setTimeout(resolve, settleMs)))]);
    clearTimeout(timer);
  });
}

/** Validators' loops: see start(). */
const VALIDATOR_SETTLE_MS = 3000;

const text = readFileSync('public/data/tinyshakespeare.txt', 'utf8');
const corpus = charCorpus(text);
const config = gptConfig('tiny', corpus.tokenizer.vocabSize);
const validatorKey = ed25519Signer(new Uint8Array(32).fill(42));

function runConfig(): RunConfig {
  return {
    runId: 'test-run',
    preset: 'tiny',
    seed: 1,
    startTime: Date.now() + 3000,
    windowMs: 8000,
    graceMs: 2000,
    uploadMarginMs: 1000,
    minSteps: 3,
    maxSteps: 7,
    batchSize: 2,
    seqLen: 32,
    outerLr: 1,
    innerSchedule: { maxLr: 3e-3, minLr: 3e-4, warmupSteps: 5, decaySteps: 200 },
    validatorKeys: [toHex(validatorKey.publicKey)],
  };
}

/** A validator and a way to add peers, all on one Dawn device, meshed through one server. */
async function swarm(run: RunConfig) {
  assertPrivateNetwork();
  const ctx: GpuContext = await requestGpuDevice({ gpu: nodeGpu(), label: 'swarm-test' });
  h.defer(() => ctx.destroy());
  const server = await h.signalingServer();
  const url = server.url;
  const model = (): GpuGpt => {
    const m = new GpuGpt(ctx.device, { config, batchSize: run.batchSize, seqLen: run.seqLen });
    h.defer(() => m.destroy());
    return m;
  };
  const probe = model();
  const theta0 = initParams(config, probe.layout, run.seed);
  const decisions: WindowDecision[] = [];
  const { validator, mesh: vMesh } = startHarnessValidator(h, url, {
    run,
    layout: probe.layout,
    signer: validatorKey,
    theta: theta0,
    window: 0,
    corpusLength: corpus.train.length,
    onDecision: (d) => decisions.push(d),
  });
  const reports = new Map<string, WindowReport[]>();
  const addresses = new Map<string, string>();
  /** alice contributes for a headless wallet (//Alice) through a certificate; the rest anonymously. */
  /** Stops a peer as a killed process would: its loop, its exchange and every link at once. */
  const kills = new Map<string, () => void>();
  const meshes = new Map<string, Mesh>();
  const addPeer = (
    name: string,
    seed: number,
    start?: { theta: Float32Array; window: number },
    onSync?: (received: number, total: number) => void,
  ): SwarmPeer => {
    const signer = ed25519Signer(new Uint8Array(32).fill(seed));
    const identity = sessionIdentity(signer, name === 'alice' ? delegateSession(walletPairFromSecret('//Alice'), signer, run.runId, run.startTime) : undefined);
    addresses.set(name, identity.address);
    const mesh = h.peer(url, name);
    meshes.set(name, mesh);
    const exchange = new ContributionExchange({ mesh, runId: run.runId });
    reports.set(name, []);
    const m = model();
    const peer = new SwarmPeer({
      run,
      trainer: new GpuWindowTrainer(m, corpus.train),
      layout: m.layout,
      exchange,
      mesh,
      traffic: mesh.traffic,
      identity,
      start,
      onSync,
      onWindow: (r) => reports.get(name)?.push(r),
    });
    kills.set(name, () => [peer.stop(), exchange.close(), mesh.close()]);
    h.defer(() => [peer.stop(), exchange.close()]);
    return peer;
  };
  /** alice and bob from θ_0, meshed with the validator, all running. */
  const startPair = async (): Promise<SwarmPeer[]> => {
    const peers = ['alice', 'bob'].map((name, i) => addPeer(name, i + 1, { theta: theta0, window: 0 }));
    await until(() => vMesh.neighbours().length >= 2, 10_000);
    start('validator', validator, VALIDATOR_SETTLE_MS);
    for (const [i, p] of peers.entries()) start(['alice', 'bob'][i], p);
    return peers;
  };
  return { probe, theta0, vMesh, validator, decisions, reports, addresses, addPeer, kills, meshes, server, startPair, url };
}

describe('swarm rounds', () => {
  // One swarm for both: a peer sending garbage frames, oversized frames and wrong-hash payloads
  // in window 0 is dropped and never counted, and the honest pair's three windows go on.
  it('four windows: every replica holds the manifest hash, validation loss falls, and a peer sending garbage is dropped and never counted', async () => {
    const WINDOWS = 4;
    const run = runConfig();
    const s = await swarm(run);
    await s.startPair();
    const mallory = h.peer(s.url, 'mallory');
    await until(() => mallory.neighbours().length === 3, 20_000);
    // A correctly signed header for window 0 whose payload, when pulled, is other bytes.
    const claimed = randomBytes(2000, 1);
    const malloryKey = ed25519Signer(new Uint8Array(32).fill(66));
    const header = signContribution(
      {
        runId: run.runId,
        window: 0,
        baseHash: modelHash(s.theta0),
        payloadHash: contentHash(claimed),
        payloadBytes: claimed.length,
        peerAddress: keyAddress(malloryKey.publicKey),
        steps: 5,
        tokens: 320,
        certificate: new Uint8Array(0),
      },
      malloryKey,
    );
    mallory.on('message', (from, bytes) => {
      if (bytes[0] === 2) void mallory.send(from, encodeWire({ type: 'payload', id: header.id, payload: randomBytes(2000, 2) })).catch(() => undefined);
    });
    await mallory.send('alice', encodeWire({ type: 'announce', contribution: header.bytes }));
    await mallory.send('bob', Uint8Array.of(99, 1, 2, 3)); // a frame no protocol message starts with
    // A message one byte over the largest the protocol has: refused on its first frame.
    void mallory.send('validator', new Uint8Array(MAX_WIRE_BYTES + 1)).catch(() => undefined);
    await until(() => mallory.neighbours().length === 0, 20_000);
    expect(s.vMesh.isBanned('mallory')).toBe(true);
    await until(() => [...s.reports.values()].every((r) => r.length >= WINDOWS), 80_000);
    for (const d of s.decisions) expect(d.accepted.map((c) => c.header.peerAddress)).not.toContain(keyAddress(malloryKey.publicKey));

    let bothIn = 0;
    for (let w = 0; w < WINDOWS; w++) {
      const expected = toHex(s.decisions[w].manifest.nextHash);
      for (const [name, r] of s.reports) {
        expect(r[w].window, name).toBe(w);
        expect(r[w].hash, `${name} after window ${w}`).toBe(expected);
        expect(r[w].included).toBe(s.decisions[w].accepted.some((c) => c.header.peerAddress === s.addresses.get(name)));
      }
      if (s.decisions[w].accepted.length === 2) bothIn++;
    }
    // A loaded machine (or mallory's flood in window 0) can make a peer miss a deadline; half
    // the windows must carry both.
    expect(bothIn).toBeGreaterThanOrEqual(2);
    // The run's cap holds: without it alice fitted 9 steps a window here, bob 6.
    for (const [name, r] of s.reports) for (const x of r) expect(x.steps, `${name} window ${x.window}`).toBeLessThanOrEqual(run.maxSteps ?? 0);
    const val = await randomPages('swarm-test/val', { count: 4 * run.batchSize, seqLen: run.seqLen, corpusLength: corpus.val.length });
    s.probe.setParams(s.theta0);
    const before = await validationLoss(s.probe, corpus.val, val);
    s.probe.setParams(s.decisions[WINDOWS - 1].next);
    const after = await validationLoss(s.probe, corpus.val, val);
    expect(toHex(modelHash(s.decisions[WINDOWS - 1].next))).toBe(s.reports.get('alice')?.[WINDOWS - 1].hash);
    expect(after).toBeLessThan(before - 0.1);
  });

  it('a late joiner syncs the checkpoint while a serving peer is killed, and contributes; no one stalls', async () => {
    const run = runConfig();
    const s = await swarm(run);
    await s.startPair();
    await until(() => s.decisions.length >= 1, 30_000);
    // Carol has no model and must sync. She asks her open neighbours for θ's chunks, one
    // chunk each: the first peer replica (alice or bob, not the validator) whose chunk lands
    // is killed at once, so the download finishes from the others.
    const progress: [number, number][] = [];
    const carol = s.addPeer('carol', 3, undefined, (received, total) => void progress.push([received, total]));
    const carolMesh = s.meshes.get('carol') as Mesh;
    const chunksFrom = new Map<string, number>();
    let killed: { name: string; served: number; atProgress: number } | undefined;
    carolMesh.on('message', (from, bytes) => {
      // After the exchange's own listener: the chunk has been checked and counted.
      if (decodeWire(bytes).type !== 'checkpoint-chunk') return;
      chunksFrom.set(from, (chunksFrom.get(from) ?? 0) + 1);
      if (killed || from === 'validator') return;
      killed = { name: from, served: chunksFrom.get(from) ?? 0, atProgress: progress.length };
      s.kills.get(from)?.();
    });
    // All three neighbours open before she syncs: her two chunk requests go to two of them,
    // so at least one goes to a peer replica.
    await until(() => carolMesh.neighbours().length === 3, 20_000);
    const synced: number[] = [];
    start('carol', carol);
    await until(() => carol.isSynced, 30_000);
    synced.push(carol.currentWindow);
    const total = progress[0][1];
    expect(total).toBeGreaterThan(1); // θ came in several chunks
    expect(progress.at(-1)).toEqual([total, total]);
    // The killed peer was serving: one of its chunks had landed (and counted) before the kill.
    expect(['alice', 'bob']).toContain(killed?.name);
    expect(killed?.served).toBeGreaterThanOrEqual(1);
    expect(killed?.atProgress).toBeGreaterThanOrEqual(1);
    const survivor = killed?.name === 'alice' ? 'bob' : 'alice';
    await until(() => (s.reports.get('carol')?.length ?? 0) >= 2, 60_000);
    const carolReports = s.reports.get('carol') ?? [];
    // Carol's windows agree with the validator's manifests, and she got into one.
    for (const r of carolReports) expect(r.hash).toBe(toHex(s.decisions[r.window].manifest.nextHash));
    expect(carolReports.some((r) => r.included)).toBe(true);
    // The survivor never waited more than one window: it reported every window the validator closed.
    const survivorWindows = (s.reports.get(survivor) ?? []).map((r) => r.window);
    expect(survivorWindows).toEqual(Array.from({ length: survivorWindows.length }, (_, i) => i));
    expect(survivorWindows.length).toBeGreaterThanOrEqual(s.decisions.length - 1);
    expect(synced[0]).toBeGreaterThanOrEqual(1);
  });

  it('when the first validator stops, the swarm goes on with the second one’s manifests', async () => {
    const standbyKey = ed25519Signer(new Uint8Array(32).fill(43));
    const run = { ...runConfig(), validatorKeys: [toHex(validatorKey.publicKey), toHex(standbyKey.publicKey)] };
    const s = await swarm(run);
    const standbyDecisions = new Map<number, WindowDecision>();
    const { validator: standby } = startHarnessValidator(h, s.url, {
      name: 'standby',
      run,
      layout: s.probe.layout,
      signer: standbyKey,
      theta: s.theta0,
      window: 0,
      corpusLength: corpus.train.length,
      onDecision: (d) => standbyDecisions.set(d.window, d),
    });
    start('standby', standby, VALIDATOR_SETTLE_MS);
    await s.startPair();
    await until(() => s.decisions.length >= 2, 40_000);
    s.validator.stop(); // the primary goes silent for good
    const stoppedAt = s.decisions.length;
    await until(() => [...s.reports.values()].every((r) => r.length >= stoppedAt + 2), 60_000);
    // A peer may apply the standby's manifest before the standby's own callback has run.
    let seen: [string, WindowReport[]][] = [];
    await until(() => {
      seen = [...s.reports].map(([name, r]) => [name, r.slice()]);
      return seen.every(([, r]) => r.every((x) => x.window < stoppedAt || standbyDecisions.has(x.window)));
    }, 20_000);
    for (const [name, reports] of seen) {
      // No window skipped; before the stop the primary's model, after it the standby's.
      expect(
        reports.map((r) => r.window),
        name,
      ).toEqual(Array.from({ length: reports.length }, (_, i) => i));
      for (const r of reports) {
        const followed = r.window < stoppedAt ? s.decisions[r.window] : standbyDecisions.get(r.window);
        expect(r.hash, `${name} window ${r.window}`).toBe(toHex(followed?.manifest.nextHash ?? new Uint8Array(0)));
      }
    }
    // The standby tracked the primary's model while it was alive, so its own manifests fit.
    expect(standby.currentWindow).toBeGreaterThanOrEqual(stoppedAt + 2);
  });

  it('the signaling server restarts mid-run and no window is lost', async () => {
    const run = runConfig();
    const s = await swarm(run);
    await s.startPair();
    await until(() => s.decisions.length >= 1, 30_000);
    await s.server.restart(2000); // WebRTC links outlive it; clients rejoin with backoff
    const restartedAt = s.decisions.length;
    await until(() => s.decisions.length >= restartedAt + 2 && [...s.reports.values()].every((r) => r.length >= restartedAt + 2), 60_000);
    for (const [name, r] of s.reports) {
      expect(
        r.map((x) => x.window),
        name,
      ).toEqual(r.map((_, i) => i));
      for (const x of r) expect(x.hash).toBe(toHex(s.decisions[x.window].manifest.nextHash));
    }
    // Contributions still flow after the restart (a loaded machine may make one window miss).
    expect(s.decisions.slice(restartedAt, restartedAt + 2).some((d) => d.accepted.length >= 1)).toBe(true);
  });
});
