// The delegation certificate: a wallet account signs, once, a readable statement that a session
// key may sign one run's contributions until a date; encoding, decoding and verification.
import { signatureVerify } from '@polkadot/util-crypto';
import { ByteReader, ByteWriter, toHex } from '../protocol/bytes';
import { PUBLIC_KEY_BYTES, SCHEME_ED25519, SCHEME_SR25519 } from '../protocol/keys';
import { canonicalAddress } from './address';
import { WalletError } from './errors';

/** Part of the signed text: a signature made for anything else never verifies as this. */
export const DELEGATION_DOMAIN = 'tessera/delegation/v1';
/** A leaked session key is worth little for long: certificates last at most this. */
export const MAX_CERTIFICATE_DAYS = 90;
/** Clocks differ: a certificate issued this much after a window began still covers it. */
export const CLOCK_SKEW_S = 300;
const MAX_SIGNATURE_BYTES = 65 + 1; // ECDSA with a type byte, the longest signatureVerify takes

export interface DelegationFields {
  runId: string;
  sessionScheme: number;
  sessionKey: Uint8Array;
  /** The wallet account, SS58 with Bittensor's prefix 42. */
  walletAddress: string;
  /** Unix seconds. */
  issuedAt: number;
  expiresAt: number;
}

export interface Delegation extends DelegationFields {
  /** By the wallet account, over `delegationMessage(fields)` (wrapped in <Bytes> or not). */
  signature: Uint8Array;
}

const schemeName = (s: number): string => (s === SCHEME_SR25519 ? 'sr25519' : s === SCHEME_ED25519 ? 'ed25519' : `scheme-${s}`);
const isoSeconds = (s: number): string => new Date(s * 1000).toISOString().replace('.000Z', 'Z');

/**
 * What the wallet signs: plain text, so an extension's approval dialog shows the user what
 * they are agreeing to. Every field is in it, so the text fixes the certificate completely.
 */
export function delegationText(f: DelegationFields): string {
  return [
    'Tessera: delegate contribution signing to a session key',
    `domain: ${DELEGATION_DOMAIN}`,
    `run: ${f.runId}`,
    `account: ${f.walletAddress}`,
    `session key: ${schemeName(f.sessionScheme)}:0x${toHex(f.sessionKey)}`,
    `issued: ${isoSeconds(f.issuedAt)}`,
    `expires: ${isoSeconds(f.expiresAt)}`,
    'This key may sign training contributions for this run only. It cannot move funds.',
  ].join('\n');
}

export function delegationMessage(f: DelegationFields): Uint8Array {
  return new TextEncoder().encode(delegationText(f));
}

/** Checks the fields a signer is asked to sign, so nobody signs a certificate that cannot verify. */
export function checkDelegationFields(f: DelegationFields): void {
  if (f.sessionScheme !== SCHEME_SR25519 && f.sessionScheme !== SCHEME_ED25519)
    throw new WalletError('bad-certificate', `session key scheme ${f.sessionScheme} is not sr25519 or ed25519`);
  if (f.sessionKey.length !== PUBLIC_KEY_BYTES)
    throw new WalletError('bad-certificate', `session key is ${f.sessionKey.length} bytes, not ${PUBLIC_KEY_BYTES}`);
  canonicalAddress(f.walletAddress);
  if (!Number.isInteger(f.issuedAt) || !Number.isInteger(f.expiresAt) || f.issuedAt < 0 || f.expiresAt > 2 ** 32 - 1)
    throw new WalletError('bad-certificate', 'issued/expiry must be whole unix seconds');
  if (f.expiresAt <= f.issuedAt) throw new WalletError('bad-certificate', 'expires before it is issued');
  if (f.expiresAt - f.issuedAt > MAX_CERTIFICATE_DAYS * 86_400) throw new WalletError('bad-certificate', `valid for more than ${MAX_CERTIFICATE_DAYS} days`);
}

export function encodeCertificate(c: Delegation): Uint8Array {
  return new ByteWriter()
    .string(c.runId)
    .u8(c.sessionScheme)
    .fixed(c.sessionKey, PUBLIC_KEY_BYTES)
    .string(c.walletAddress)
    .u32(c.issuedAt)
    .u32(c.expiresAt)
    .bytes(c.signature)
    .finish();
}

/** Parses and checks the shape (not the signature: see verifyCertificate). Throws WalletError. */
export function decodeCertificate(bytes: Uint8Array): Delegation {
  try {
    const r = new ByteReader(bytes);
    const c: Delegation = {
      runId: r.string(64, 'certificate run id'),
      sessionScheme: r.u8('certificate scheme'),
      sessionKey: r.fixed(PUBLIC_KEY_BYTES, 'certificate session key'),
      walletAddress: r.string(64, 'certificate address'),
      issuedAt: r.u32('certificate issuedAt'),
      expiresAt: r.u32('certificate expiresAt'),
      signature: r.bytes(MAX_SIGNATURE_BYTES, 'certificate signature'),
    };
    r.end();
    checkDelegationFields(c);
    return c;
  } catch (err) {
    if (err instanceof WalletError) throw err;
    throw new WalletError('bad-certificate', (err as Error).message);
  }
}

/**
 * The wallet's signature, the run, and validity at `atMs` (the start of the window a
 * contribution is for, so every verifier reaches the same answer whatever its clock says).
 * `signatureChecked` skips only the signature, for a certificate already verified once.
 */
export function verifyCertificate(c: Delegation, o: { runId: string; atMs: number; signatureChecked?: boolean }): void {
  checkDelegationFields(c);
  if (c.runId !== o.runId) throw new WalletError('wrong-run', `certificate is for run ${c.runId}, this is ${o.runId}`);
  const at = Math.floor(o.atMs / 1000);
  if (at + CLOCK_SKEW_S < c.issuedAt) throw new WalletError('not-yet-valid', `certificate issued ${isoSeconds(c.issuedAt)}, after ${isoSeconds(at)}`);
  if (at >= c.expiresAt) throw new WalletError('expired', `certificate expired ${isoSeconds(c.expiresAt)}`);
  if (o.signatureChecked) return;
  let valid = false;
  try {
    valid = signatureVerify(delegationMessage(c), c.signature, c.walletAddress).isValid;
  } catch {
    valid = false;
  }
  if (!valid) throw new WalletError('bad-certificate-signature', `certificate is not signed by ${c.walletAddress}`);
}
