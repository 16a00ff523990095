// A public deployment's paths, inside the private network namespace: Debian's coturn with the
// TURN REST secret and relay-only ICE between a tab and Node peers (contributions cross only
// through TURN), clear errors in the page for a wrong or expired credential, and a tab that
// joins over wss:// from `tessera serve` with a self-signed certificate.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import type { SignalingIce } from '../server/signaling';
import { requestGpuDevice } from '../src/gpu/device';
import { initParams } from '../src/model/init';
import { paramLayout } from '../src/model/layout';
import { nodeGpu } from '../src/gpu/nodeGpu';
import { toHex } from '../src/protocol/bytes';
import { ed25519Signer } from '../src/protocol/keys';
import type { RunConfig } from '../src/protocol/runConfig';
import type { WindowDecision } from '../src/validator/manifest';
import { sessionIdentity } from '../src/wallet/authority';
import { assertPrivateNetwork, NETNS_SERVER_IP } from '../test/support/privateNetwork';
import { startHarnessValidator, startNodePeer } from '../test/support/nodePeer';
import { Harness } from '../test/support/swarmHarness';
import { startCoturn } from './support/coturn';
import { tinyCorpus } from '../test/support/tinyCorpus';
import { selfSignedCert } from '../test/support/selfSignedCert';

const SECRET = 'e2e-turn-secret-0123456789abcdef';
const { corpus, config } = tinyCorpus();
const validatorKey = ed25519Signer(new Uint8Array(32).fill(51));

function runConfig(runId: string, startInMs: number, ice?: RunConfig['ice']): RunConfig {
  return {
    runId,
    preset: 'tiny',
    seed: 5,
    startTime: Date.now() + startInMs,
    windowMs: 15_000,
    graceMs: 3000,
    uploadMarginMs: 1500,
    minSteps: 2,
    batchSize: 2,
    seqLen: 32,
    outerLr: 1,
    innerSchedule: { maxLr: 3e-3, minLr: 3e-4, warmupSteps: 5, decaySteps: 300 },
    validatorKeys: [toHex(validatorKey.publicKey)],
    ...(ice ? { ice } : {}),
  };
}

/** Keeps every RTCPeerConnection the page makes (simple-peer's `_pc`), so the test can read their statistics. */
async function recordPeerConnections(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const made: RTCPeerConnection[] = [];
    (window as unknown as { tesseraPeerConnections: RTCPeerConnection[] }).tesseraPeerConnections = made;
    window.RTCPeerConnection = class extends window.RTCPeerConnection {
      constructor(config?: RTCConfiguration) {
        super(config);
        made.push(this);
      }
    };
  });
}

/**
 * For each of the page's connected peer connections, the candidate types of the pair ICE
 * selected (getStats: the transport's selectedCandidatePairId). 'relay' on the local side
 * means the tab's own packets left through its TURN allocation.
 */
function selectedCandidates(page: Page): Promise<{ local: string; remote: string; policy: string }[]> {
  return page.evaluate(async () => {
    const pcs = (window as unknown as { tesseraPeerConnections: RTCPeerConnection[] }).tesseraPeerConnections.filter(
      (pc) => pc.connectionState === 'connected',
    );
    return Promise.all(
      pcs.map(async (pc) => {
        const stats = new Map<string, Record<string, string | undefined>>();
        (await pc.getStats()).forEach((s: Record<string, string | undefined>) => stats.set(s.id ?? '', s));
        const transport = [...stats.values()].find((s) => s.type === 'transport' && s.selectedCandidatePairId);
        const pair = stats.get(transport?.selectedCandidatePairId ?? '');
        const type = (id?: string): string => stats.get(id ?? '')?.candidateType ?? 'none';
        return { local: type(pair?.localCandidateId), remote: type(pair?.remoteCandidateId), policy: pc.getConfiguration().iceTransportPolicy ?? 'all' };
      }),
    );
  });
}

/** The Volunteer page joined to `run` through `signal` (the server's /api/run stood in for). */
async function joinFromPage(page: Page, run: RunConfig, signal: string): Promise<void> {
  await page.route('**/api/run', (route) => route.fulfill({ json: { run, signal } }));
  await page.goto('/');
  await page.getByTestId('swarm-join').click();
  await expect(page.getByTestId('swarm-panel')).toHaveAttribute('data-status', 'joined', { timeout: 30_000 });
}

