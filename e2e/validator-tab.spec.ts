// A validator running in a tab (the Volunteer page's operator panel, a key file chosen
// locally): two Node peers follow its manifests window after window, and the hashes they
// reach are the ones the tab decided.
import { expect, test } from '@playwright/test';
import { requestGpuDevice } from '../src/gpu/device';
import { initParams } from '../src/model/init';
import { paramLayout } from '../src/model/layout';
import { nodeGpu } from '../src/gpu/nodeGpu';
import { toHex } from '../src/protocol/bytes';
import { ed25519Signer } from '../src/protocol/keys';
import type { WindowReport } from '../src/swarm/swarmPeer';
import { sessionIdentity } from '../src/wallet/authority';
import { assertPrivateNetwork } from '../test/support/privateNetwork';
import { startNodePeer } from '../test/support/nodePeer';
import { Harness } from '../test/support/swarmHarness';
import { tinyCorpus } from '../test/support/tinyCorpus';
import { tinyRun } from '../test/support/tinyRun';

test.setTimeout(180_000);

test('a tab validates: two Node peers follow its manifests and reach its hashes', async ({ page }) => {
  assertPrivateNetwork();
  const h = new Harness();
  try {
    const url = await h.signalingUrl();
    const { corpus, config } = tinyCorpus();
    const keyFile = '07'.repeat(32); // an Ed25519 seed, as `tessera keygen` writes it
    const run = tinyRun({
      runId: 'tab-validator',
      seed: 9,
      startTime: Date.now() + 25_000,
      windowMs: 20_000,
      graceMs: 10_000,
      uploadMarginMs: 1500,
      validatorKeys: [toHex(ed25519Signer(Uint8Array.from(Buffer.from(keyFile, 'hex'))).publicKey)],
    });

    await page.route('**/api/run', (route) => route.fulfill({ json: { run, signal: url } }));
    await page.goto('/');
    const panel = page.getByTestId('validator-panel');
    await panel.locator('summary').click();
    await page.getByTestId('validator-key').setInputFiles({ name: 'validator.key', mimeType: 'text/plain', buffer: Buffer.from(`${keyFile}\n`) });
    await page.getByTestId('validator-start').click();
    await expect(panel).toHaveAttribute('data-status', 'running', { timeout: 30_000 });

    const ctx = await requestGpuDevice({ gpu: nodeGpu(), label: 'e2e-tab-validator' });
    h.defer(() => ctx.destroy());
    const reports = new Map<string, WindowReport[]>();
    const theta0 = initParams(config, paramLayout(config), run.seed);
    for (const [i, name] of ['node-1', 'node-2'].entries()) {
      reports.set(name, []);
      startNodePeer(h, {
        device: ctx.device,
        url,
        run,
        config,
        train: corpus.train,
        name,
        identity: sessionIdentity(ed25519Signer(new Uint8Array(32).fill(i + 1))),
        start: { theta: theta0, window: 0 },
        onWindow: (r) => reports.get(name)?.push(r),
      });
    }

    await expect.poll(() => Math.min(...[...reports.values()].map((r) => r.length)), { timeout: 120_000, intervals: [2000] }).toBeGreaterThanOrEqual(2);
    const decided = new Map(
      await page
        .locator('[data-testid="validator-windows"] tbody tr')
        .evaluateAll((rows) => rows.map((r) => [Number(r.getAttribute('data-window')), r.getAttribute('data-hash') ?? ''] as [number, string])),
    );
    for (const [name, r] of reports) for (const x of r.slice(0, 2)) expect(x.hash, `${name} window ${x.window}`).toBe(decided.get(x.window));
    // The tab took contributions into the model, not just empty manifests.
    expect([...reports.values()].flat().some((x) => x.accepted > 0)).toBe(true);
  } finally {
    await h.cleanup();
  }
});
