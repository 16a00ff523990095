// The Dashboard on a running swarm (inside the private namespace): a validator with a real
// ledger and status endpoint, two Node peers and a peer whose payload is garbage; the page
// charts the validation loss over ≥ 3 windows and lists the peers and the refused contribution.
import { mkdtempSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { serveStatus } from '../server/validatorStatus';
import { gptConfig } from '../src/gpu/config';
import { requestGpuDevice } from '../src/gpu/device';
import { initParams } from '../src/gpu/init';
import { paramLayout } from '../src/gpu/layout';
import { nodeGpu } from '../src/gpu/nodeGpu';
import { ContributionExchange } from '../src/p2p/exchange';
import { toHex } from '../src/protocol/bytes';
import { signContribution } from '../src/protocol/contribution';
import { contentHash, modelHash } from '../src/protocol/hash';
import { ed25519Signer } from '../src/protocol/keys';
import { encodeWire } from '../src/protocol/wire';
import type { RunConfig } from '../src/swarm/runConfig';
import { ValidatorNode } from '../src/swarm/validatorNode';
import { randomPages } from '../src/train/dataPages';
import { CharTokenizer, splitCorpus } from '../src/train/tokenizer';
import { CpuLossProbe } from '../src/validator/cpuLossProbe';
import { Ledger } from '../src/validator/ledger';
import { keyAddress } from '../src/wallet/address';
import { sessionIdentity } from '../src/wallet/authority';
import { assertPrivateNetwork } from '../test/support/privateNetwork';
import { randomBytes } from '../test/support/random';
import { startNodePeer } from '../test/support/nodePeer';
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
    const layout = paramLayout(config);
    const theta0 = initParams(config, layout, run.seed);
    const ledger = new Ledger(join(mkdtempSync(join(tmpdir(), 'tessera-dash-')), 'ledger.sqlite'), run.runId);
    const status = serveStatus(ledger, 0, '127.0.0.1');
    await new Promise((resolve) => status.once('listening', resolve));
    h.defer(() => [status.close(), ledger.close()]);
    const vMesh = h.peer(url, 'validator', { room: run.runId });
    const vExchange = new ContributionExchange({ mesh: vMesh, runId: run.runId });
    const validation = { probe: new CpuLossProbe(config, run.seqLen, corpus.val), offsets: await randomPages('tessera/validation', { count: 4, seqLen: run.seqLen, corpusLength: corpus.val.length }) };
    const validator = new ValidatorNode({ run, layout, exchange: vExchange, mesh: vMesh, signer: validatorKey, theta: theta0, window: 0, corpusLength: corpus.train.length, ledger, validation });
    h.defer(() => [validator.stop(), vExchange.close()]);
    for (const [i, name] of ['node-1', 'node-2'].entries()) {
      startNodePeer(h, { device: ctx.device, url, run, config, train: corpus.train, name, identity: sessionIdentity(ed25519Signer(new Uint8Array(32).fill(i + 1))), start: { theta: theta0, window: 0 } });
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
    await page.route('**/api/status/history?*', async (route) => route.fulfill({ response: await route.fetch({ url: `${statusUrl}/history${new URL(route.request().url()).search}` }) }));
    await page.goto('/dashboard');
    await expect(page.getByTestId('dashboard')).toHaveAttribute('data-state', 'ok');
    // The validation loss the validator measured after each window, drawn by uPlot.
    const lossChart = page.getByTestId('dashboard-loss-chart');
    await expect.poll(async () => Number(await lossChart.getAttribute('data-points'))).toBeGreaterThanOrEqual(3);
    await expect(lossChart.locator('canvas')).toHaveCount(1);
    expect(await lossChart.getAttribute('aria-label')).toMatch(/validation \(measured\) \d\.\d+/);
    // Both honest peers reported their training loss with each contribution.
    await expect.poll(async () => Number(await page.getByTestId('dashboard-peer-loss-chart').getAttribute('data-points'))).toBeGreaterThanOrEqual(1);
    await expect(page.getByTestId('run-charts-latest')).toContainText(/compression/);
    await expect.poll(() => page.locator('[data-testid="dashboard-windows"] tbody tr').count()).toBeGreaterThanOrEqual(3);
    await expect(page.locator('[data-testid="dashboard-peers"] tbody tr')).not.toHaveCount(0);
    const refused = page.locator('[data-testid="dashboard-rejections"] li[data-code="undecodable"]');
    await expect(refused).toContainText('not a SparseLoCo payload');
    await expect(refused).toContainText(keyAddress(malloryKey.publicKey).slice(0, 8));
  } finally {
    await h.cleanup();
  }
});
