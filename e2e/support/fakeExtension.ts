// A wallet extension for tests, injected into window.injectedWeb3 like polkadot{.js}: its
// accounts live in a real @polkadot/keyring in Node, and signRaw wraps the bytes in <Bytes>
// exactly as the extension's RequestBytesSign does before signing.
import { expect, type Page } from '@playwright/test';
import { Keyring } from '@polkadot/keyring';
import type { KeyringPair } from '@polkadot/keyring/types';
import { hexToU8a, u8aToHex, u8aWrapBytes } from '@polkadot/util';

export interface FakeExtensionOptions {
  /** Secret URIs of the accounts it holds (e.g. //Alice). */
  accounts?: string[];
  /** `enable` rejects, as when the user refuses the site access. */
  rejectAccess?: boolean;
  /** signRaw rejects, as when the user clicks Cancel. */
  declineSigning?: boolean;
}

export function keyringPair(uri: string): KeyringPair {
  return new Keyring({ type: 'sr25519', ss58Format: 42 }).addFromUri(uri);
}

/** Installs the extension in `page` (before any page script runs); returns its pairs. */
export async function injectFakeExtension(page: Page, o: FakeExtensionOptions = {}): Promise<KeyringPair[]> {
  const pairs = (o.accounts ?? ['//Alice']).map(keyringPair);
  const signed: string[] = [];
  await page.exposeFunction('__fakeWalletSign', (address: string, dataHex: string): string => {
    const pair = pairs.find((p) => p.address === address);
    if (!pair) throw new Error(`no account ${address}`);
    signed.push(dataHex);
    return u8aToHex(pair.sign(u8aWrapBytes(hexToU8a(dataHex))));
  });
  await page.addInitScript(
    ({ accounts, rejectAccess, declineSigning }) => {
      type SignRaw = { address: string; data: string; type: 'bytes' };
      const w = window as unknown as {
        injectedWeb3?: Record<string, unknown>;
        __fakeWalletSign(a: string, d: string): Promise<string>;
        __fakeWalletShow(addresses: string[]): void;
      };
      // The accounts the extension shares now; __fakeWalletShow changes them as a user would
      // (removing or adding an account in the extension), telling every subscriber.
      let shown = accounts;
      const subscribers = new Set<(a: typeof accounts) => void>();
      w.__fakeWalletShow = (addresses) => {
        shown = accounts.filter((a) => addresses.includes(a.address));
        for (const cb of subscribers) cb(shown);
      };
      w.injectedWeb3 = {
        'polkadot-js': {
          version: '0.63.1',
          enable: async () => {
            if (rejectAccess) throw new Error('The source http://127.0.0.1 is not allowed to interact with this extension');
            return {
              accounts: {
                get: async () => shown,
                subscribe: (cb: (a: typeof accounts) => void) => {
                  subscribers.add(cb);
                  cb(shown);
                  return () => subscribers.delete(cb);
                },
              },
              signer: {
                signRaw: async (p: SignRaw) => {
                  if (declineSigning) throw new Error('Cancelled');
                  return { id: 1, signature: await w.__fakeWalletSign(p.address, p.data) };
                },
              },
            };
          },
        },
      };
    },
    {
      accounts: pairs.map((p, i) => ({ address: p.address, name: `Account ${i + 1}`, type: 'sr25519' })),
      rejectAccess: !!o.rejectAccess,
      declineSigning: !!o.declineSigning,
    },
  );
  return pairs;
}

/** Makes the injected extension share only these accounts from now on (an account removed or re-added). */
export function showAccounts(page: Page, addresses: string[]): Promise<void> {
  return page.evaluate((a) => (window as unknown as { __fakeWalletShow(a: string[]): void }).__fakeWalletShow(a), addresses);
}

/** On the Wallet page (the run already routed): connect the extension and sign this run's certificate. */
export async function signCertificateOnWalletPage(page: Page): Promise<void> {
  await page.goto('/wallet');
  await page.getByTestId('wallet-connect').click();
  await page.getByTestId('wallet-sign').click();
  await expect(page.getByTestId('wallet-cert-state')).toContainText('valid until');
}
