// The Wallet page against an injected, keyring-backed extension: connect, sign the session
// key's certificate (verified here in Node), keep it across a reload; and the plain messages
// for no extension, refused access, a declined signature and an account that disappeared.
import { expect, test, type Page } from '@playwright/test';
import { u8aWrapBytes } from '@polkadot/util';
import { sr25519Verify } from '@polkadot/util-crypto';
import { SCHEME_SR25519 } from '../src/protocol/keys';
import { decodeCertificate, delegationMessage, verifyCertificate } from '../src/wallet/certificate';
import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveStatus } from '../server/validatorStatus';
import { signManifest } from '../src/protocol/contribution';
import { ed25519Signer } from '../src/protocol/keys';
import type { Verdict } from '../src/validator/gauntlet';
import { Ledger } from '../src/validator/ledger';
import { rewardScore, updateStandings } from '../src/validator/ratings';
import { toU16Weights } from '../src/validator/weights';
import { injectFakeExtension, showAccounts } from './support/fakeExtension';
import { relay } from './support/relay';
import { tinyRun } from '../test/support/tinyRun';

const run = tinyRun({
  runId: 'wallet-e2e',
  seed: 1,
  startTime: Date.now(),
  windowMs: 15_000,
  graceMs: 3000,
  uploadMarginMs: 1500,
  validatorKeys: ['ab'.repeat(32)],
});

async function openWallet(page: Page): Promise<void> {
  await page.route('**/api/run', (route) => route.fulfill({ json: { run } }));
  await page.goto('/wallet');
}

/** The certificate bytes the page stored in IndexedDB for the run. */
function storedCertificate(page: Page): Promise<number[] | null> {
  return page.evaluate(
    (runId) =>
      new Promise<number[] | null>((resolve, reject) => {
        const open = indexedDB.open('tessera-wallet', 1);
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const get = open.result.transaction('session').objectStore('session').get(`certificate/${runId}`);
          get.onsuccess = () => resolve(get.result instanceof Uint8Array ? Array.from(get.result) : null);
          get.onerror = () => reject(get.error);
        };
      }),
    run.runId,
  );
}

test('connects, signs a certificate that verifies in Node, and keeps it across a reload', async ({ page }) => {
  const [alice] = await injectFakeExtension(page, { accounts: ['//Alice'] });
  await openWallet(page);
  await page.getByTestId('wallet-connect').click();
  await expect(page.getByTestId('wallet-address')).toHaveText(alice.address);
  await expect(page.getByTestId('wallet-cert-state')).toHaveText('not signed yet');
  await page.getByTestId('wallet-sign').click();
  await expect(page.getByTestId('wallet-cert-state')).toContainText('valid until');

  const bytes = await storedCertificate(page);
  expect(bytes).not.toBeNull();
  const cert = decodeCertificate(Uint8Array.from(bytes ?? []));
  expect(cert.walletAddress).toBe(alice.address);
  expect(cert.sessionScheme).toBe(SCHEME_SR25519);
  expect(() => verifyCertificate(cert, { runId: run.runId, atMs: Date.now() })).not.toThrow();
  // What the wallet signed is the certificate's text wrapped in <Bytes>, as extensions do.
  expect(sr25519Verify(u8aWrapBytes(delegationMessage(cert)), cert.signature, alice.publicKey)).toBe(true);
  expect(() => verifyCertificate(cert, { runId: 'another-run', atMs: Date.now() })).toThrow(/another-run/);

  // A reload re-checks the remembered account with the extension and keeps the certificate.
  await page.reload();
  await expect(page.getByTestId('wallet-page')).toHaveAttribute('data-status', 'ready');
  await expect(page.getByTestId('wallet-cert-state')).toContainText('valid until');
  await expect(page.getByTestId('wallet-sign')).toHaveText('Renew certificate');
});

