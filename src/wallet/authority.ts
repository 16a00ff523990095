// Who a contribution speaks for. The header's own signature is checked on decode; here the
// certificate chain decides which address earns for it, or refuses a claim nobody delegated.
import { equalBytes, toHex } from '../protocol/bytes';
import type { Contribution } from '../protocol/contribution';
import type { Signer } from '../protocol/keys';
import { windowStart, type RunConfig } from '../protocol/runConfig';
import { keyAddress } from './address';
import { decodeCertificate, encodeCertificate, verifyCertificate, type Delegation } from './certificate';
import { WalletError } from './errors';

/** What a participant signs contributions as. */
export interface Identity {
  signer: Signer;
  /** The wallet address with a certificate, else the session key's own address. */
  address: string;
  /** Encoded delegation certificate, or empty: contributions then train but earn nothing. */
  certificate: Uint8Array;
}

export function sessionIdentity(signer: Signer, certificate?: Delegation): Identity {
  if (!certificate) return { signer, address: keyAddress(signer.publicKey), certificate: new Uint8Array(0) };
  if (certificate.sessionScheme !== signer.scheme || !equalBytes(certificate.sessionKey, signer.publicKey))
    throw new WalletError('session-mismatch', 'the certificate delegates to another session key');
  return { signer, address: certificate.walletAddress, certificate: encodeCertificate(certificate) };
}

export interface Authority {
  /** The wallet address that earns for this contribution; null for an anonymous session key. */
  rewardAddress: string | null;
}

// A certificate is signed once and rides on every contribution: verify its signature once.
const verifiedCertificates = new Map<string, Delegation>();
const MAX_CACHED = 4096;

function checkedCertificate(bytes: Uint8Array, runId: string, atMs: number): Delegation {
  const key = toHex(bytes);
  const cached = verifiedCertificates.get(key);
  if (cached) {
    // Signature known good; run and validity window still depend on the contribution.
    verifyCertificate(cached, { runId, atMs, signatureChecked: true });
    return cached;
  }
  const c = decodeCertificate(bytes);
  verifyCertificate(c, { runId, atMs });
  if (verifiedCertificates.size >= MAX_CACHED) verifiedCertificates.clear();
  verifiedCertificates.set(key, c);
  return c;
}

/**
 * Throws WalletError unless the contribution's address is its signing key's own, or a valid
 * certificate for this run (at the window's start, `windowStartMs`) delegates it to that key.
 */
export function verifyContributionAuthority(c: Contribution, windowStartMs: number): Authority {
  if (c.certificate.length === 0) {
    if (c.peerAddress !== keyAddress(c.publicKey)) throw new WalletError('unclaimed-address', `claims ${c.peerAddress} with no certificate from it`);
    return { rewardAddress: null };
  }
  const cert = checkedCertificate(c.certificate, c.runId, windowStartMs);
  if (cert.sessionScheme !== c.scheme || !equalBytes(cert.sessionKey, c.publicKey))
    throw new WalletError('session-mismatch', `certificate from ${cert.walletAddress} delegates to another session key`);
  if (cert.walletAddress !== c.peerAddress)
    throw new WalletError('address-mismatch', `header claims ${c.peerAddress}, certificate is from ${cert.walletAddress}`);
  return { rewardAddress: cert.walletAddress };
}

/**
 * Why a contribution may not speak for the address it names (a certificate for another run,
 * expired at its window's start, for another key…), or undefined when it may.
 */
export function authorityRefusal(run: RunConfig): (c: Contribution) => string | undefined {
  return (c) => {
    try {
      verifyContributionAuthority(c, windowStart(run, c.window));
      return undefined;
    } catch (err) {
      if (err instanceof WalletError) return `${err.code}: ${err.message}`;
      throw err;
    }
  };
}
