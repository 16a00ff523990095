// The swarm across runtimes, inside the private network namespace: a validator and two Node
// peers (Dawn, @roamhq/wrtc) in this process and two Chromium tabs (WebGPU in a worker,
// WebRTC on the page; one of them the real Volunteer page joined with its button) train tiny
// through one signaling server for three windows; after each window all five hold the
// manifest's model hash, and validation loss falls. The Volunteer page contributes for a
// wallet (an injected keyring-backed extension signed its session key's certificate on the
// Wallet page); the validator's accepted headers from it verify here in Node.
import { expect, test } from '@playwright/test';
import { requestGpuDevice } from '../src/gpu/device';
import { initParams } from '../src/model/init';
import { GpuGpt } from '../src/gpu/model';
import { nodeGpu } from '../src/gpu/nodeGpu';
import { toHex } from '../src/protocol/bytes';
import { ed25519Signer } from '../src/protocol/keys';
import { decodeContribution } from '../src/protocol/contribution';
import { windowStart } from '../src/protocol/runConfig';
import type { WindowReport } from '../src/swarm/swarmPeer';
import { randomPages } from '../src/train/dataPages';
import { validationLoss } from '../src/train/innerLoop';
import type { WindowDecision } from '../src/validator/manifest';
import { sessionIdentity, verifyContributionAuthority } from '../src/wallet/authority';
import { assertPrivateNetwork } from '../test/support/privateNetwork';
import { injectFakeExtension, signCertificateOnWalletPage } from './support/fakeExtension';
import { startHarnessValidator, startNodePeer } from '../test/support/nodePeer';
import { Harness } from '../test/support/swarmHarness';
import { tinyCorpus } from '../test/support/tinyCorpus';
import { tinyRun } from '../test/support/tinyRun';

test.setTimeout(240_000);