test('relay-only ICE: a tab and Node peers exchange contributions through coturn', async ({ page }) => {
  test.setTimeout(180_000);
  assertPrivateNetwork();
  const h = new Harness();
  try {
    const turn = await startCoturn({ ip: NETNS_SERVER_IP, port: 34780, secret: SECRET });
    h.defer(() => turn.stop());
    const ice = { stun: [], turn: [turn.url], relayOnly: true };
    const url = await h.signalingUrl({ ice: { settings: ice, turnSecret: SECRET } });
    const run = runConfig('relay-run', 20_000, ice);
    const ctx = await requestGpuDevice({ gpu: nodeGpu(), label: 'e2e-relay' });
    h.defer(() => ctx.destroy());
    const layout = paramLayout(config);
    const theta0 = initParams(config, layout, run.seed);
    const decisions: WindowDecision[] = [];
    const { validator } = startHarnessValidator(h, url, {
      room: run.runId,
      run,
      layout,
      signer: validatorKey,
      theta: theta0,
      window: 0,
      corpusLength: corpus.train.length,
      onDecision: (d) => decisions.push(d),
    });
    startNodePeer(h, {
      device: ctx.device,
      url,
      run,
      config,
      train: corpus.train,
      name: 'node-1',
      identity: sessionIdentity(ed25519Signer(new Uint8Array(32).fill(1))),
      start: { theta: theta0, window: 0 },
    });
    await recordPeerConnections(page);
    await joinFromPage(page, run, url);
    const tabAddress = (await page.getByTestId('swarm-identity').locator('code').textContent()) ?? '';
    h.watch("the validator's run()", validator.run());

    // The validator took both the tab's and the Node peer's update in one window, and the tab
    // (which fetched the Node peer's payload over its relayed channel) reached the same model.
    await expect.poll(() => decisions.length, { timeout: 120_000, intervals: [2000] }).toBeGreaterThanOrEqual(1);
    const withTab = decisions.find((d) => d.accepted.some((c) => c.header.peerAddress === tabAddress) && d.accepted.length >= 2);
    expect(withTab, `accepted per window: ${decisions.map((d) => d.accepted.map((c) => c.header.peerAddress.slice(0, 8)).join('+')).join(', ')}`).toBeDefined();
    const w = withTab?.manifest.window ?? -1;
    const tabRow = page.locator(`[data-testid="swarm-history"] tbody tr[data-window="${w}"]`);
    await expect(tabRow).toHaveAttribute('data-hash', toHex(withTab?.manifest.nextHash ?? new Uint8Array()), { timeout: 60_000 });
    // The tab's own data channels run through its TURN allocation: the pair ICE selected on
    // each connected link has a relay candidate on the tab's side (coturn's log alone could
    // come from the Node peers' allocations).
    const pairs = await selectedCandidates(page);
    expect(pairs.length, JSON.stringify(pairs)).toBeGreaterThanOrEqual(1);
    for (const p of pairs) expect(p, JSON.stringify(pairs)).toMatchObject({ local: 'relay', policy: 'relay' });
    expect(turn.log()).toMatch(/ALLOCATE processed, success/);
    expect(turn.log()).toMatch(/CREATE_PERMISSION processed, success/);
    await expect(page.getByTestId('swarm-ice-problem')).toHaveCount(0);
  } finally {
    await h.cleanup();
  }
});

for (const [kind, signaling] of [
  ['refused', { turnSecret: 'not-the-turn-servers-secret-123' }],
  ['expired', { turnSecret: SECRET, ttlSeconds: 600, now: () => Date.now() - 2 * 3600_000 }],
] as [string, Partial<SignalingIce>][]) {
  test(`a ${kind} TURN credential is said plainly in the page`, async ({ page }) => {
    test.setTimeout(90_000);
    assertPrivateNetwork();
    const h = new Harness();
    try {
      const turn = await startCoturn({ ip: NETNS_SERVER_IP, port: 34781, secret: SECRET });
      h.defer(() => turn.stop());
      const ice = { stun: [], turn: [turn.url], relayOnly: true };
      const url = await h.signalingUrl({ ice: { settings: ice, ...signaling } });
      const run = runConfig(`${kind}-run`, 60_000, ice);
      h.peer(url, 'node-1', { room: run.runId }); // someone for the tab to dial
      await joinFromPage(page, run, url);
      const problem = page.getByTestId('swarm-ice-problem');
      await expect(problem).toHaveAttribute('data-kind', kind, { timeout: 30_000 });
      await expect(problem).toContainText(
        kind === 'expired' ? /credential: it expired at .*clock/ : /refused this tab's credential \(401.*secret does not match/,
      );
      await expect(problem).toContainText(turn.url);
    } finally {
      await h.cleanup();
    }
  });
}

test('a tab joins over wss:// from `tessera serve` with a self-signed certificate', async ({ browser }) => {
  test.setTimeout(90_000);
  assertPrivateNetwork();
  const dir = mkdtempSync(join(tmpdir(), 'tessera-tls-'));
  const { cert, key } = selfSignedCert(dir);
  writeFileSync(join(dir, 'run.json'), JSON.stringify(runConfig('tls-run', 60_000)));
  // The operator's browser would trust the certificate; this one is told to accept it.
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  const server = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/node/serve.ts', '--port', '0', '--run', join(dir, 'run.json'), '--tls-cert', cert, '--tls-key', key],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise((resolve) => server.once('exit', resolve));
  try {
    let out = '';
    server.stdout.on('data', (d: Buffer) => (out += d.toString()));
    server.stderr.on('data', (d: Buffer) => (out += d.toString()));
    await expect.poll(() => /https:\/\/127\.0\.0\.1:(\d+)\//.exec(out)?.[1], { timeout: 20_000 }).toBeTruthy();
    const origin = `https://127.0.0.1:${/https:\/\/127\.0\.0\.1:(\d+)\//.exec(out)?.[1]}`;
    const page = await context.newPage();
    await page.goto(`${origin}/`);
    await page.getByTestId('swarm-join').click();
    await expect(page.getByTestId('swarm-panel')).toHaveAttribute('data-status', 'joined', { timeout: 30_000 });
    // The server saw the tab join its run's room over the TLS socket, signed by its session key.
    await expect.poll(() => out, { timeout: 15_000 }).toMatch(/"event":"signal-join","room":"tls-run","peerId":"tab-[0-9a-f]+".*"key":"[0-9a-f]{16}"/);
    const health = (await (await context.request.get(`${origin}/healthz`)).json()) as { signaling: { peers: number } };
    expect(health.signaling.peers).toBe(1);
  } finally {
    await context.close();
    server.kill('SIGTERM');
    await exited;
  }
});
