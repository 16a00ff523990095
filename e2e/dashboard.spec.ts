// The Dashboard on a running swarm (inside the private namespace): a validator with a real
// ledger and status endpoint, two Node peers and a peer whose payload is garbage; the page
// lists the windows, the peers and the refused contribution with its reason.
import { mkdtempSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { serveStatus } from '../server/validatorStatus';
import { gptConfig } from '../src/gpu/config';
import { requestGpuDevice } from '../src/gpu/device';
import { initParams } from '../src/gpu/init';
import { GpuGpt } from '../src/gpu/model';
import { nodeGpu } from '../src/gpu/nodeGpu';
import { ContributionExchange } from '../src/p2p/exchange';
import { toHex } from '../src/protocol/bytes';
import { signContribution } from '../src/protocol/contribution';
import { contentHash, modelHash } from '../src/protocol/hash';
import { ed25519Signer } from '../src/protocol/keys';
import { encodeWire } from '../src/protocol/wire';
import type { RunConfig } from '../src/swarm/runConfig';
import { SwarmPeer } from '../src/swarm/swarmPeer';
import { ValidatorNode } from '../src/swarm/validatorNode';
import { GpuWindowTrainer } from '../src/swarm/windowTrainer';
import { CharTokenizer, splitCorpus } from '../src/train/tokenizer';
import { Ledger } from '../src/validator/ledger';
import { keyAddress } from '../src/wallet/address';
import { sessionIdentity } from '../src/wallet/authority';
import { assertPrivateNetwork } from '../test/support/privateNetwork';
import { randomBytes } from '../test/support/random';
import { Harness, until } from '../test/support/swarmHarness';

test.setTimeout(150_000);

test('the dashboard shows the windows, the peers and a refused contribution with its reason', async ({ page }) => {
  assertPrivateNetwork();
  const h = new Harness();
  try {
    const url = await h.signalingUrl();
    const text = readFileSync('public/data/tinyshakespeare.txt', 'utf8');
    const corpus = splitCorpus(CharTokenizer.fromText(text), text);
    const config = gptConfig('tiny', corpus.tokenizer.vocabSize);
    const validatorKey = ed25519Signer(new Uint8Array(32).fill(77));
    const run: RunConfig = {
      runId: 'dashboard-run', preset: 'tiny', seed: 3, startTime: Date.now() + 4000, windowMs: 8000, graceMs: 2000, uploadMarginMs: 1000, minSteps: 2,
      batchSize: 2, seqLen: 32, outerLr: 1, innerSchedule: { maxLr: 3e-3, minLr: 3e-4, warmupSteps: 5, decaySteps: 300 }, validatorKeys: [toHex(validatorKey.publicKey)],
    };
    const ctx = await requestGpuDevice({ gpu: nodeGpu(), label: 'e2e-dashboard' });
    h.defer(() => ctx.destroy());
    const layout = new GpuGpt(ctx.device, { config, batchSize: 1, seqLen: 8 }).layout;
    const theta0 = initParams(config, layout, run.seed);
    const ledger = new Ledger(join(mkdtempSync(join(tmpdir(), 'tessera-dash-')), 'ledger.sqlite'), run.runId);
    const status = serveStatus(ledger, 0, '127.0.0.1');
    await new Promise((resolve) => status.once('listening', resolve));
    h.defer(() => [status.close(), ledger.close()]);
    const vMesh = h.peer(url, 'validator', { room: run.runId });
    const vExchange = new ContributionExchange({ mesh: vMesh, runId: run.runId });
    const validator = new ValidatorNode({ run, layout, exchange: vExchange, mesh: vMesh, signer: validatorKey, theta: theta0, window: 0, corpusLength: corpus.train.length, ledger });
    h.defer(() => [validator.stop(), vExchange.close()]);
    for (const [i, name] of ['node-1', 'node-2'].entries()) {
      const mesh = h.peer(url, name, { room: run.runId });
      const exchange = new ContributionExchange({ mesh, runId: run.runId });
      const model = new GpuGpt(ctx.device, { config, batchSize: run.batchSize, seqLen: run.seqLen });
      const peer = new SwarmPeer({ run, trainer: new GpuWindowTrainer(model, corpus.train), layout: model.layout, exchange, mesh, traffic: mesh.traffic, identity: sessionIdentity(ed25519Signer(new Uint8Array(32).fill(i + 1))), start: { theta: theta0, window: 0 } });
      const running = peer.run();
      h.defer(async () => {
        peer.stop();
        await running.catch(() => undefined);
        exchange.close();
        model.destroy();
      });
    }
    // Mallory: a correctly signed header whose payload (served on request, hash intact) is not SparseLoCo.
    const mallory = h.peer(url, 'mallory', { room: run.runId });
    const malloryKey = ed25519Signer(new Uint8Array(32).fill(66));
    const junk = randomBytes(1500, 3);
    const header = signContribution({ runId: run.runId, window: 0, baseHash: modelHash(theta0), payloadHash: contentHash(junk), payloadBytes: junk.length, peerAddress: keyAddress(malloryKey.publicKey), steps: 5, tokens: 320, certificate: new Uint8Array(0) }, malloryKey);
    mallory.on('message', (from, bytes) => {
      if (bytes[0] === 2) void mallory.send(from, encodeWire({ type: 'payload', id: header.id, payload: junk })).catch(() => undefined);
    });
    await until(() => vMesh.neighbours().length >= 3, 20_000);
    void validator.run();
    await mallory.send('validator', encodeWire({ type: 'announce', contribution: header.bytes }));

    await until(() => validator.currentWindow >= 3, 90_000);
    const statusUrl = `http://127.0.0.1:${(status.address() as AddressInfo).port}/status`;
    await page.route('**/api/status', async (route) => route.fulfill({ response: await route.fetch({ url: statusUrl }) }));
    await page.goto('/dashboard');
    await expect(page.getByTestId('dashboard')).toHaveAttribute('data-state', 'ok');
    await expect.poll(() => page.locator('[data-testid="dashboard-windows"] tbody tr').count()).toBeGreaterThanOrEqual(3);
    await expect(page.locator('[data-testid="dashboard-peers"] tbody tr')).not.toHaveCount(0);
    const refused = page.locator('[data-testid="dashboard-rejections"] li[data-code="undecodable"]');
    await expect(refused).toContainText('not a SparseLoCo payload');
    await expect(refused).toContainText(keyAddress(malloryKey.publicKey).slice(0, 8));
  } finally {
    await h.cleanup();
  }
});
