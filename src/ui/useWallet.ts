// The tab's wallet state, shared by the Wallet and Volunteer pages: extension connection, the
// chosen account, this browser's session key, its certificate for the run, contribution counts.
import { useEffect, useSyncExternalStore } from 'react';
import type { RunConfig } from '../protocol/runConfig';
import { keyAddress } from '../wallet/address';
import { sessionIdentity, type Identity } from '../wallet/authority';
import { verifyCertificate, type Delegation } from '../wallet/certificate';
import { WalletError } from '../wallet/errors';
import { connectExtensions, signDelegationWithExtension, watchAccounts, type WalletAccount } from '../wallet/extension';
import {
  countContribution,
  loadCertificate,
  loadChosenAccount,
  loadCounts,
  loadSessionSigner,
  saveCertificate,
  saveChosenAccount,
  type ContributionCounts,
} from '../wallet/sessionStore';

export type WalletStatus = 'idle' | 'connecting' | 'no-extension' | 'rejected' | 'no-accounts' | 'account-missing' | 'ready';

export interface WalletView {
  status: WalletStatus;
  installed: string[];
  accounts: WalletAccount[];
  chosen?: WalletAccount;
  /** The session key's own address (what contributions carry without a certificate). */
  sessionAddress?: string;
  certificate?: Delegation;
  /** Why the stored certificate cannot be used now (expired, another key…). */
  certificateProblem?: string;
  signing: boolean;
  counts?: ContributionCounts;
  error?: string;
}

export const CERTIFICATE_DAYS = 30;

let view: WalletView = { status: 'idle', installed: [], accounts: [], signing: false };
const listeners = new Set<() => void>();
function set(patch: Partial<WalletView>): void {
  view = { ...view, ...patch };
  for (const l of listeners) l();
}
const subscribe = (l: () => void): (() => void) => (listeners.add(l), () => listeners.delete(l));

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export async function connect(): Promise<void> {
  set({ status: 'connecting', error: undefined });
  try {
    const r = await connectExtensions();
    if (r.kind !== 'ok') return set({ status: r.kind, installed: r.kind === 'rejected' ? r.installed : [], accounts: [] });
    const saved = loadChosenAccount();
    const chosen = saved
      ? r.accounts.find((a) => a.address === saved.address && a.source === saved.source)
      : r.accounts.length === 1
        ? r.accounts[0]
        : undefined;
    if (chosen && !saved) saveChosenAccount(chosen);
    set({ status: saved && !chosen ? 'account-missing' : 'ready', accounts: r.accounts, chosen, counts: chosen ? loadCounts(chosen.address) : undefined });
    unwatch ??= watchAccounts(accountsChanged);
  } catch (err) {
    set({ status: 'idle', error: message(err) });
  }
}

/** The extension's subscription, started by the first successful connect and kept for the page's life. */
let unwatch: Promise<() => void> | undefined;

/**
 * The extension's accounts changed while the page is open: an account removed there is no
 * longer chosen here (before, it stayed chosen and Renew failed with "Unable to find keypair"),
 * and one that comes back is chosen again.
 */
function accountsChanged(accounts: WalletAccount[]): void {
  const saved = loadChosenAccount();
  const chosen = saved ? accounts.find((a) => a.address === saved.address && a.source === saved.source) : undefined;
  if (saved && !chosen) return set({ accounts, chosen: undefined, counts: undefined, status: 'account-missing' });
  set({
    accounts,
    chosen: chosen ?? view.chosen,
    status: view.status === 'account-missing' && chosen ? 'ready' : view.status,
    counts: chosen ? loadCounts(chosen.address) : view.counts,
  });
}

/** The address the tab earns for now: the chosen account, or the one remembered while the extension is being asked. */
function chosenAddress(): string | undefined {
  if (view.status === 'account-missing') return undefined;
  return view.chosen?.address ?? loadChosenAccount()?.address;
}

export function choose(account: WalletAccount): void {
  saveChosenAccount({ address: account.address, source: account.source });
  set({ status: 'ready', chosen: account, counts: loadCounts(account.address) });
}

/** Loads the session key and the stored certificate for `run`, and says whether it is usable now. */
export async function loadSession(run: RunConfig | undefined): Promise<void> {
  try {
    const signer = await loadSessionSigner();
    const certificate = run ? await loadCertificate(run.runId) : undefined;
    set({
      sessionAddress: keyAddress(signer.publicKey),
      certificate,
      certificateProblem: certificate && run ? certificateProblem(certificate, run) : undefined,
    });
  } catch (err) {
    set({ error: `this browser cannot keep a session key (${message(err)})` });
  }
}

function certificateProblem(c: Delegation, run: RunConfig): string | undefined {
  try {
    verifyCertificate(c, { runId: run.runId, atMs: Date.now() });
    return undefined;
  } catch (err) {
    if (err instanceof WalletError) return err.message;
    throw err;
  }
}

/** The chosen account signs (once) a certificate for this browser's session key. */
export async function signCertificate(run: RunConfig): Promise<void> {
  const account = view.chosen;
  if (!account) return;
  set({ signing: true, error: undefined });
  try {
    const signer = await loadSessionSigner();
    const issuedAt = Math.floor(Date.now() / 1000);
    const cert = await signDelegationWithExtension(account, {
      runId: run.runId,
      sessionScheme: signer.scheme,
      sessionKey: signer.publicKey,
      walletAddress: account.address,
      issuedAt,
      expiresAt: issuedAt + CERTIFICATE_DAYS * 86_400,
    });
    // A signature the network would refuse is caught here, not after a window of work.
    verifyCertificate(cert, { runId: run.runId, atMs: Date.now() });
    await saveCertificate(cert);
    set({ certificate: cert, certificateProblem: undefined });
  } catch (err) {
    set({ error: message(err) });
  } finally {
    set({ signing: false });
  }
}

/** What a tab joining `run` signs as: its session key, with the chosen account's certificate when it is valid now. */
export async function swarmIdentity(run: RunConfig): Promise<Identity> {
  const signer = await loadSessionSigner();
  const certificate = await loadCertificate(run.runId);
  // Only a certificate from the account chosen now: not one another account signed earlier.
  const usable =
    certificate &&
    certificate.walletAddress === chosenAddress() &&
    !certificateProblem(certificate, run) &&
    certificate.sessionKey.every((b, i) => b === signer.publicKey[i]);
  return sessionIdentity(signer, usable ? certificate : undefined);
}

export function recordWindow(address: string, included: boolean): void {
  const counts = countContribution(address, included);
  if (view.chosen?.address === address) set({ counts });
}

/** Subscribes a component; the first one re-checks a remembered account (an extension may have changed). */
export function useWallet(): WalletView {
  const v = useSyncExternalStore(subscribe, () => view);
  useEffect(() => {
    if (view.status === 'idle' && loadChosenAccount()) void connect();
  }, []);
  return v;
}