test('two tabs and two Node peers hold the same model hash after every window', async ({ page, context }) => {
  assertPrivateNetwork();
  const h = new Harness();
  try {
    const url = await h.signalingUrl();
    const { corpus, config } = tinyCorpus();
    const validatorKey = ed25519Signer(new Uint8Array(32).fill(42));
    const run = tinyRun({
      runId: 'e2e-run',
      seed: 7,
      startTime: Date.now() + 20_000,
      windowMs: 15_000,
      graceMs: 3000,
      uploadMarginMs: 1500,
      validatorKeys: [toHex(validatorKey.publicKey)],
    });

    const ctx = await requestGpuDevice({ gpu: nodeGpu(), label: 'e2e-swarm' });
    h.defer(() => ctx.destroy());
    const probe = new GpuGpt(ctx.device, { config, batchSize: run.batchSize, seqLen: run.seqLen });
    const theta0 = initParams(config, probe.layout, run.seed);
    const decisions: WindowDecision[] = [];
    const { validator } = startHarnessValidator(h, url, {
      room: run.runId,
      run,
      layout: probe.layout,
      signer: validatorKey,
      theta: theta0,
      window: 0,
      corpusLength: corpus.train.length,
      onDecision: (d) => decisions.push(d),
    });
    const reports = new Map<string, WindowReport[]>();
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
    // Tab 1: a bare harness page. Tab 2: the real Volunteer page, joined with its button
    // (the server's /api/run is stood in for, pointing at this test's signaling server).
    const harness = page;
    const runParam = Buffer.from(JSON.stringify(run)).toString('base64');
    await harness.goto(
      `/e2e/harness/swarm.html?signal=${encodeURIComponent(url)}&name=tab-1&seed=${toHex(new Uint8Array(32).fill(10))}&run=${encodeURIComponent(runParam)}`,
    );
    const volunteer = await context.newPage();
    const [alice] = await injectFakeExtension(volunteer, { accounts: ['//Alice'] });
    await volunteer.route('**/api/run', (route) => route.fulfill({ json: { run, signal: url } }));
    await signCertificateOnWalletPage(volunteer);
    await volunteer.getByRole('link', { name: 'Volunteer' }).click();
    await volunteer.getByTestId('swarm-join').click();
    await expect(volunteer.getByTestId('swarm-panel')).toHaveAttribute('data-status', 'joined', { timeout: 30_000 });
    await expect(volunteer.getByTestId('swarm-identity')).toHaveAttribute('data-earning', 'yes');
    // The validator's loop is kept: its rejection fails the wait below at once, and the test
    // at its end (where the loop is stopped and awaited).
    const validatorRun = validator.run();
    const validatorFailed = new Promise<never>((_, reject) => {
      validatorRun.catch((err: unknown) =>
        reject(new Error(`the validator's run() rejected: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`)),
      );
    });
    validatorFailed.catch(() => undefined); // awaited below; not unhandled if the test ends first

    type TabState = { reports: WindowReport[]; logs: string[]; error?: string };
    const harnessState = (): Promise<TabState> => harness.evaluate(() => (window as unknown as { __swarm: TabState }).__swarm);
    const pageWindows = async (): Promise<{ window: number; hash: string }[]> =>
      (
        await volunteer
          .locator('[data-testid="swarm-history"] tbody tr')
          .evaluateAll((rows) => rows.map((r) => ({ window: Number(r.getAttribute('data-window')), hash: r.getAttribute('data-hash') ?? '' })))
      ).sort((a, b) => a.window - b.window);
    const threeWindows = expect
      .poll(
        async () => {
          const h1 = await harnessState();
          if (h1.error) throw new Error(`tab failed: ${h1.error}`);
          return Math.min(h1.reports.length, (await pageWindows()).length, ...[...reports.values()].map((r) => r.length));
        },
        { timeout: 150_000, intervals: [2000] },
      )
      .toBeGreaterThanOrEqual(3);
    await Promise.race([threeWindows, validatorFailed]);

    const all = new Map<string, { window: number; hash: string }[]>([
      ...reports,
      ['tab-1', (await harnessState()).reports],
      ['volunteer page', await pageWindows()],
    ]);
    for (let w = 0; w < 3; w++) {
      const expected = toHex(decisions[w].manifest.nextHash);
      for (const [name, r] of all) expect(r[w].hash, `${name} after window ${w}`).toBe(expected);
    }
    // Tabs' contributions count: some window took the Volunteer page's update, which speaks
    // for Alice's wallet through the certificate the extension signed.
    const fromPage = decisions.slice(0, 3).flatMap((d) => d.accepted.filter((c) => c.header.peerAddress === alice.address));
    expect(fromPage.length).toBeGreaterThan(0);
    for (const c of fromPage) {
      const again = decodeContribution(c.header.bytes, run.runId);
      expect(verifyContributionAuthority(again, windowStart(run, again.window)).rewardAddress).toBe(alice.address);
    }
    // The Wallet page counts what the session key signed and what was accepted for Alice.
    await volunteer.getByRole('link', { name: 'Wallet' }).click();
    await expect(volunteer.getByTestId('wallet-counts')).toHaveText(/^[1-9]\d* signed, [1-9]\d* accepted$/);
    const val = await randomPages('e2e-swarm/val', { count: 4 * run.batchSize, seqLen: run.seqLen, corpusLength: corpus.val.length });
    probe.setParams(theta0);
    const before = await validationLoss(probe, corpus.val, val);
    probe.setParams(decisions[2].next);
    expect(await validationLoss(probe, corpus.val, val)).toBeLessThan(before - 0.05);
    // A rejection meanwhile fails the test. (stop() leaves a loop waiting for a window's
    // deadline unsettled, hence the bound; a rejection still wins the race.)
    validator.stop();
    await Promise.race([validatorRun, validatorFailed, new Promise((resolve) => setTimeout(resolve, 3000))]);
  } finally {
    await h.cleanup();
  }
});