test("shows the account's score and share of weights from the validator's ledger", async ({ page }) => {
  const [alice, bob] = await injectFakeExtension(page, { accounts: ['//Alice', '//Bob'] });
  // A real ledger with one closed window, served by the validator's status endpoint.
  const ledger = new Ledger(join(mkdtempSync(join(tmpdir(), 'tessera-wallet-')), 'ledger.sqlite'), run.runId);
  // Rewards follow proven steps: Alice proved 30, Bob 10, so Alice holds 75 % of the weights.
  const scored = (address: string, score: number, steps: number): Verdict => ({
    id: address,
    address,
    key: address,
    payloadBytes: 2000,
    tokens: 64 * steps,
    steps,
    trainLoss: 3.1,
    arrivedAt: 0,
    accepted: true,
    code: 'accepted',
    reason: 'test',
    earns: true,
    score: { random: score, own: score, powT: 5, ownSequences: 32 },
  });
  const verdicts = [scored(alice.address, 0.03, 30), scored(bob.address, 0.01, 10)];
  const standings = updateStandings(
    new Map(),
    0,
    verdicts.map((v) => ({ address: v.address, kind: 'scored' as const, score: v.score?.random ?? 0, pow: true, work: v.steps })),
  );
  const weights = toU16Weights(new Map([...standings.values()].map((s) => [s.address, rewardScore(s)])));
  const manifest = signManifest(
    { runId: run.runId, window: 0, baseHash: new Uint8Array(32), accepted: [], outerLr: 1, nextHash: new Uint8Array(32) },
    ed25519Signer(new Uint8Array(32).fill(3)),
  );
  ledger.closeWindow({
    window: 0,
    manifest,
    verdicts,
    next: new Float32Array(4),
    standings,
    weights,
    closedAt: 0,
    stats: { valLoss: 3.2, durationMs: 8000, denseBytesPerUpdate: 16, online: 2 },
  });
  const status = serveStatus(ledger, 0, '127.0.0.1');
  await new Promise((resolve) => status.once('listening', resolve));
  const statusUrl = `http://127.0.0.1:${(status.address() as AddressInfo).port}/status`;
  try {
    await page.route('**/api/status', (route) => relay(route, statusUrl));
    await page.route('**/api/status/address?*', (route) => relay(route, `${statusUrl}/address${new URL(route.request().url()).search}`));
    await openWallet(page);
    await page.getByTestId('wallet-connect').click();
    await page.getByRole('radio').first().check();
    // …and its verified work, the ledger's moving average of the steps whose proof held.
    const work = (standings.get(alice.address)?.workEma ?? NaN).toFixed(1);
    expect(Number(work)).toBeGreaterThan(0);
    await expect(page.getByTestId('wallet-standing')).toHaveText(
      new RegExp(`^reward score [0-9.e+-]+, 75\\.0% of the weights, verified work ${work.replace('.', '\\.')} steps a window \\(1 accepted, 0 refused\\)$`),
    );
    // The score history: Alice's window 0, scored 3% of the loss removed.
    const row = page.locator('[data-testid="wallet-history"] tbody tr[data-window="0"]');
    await expect(row).toContainText('3.00%');
    await expect(row).toContainText('accepted');
    await expect(page.getByTestId('wallet-history-chart')).toHaveAttribute('data-points', '1');
  } finally {
    status.close();
    ledger.close();
  }
});

test('says plainly when there is no extension', async ({ page }) => {
  await openWallet(page);
  await page.getByTestId('wallet-connect').click();
  await expect(page.getByTestId('wallet-problem')).toHaveAttribute('data-kind', 'no-extension');
  await expect(page.getByTestId('wallet-problem')).toContainText('No wallet extension was found');
});

test('says plainly when the user refuses access', async ({ page }) => {
  await injectFakeExtension(page, { rejectAccess: true });
  await openWallet(page);
  await page.getByTestId('wallet-connect').click();
  await expect(page.getByTestId('wallet-problem')).toHaveAttribute('data-kind', 'rejected');
  await expect(page.getByTestId('wallet-problem')).toContainText('polkadot-js did not give Tessera access');
});

