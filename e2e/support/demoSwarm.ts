// A small live swarm for pages to look at, inside the private namespace: a validator with a
// real ledger, status endpoint and validation curve, two Node peers, and Mallory, whose
// correctly signed contribution carries garbage (so the dashboard has a refusal to show).
// It runs in unit mode (2-step units with receipts), as `npm start` does, so a tab that joins
// trains and proves its work the way a volunteer's does.
import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { relay } from './relay';
import { serveStatus } from '../../server/validatorStatus';
import { requestGpuDevice } from '../../src/gpu/device';
import { initParams } from '../../src/model/init';
import { paramLayout } from '../../src/model/layout';
import { nodeGpu } from '../../src/gpu/nodeGpu';
import type { Mesh } from '../../src/p2p/mesh';
import { toHex } from '../../src/protocol/bytes';
import { signContribution } from '../../src/protocol/contribution';
import { contentHash, modelHash } from '../../src/protocol/hash';
import { ed25519Signer } from '../../src/protocol/keys';
import { encodeWire } from '../../src/protocol/wire';
import type { RunConfig } from '../../src/protocol/runConfig';
import type { ValidatorNode } from '../../src/swarm/validatorNode';
import { randomPages } from '../../src/train/dataPages';
import { CpuLossProbe } from '../../src/validator/cpuLossProbe';
import { LatestModel } from '../../src/validator/latestModel';
import { Ledger } from '../../src/validator/ledger';
import { keyAddress } from '../../src/wallet/address';
import { sessionIdentity } from '../../src/wallet/authority';
import { randomBytes } from '../../test/support/random';
import { startHarnessValidator, startNodePeer } from '../../test/support/nodePeer';
import { until, type Harness } from '../../test/support/swarmHarness';
import { tinyCorpus } from '../../test/support/tinyCorpus';
import { tinyRun } from '../../test/support/tinyRun';

export interface DemoSwarm {
  run: RunConfig;
  signal: string;
  validator: ValidatorNode;
  /** The validator's ledger (what /api/status* answers from) and its mesh (who it is linked to). */
  ledger: Ledger;
  mesh: Mesh;
  /** θ_{w+1}'s hash (hex) the validator decided for each window w. */
  hashes: Map<number, string>;
  malloryAddress: string;
  /** Points the page's /api/status, /api/status/history, /api/model and /api/run at this swarm. */
  route(page: Page): Promise<void>;
}

/** `scored`: the validator also scores a few contributions per window (CPU reference), so standings and weights move. */
export async function startDemoSwarm(h: Harness, o: { windowMs?: number; startInMs?: number; scored?: boolean } = {}): Promise<DemoSwarm> {
  const signal = await h.signalingUrl();
  const { corpus, config } = tinyCorpus();
  const validatorKey = ed25519Signer(new Uint8Array(32).fill(77));
  const run = tinyRun({
    runId: 'demo-run',
    seed: 3,
    startTime: Date.now() + (o.startInMs ?? 4000),
    windowMs: o.windowMs ?? 8000,
    graceMs: 2000,
    uploadMarginMs: 1000,
    unitSteps: 2,
    validatorKeys: [toHex(validatorKey.publicKey)],
  });
  const ctx = await requestGpuDevice({ gpu: nodeGpu(), label: 'e2e-demo-swarm' });
  h.defer(() => ctx.destroy());
  const layout = paramLayout(config);
  const theta0 = initParams(config, layout, run.seed);
  const ledger = new Ledger(join(mkdtempSync(join(tmpdir(), 'tessera-demo-')), 'ledger.sqlite'), run.runId);
  // The validator's latest θ as ONNX at /status/model (the validator is made below; pages ask later).
  const latest = new LatestModel(config, layout, corpus.tokenizer.toJSON(), () => ({ theta: validator.params, window: validator.currentWindow }));
  const status = serveStatus(ledger, 0, '127.0.0.1', undefined, undefined, () => latest.snapshot());
  await new Promise((resolve) => status.once('listening', resolve));
  h.defer(() => [status.close(), ledger.close()]);
  const validation = {
    probe: new CpuLossProbe(config, run.seqLen, corpus.val),
    offsets: await randomPages('tessera/validation', { count: 4, seqLen: run.seqLen, corpusLength: corpus.val.length }),
  };
  const scoring = o.scored
    ? { probe: new CpuLossProbe(config, run.seqLen, corpus.train), limits: { maxScored: 3, ownSequences: 64, randomSequences: 64 } }
    : {};
  const hashes = new Map<number, string>();
  const { validator, mesh: vMesh } = startHarnessValidator(h, signal, {
    room: run.runId,
    run,
    layout,
    signer: validatorKey,
    theta: theta0,
    window: 0,
    corpusLength: corpus.train.length,
    ledger,
    validation,
    ...scoring,
    onDecision: (d) => hashes.set(d.window, toHex(d.manifest.nextHash)),
  });
  for (const [i, name] of ['node-1', 'node-2'].entries()) {
    startNodePeer(h, {
      device: ctx.device,
      url: signal,
      run,
      config,
      train: corpus.train,
      name,
      identity: sessionIdentity(ed25519Signer(new Uint8Array(32).fill(i + 1))),
      start: { theta: theta0, window: 0 },
    });
  }
  // Mallory: a correctly signed header whose payload (served on request, hash intact) is not SparseLoCo.
  const mallory = h.peer(signal, 'mallory', { room: run.runId });
  const malloryKey = ed25519Signer(new Uint8Array(32).fill(66));
  const junk = randomBytes(1500, 3);
  const header = signContribution(
    {
      runId: run.runId,
      window: 0,
      baseHash: modelHash(theta0),
      payloadHash: contentHash(junk),
      payloadBytes: junk.length,
      peerAddress: keyAddress(malloryKey.publicKey),
      steps: 4,
      tokens: 256,
      certificate: new Uint8Array(0),
    },
    malloryKey,
  );
  mallory.on('message', (from, bytes) => {
    if (bytes[0] === 2) void mallory.send(from, encodeWire({ type: 'payload', id: header.id, payload: junk })).catch(() => undefined);
  });
  await until(() => vMesh.neighbours().length >= 3, 20_000);
  h.watch("the demo validator's run()", validator.run());
  await mallory.send('validator', encodeWire({ type: 'announce', contribution: header.bytes }));

  const statusUrl = `http://127.0.0.1:${(status.address() as AddressInfo).port}/status`;
  return {
    run,
    signal,
    validator,
    ledger,
    mesh: vMesh,
    hashes,
    malloryAddress: keyAddress(malloryKey.publicKey),
    route: async (page) => {
      await page.route('**/api/status', (route) => relay(route, statusUrl));
      for (const sub of ['history', 'address']) {
        await page.route(`**/api/status/${sub}?*`, (route) => relay(route, `${statusUrl}/${sub}${new URL(route.request().url()).search}`));
      }
      await page.route('**/api/model', (route) => relay(route, `${statusUrl}/model`));
      await page.route('**/api/run', (route) => route.fulfill({ json: { run, signal } }));
    },
  };
}
