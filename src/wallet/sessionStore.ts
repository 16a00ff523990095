// This browser's session key and certificates, kept in IndexedDB so a reload keeps the same key
// (and the wallet need not sign again); plus the chosen account and contribution counts.
import { idbStore } from '../storage/idbStore';
import { sr25519Signer, type Signer } from '../protocol/keys';
import { decodeCertificate, encodeCertificate, type Delegation } from './certificate';
import { WalletError } from './errors';

const store = idbStore('tessera-wallet', 'session');
const SEED = 'session-seed';
const certificateKey = (runId: string): string => `certificate/${runId}`;

/** The session key, made on first use. Its seed never leaves this browser's storage. */
export async function loadSessionSigner(): Promise<Signer> {
  const stored = await store.get(SEED);
  if (stored instanceof Uint8Array && stored.length === 32) return sr25519Signer(stored);
  const seed = crypto.getRandomValues(new Uint8Array(32));
  await store.put(SEED, seed);
  return sr25519Signer(seed);
}

export async function saveCertificate(c: Delegation): Promise<void> {
  await store.put(certificateKey(c.runId), encodeCertificate(c));
}

/** The stored certificate for a run, if any and well-formed (validity is the caller's question). */
export async function loadCertificate(runId: string): Promise<Delegation | undefined> {
  const bytes = await store.get(certificateKey(runId));
  if (!(bytes instanceof Uint8Array)) return undefined;
  try {
    return decodeCertificate(bytes);
  } catch (err) {
    if (!(err instanceof WalletError)) throw err;
    await store.delete(certificateKey(runId));
    return undefined;
  }
}

export async function forgetCertificate(runId: string): Promise<void> {
  await store.delete(certificateKey(runId));
}

export interface ChosenAccount {
  address: string;
  source: string;
}

const ACCOUNT = 'tessera.wallet.account';

export function loadChosenAccount(): ChosenAccount | undefined {
  try {
    const v = JSON.parse(localStorage.getItem(ACCOUNT) ?? 'null') as Partial<ChosenAccount> | null;
    return typeof v?.address === 'string' && typeof v.source === 'string' ? { address: v.address, source: v.source } : undefined;
  } catch {
    return undefined;
  }
}

export function saveChosenAccount(a: ChosenAccount | undefined): void {
  if (a) localStorage.setItem(ACCOUNT, JSON.stringify(a));
  else localStorage.removeItem(ACCOUNT);
}

export interface ContributionCounts {
  signed: number;
  accepted: number;
}

const countsKey = (address: string): string => `tessera.wallet.counts.${address}`;

export function loadCounts(address: string): ContributionCounts {
  try {
    const v = JSON.parse(localStorage.getItem(countsKey(address)) ?? 'null') as Partial<ContributionCounts> | null;
    return { signed: Number(v?.signed) || 0, accepted: Number(v?.accepted) || 0 };
  } catch {
    return { signed: 0, accepted: 0 };
  }
}

/** Adds one window's outcome to the address's running totals. */
export function countContribution(address: string, accepted: boolean): ContributionCounts {
  const c = loadCounts(address);
  const next = { signed: c.signed + 1, accepted: c.accepted + (accepted ? 1 : 0) };
  localStorage.setItem(countsKey(address), JSON.stringify(next));
  return next;
}