test('says plainly when the wallet shares no accounts', async ({ page }) => {
  await injectFakeExtension(page, { accounts: [] });
  await openWallet(page);
  await page.getByTestId('wallet-connect').click();
  await expect(page.getByTestId('wallet-problem')).toHaveAttribute('data-kind', 'no-accounts');
  await expect(page.getByTestId('wallet-problem')).toContainText('shares no accounts');
});

test('a declined signature stores nothing and says so', async ({ page }) => {
  await injectFakeExtension(page, { declineSigning: true });
  await openWallet(page);
  await page.getByTestId('wallet-connect').click();
  await page.getByTestId('wallet-sign').click();
  await expect(page.getByTestId('wallet-error')).toContainText('polkadot-js did not sign: Cancelled');
  await expect(page.getByTestId('wallet-cert-state')).toHaveText('not signed yet');
  expect(await storedCertificate(page)).toBeNull();
});

test('an account that disappeared from the wallet is reported, and another can be chosen', async ({ page, context }) => {
  await injectFakeExtension(page, { accounts: ['//Alice'] });
  await openWallet(page);
  await page.getByTestId('wallet-connect').click();
  await expect(page.getByTestId('wallet-page')).toHaveAttribute('data-status', 'ready');
  // Same browser profile (the choice is remembered), but the wallet now only offers Bob.
  const later = await context.newPage();
  const [bob] = await injectFakeExtension(later, { accounts: ['//Bob'] });
  await openWallet(later);
  await expect(later.getByTestId('wallet-problem')).toHaveAttribute('data-kind', 'account-missing');
  await later.getByRole('radio').check();
  await expect(later.getByTestId('wallet-address')).toHaveText(bob.address);
  await expect(later.getByTestId('wallet-page')).toHaveAttribute('data-status', 'ready');
});

test('an account removed in the extension while the page is open stops being chosen, and the tab no longer earns for it', async ({ page }) => {
  const [alice] = await injectFakeExtension(page, { accounts: ['//Alice'] });
  await openWallet(page);
  await page.getByTestId('wallet-connect').click();
  await page.getByTestId('wallet-sign').click();
  await expect(page.getByTestId('wallet-cert-state')).toContainText('valid until');
  const join = async (): Promise<{ address: string; earning: string | null }> => {
    await page.getByRole('link', { name: 'Volunteer' }).click();
    await page.getByTestId('swarm-join').click();
    const identity = page.getByTestId('swarm-identity');
    await expect(identity).toBeVisible({ timeout: 60_000 });
    const seen = { address: (await identity.locator('code').textContent()) ?? '', earning: await identity.getAttribute('data-earning') };
    await page.getByTestId('swarm-leave').click();
    await page.getByRole('link', { name: 'Wallet' }).click();
    return seen;
  };
  // While Alice is chosen, the tab's contributions carry her certificate.
  expect(await join()).toEqual({ address: alice.address, earning: 'yes' });

  // The user removes Alice from the extension: the page says so at once, offers no Renew, and
  // a new Join signs with the session key's own address, not with Alice's old certificate.
  await showAccounts(page, []);
  await expect(page.getByTestId('wallet-problem')).toHaveAttribute('data-kind', 'account-missing');
  await expect(page.getByTestId('wallet-sign')).toHaveCount(0);
  const anonymous = await join();
  expect(anonymous.earning).toBe('no');
  expect(anonymous.address).not.toBe(alice.address);

  // Alice comes back: chosen again, and her certificate counts again.
  await showAccounts(page, [alice.address]);
  await expect(page.getByTestId('wallet-page')).toHaveAttribute('data-status', 'ready');
  await expect(page.getByTestId('wallet-address')).toHaveText(alice.address);
  expect(await join()).toEqual({ address: alice.address, earning: 'yes' });
});
