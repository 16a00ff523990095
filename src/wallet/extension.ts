// Browser wallet extensions (polkadot{.js}, Talisman, SubWallet …) through
// @polkadot/extension-dapp: connect, list accounts in Bittensor's format, sign one certificate.
import type * as Dapp from '@polkadot/extension-dapp';
import { u8aToHex, hexToU8a } from '@polkadot/util';
import { toBittensorAddress } from './address';
import { delegationMessage, type Delegation, type DelegationFields } from './certificate';
import { WalletError } from './errors';

export interface WalletAccount {
  /** SS58, prefix 42. */
  address: string;
  name?: string;
  /** The extension that holds it. */
  source: string;
}

export type ConnectResult =
  | { kind: 'no-extension' }
  /** Extensions are installed, but none granted access (the user said no, or it failed). */
  | { kind: 'rejected'; installed: string[] }
  | { kind: 'no-accounts'; enabled: string[] }
  | { kind: 'ok'; enabled: string[]; accounts: WalletAccount[] };

const APP_NAME = 'Tessera';

// extension-dapp reads `window` when it loads, so it is imported only when a tab asks for it.
const dapp = (): Promise<typeof Dapp> => import('@polkadot/extension-dapp');

function installedExtensions(): string[] {
  const injected = (window as unknown as { injectedWeb3?: Record<string, unknown> }).injectedWeb3;
  return injected ? Object.keys(injected) : [];
}

/** Asks every injected extension for access and lists their accounts. Never throws for a "no". */
export async function connectExtensions(): Promise<ConnectResult> {
  const installed = installedExtensions();
  if (installed.length === 0) return { kind: 'no-extension' };
  const { web3Enable, web3Accounts } = await dapp();
  const enabled = await web3Enable(APP_NAME);
  if (enabled.length === 0) return { kind: 'rejected', installed };
  const names = enabled.map((e) => e.name);
  const accounts = bittensorAccounts(await web3Accounts());
  return accounts.length ? { kind: 'ok', enabled: names, accounts } : { kind: 'no-accounts', enabled: names };
}

/** The extensions' accounts in Bittensor's format. */
function bittensorAccounts(list: Awaited<ReturnType<typeof Dapp.web3Accounts>>): WalletAccount[] {
  const accounts: WalletAccount[] = [];
  for (const a of list) {
    try {
      accounts.push({ address: toBittensorAddress(a.address), name: a.meta.name, source: a.meta.source });
    } catch {
      // An Ethereum-style (20-byte) account cannot sign for a Bittensor address; leave it out.
    }
  }
  return accounts;
}

/**
 * Calls `onChange` with the enabled extensions' accounts each time they change (an account
 * removed, renamed or added while the page is open); resolves with the unsubscribe call.
 */
export async function watchAccounts(onChange: (accounts: WalletAccount[]) => void): Promise<() => void> {
  const { web3AccountsSubscribe } = await dapp();
  return web3AccountsSubscribe((list) => onChange(bittensorAccounts(list)));
}

/**
 * The extension asks its user to approve, then signs the certificate's text (wrapped in
 * <Bytes>, as extensions do). A refusal becomes a WalletError with the extension's words.
 */
export async function signDelegationWithExtension(account: WalletAccount, fields: DelegationFields): Promise<Delegation> {
  const { web3FromSource } = await dapp();
  const injected = await web3FromSource(account.source);
  const signRaw = injected.signer.signRaw;
  if (!signRaw) throw new WalletError('bad-key-source', `${account.source} cannot sign messages`);
  let signature: string;
  try {
    ({ signature } = await signRaw({ address: account.address, data: u8aToHex(delegationMessage(fields)), type: 'bytes' }));
  } catch (err) {
    throw new WalletError('bad-certificate-signature', `${account.source} did not sign: ${(err as Error).message || 'declined'}`);
  }
  return { ...fields, signature: hexToU8a(signature) };
}
