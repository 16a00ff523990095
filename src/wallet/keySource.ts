// Keys from secrets a headless participant holds (a mnemonic, a 0x seed, a secret URI such as
// `//Alice`, or a bare Ed25519 seed in hex), and certificates signed by such a wallet key.
import { Keyring } from '@polkadot/keyring';
import type { KeyringPair } from '@polkadot/keyring/types';
import { u8aWrapBytes } from '@polkadot/util';
import { keyExtractSuri, mnemonicValidate } from '@polkadot/util-crypto';
import { fromHex } from '../protocol/bytes';
import { ed25519Signer, SCHEME_SR25519, type Signer } from '../protocol/keys';
import { SS58_PREFIX } from './address';
import { checkDelegationFields, delegationMessage, type Delegation, type DelegationFields } from './certificate';
import { WalletError } from './errors';

function isStrongPhrase(suri: string): boolean {
  try {
    const { phrase } = keyExtractSuri(suri);
    return /^0x[0-9a-fA-F]{64}$/.test(phrase) || mnemonicValidate(phrase);
  } catch {
    return false;
  }
}

/** The wallet account a secret stands for (sr25519, Bittensor's prefix). Throws WalletError. */
export function walletPairFromSecret(secret: string): KeyringPair {
  const text = secret.trim();
  if (!text) throw new WalletError('bad-key-source', 'the secret is empty');
  // The keyring would also take any short string, padded, as a raw seed: a guessable key. Only
  // a checksummed mnemonic, a 32-byte 0x seed, or a bare path (development accounts) will do.
  if (!text.startsWith('//') && !isStrongPhrase(text)) {
    throw new WalletError('bad-key-source', 'not a valid mnemonic (its checksum fails or a word is not in the list), a 0x seed of 64 hex digits, or a //path');
  }
  try {
    return new Keyring({ type: 'sr25519', ss58Format: SS58_PREFIX }).addFromUri(text);
  } catch (err) {
    // Never echo the secret itself into a log line.
    throw new WalletError('bad-key-source', `not a mnemonic, 0x seed or secret URI (${(err as Error).message.replace(text, '…')})`);
  }
}

/**
 * A signing key from a secret: 64 hex digits are an Ed25519 seed (the `tessera keygen` format);
 * anything else is read as a wallet secret and signs with sr25519.
 */
export function signerFromSecret(secret: string): Signer {
  const text = secret.trim();
  if (/^[0-9a-f]{64}$/.test(text)) return ed25519Signer(fromHex(text));
  const pair = walletPairFromSecret(text);
  return { scheme: SCHEME_SR25519, publicKey: pair.publicKey, sign: (m) => pair.sign(m) };
}

/**
 * Signs a certificate the way the polkadot{.js} extension's signRaw does (the bytes wrapped in
 * <Bytes>…</Bytes>), so certificates from headless wallets and from extensions verify alike.
 */
export function signDelegationWithPair(fields: DelegationFields, pair: KeyringPair): Delegation {
  checkDelegationFields(fields);
  if (fields.walletAddress !== pair.address) throw new WalletError('address-mismatch', `certificate names ${fields.walletAddress}, the key is ${pair.address}`);
  return { ...fields, signature: pair.sign(u8aWrapBytes(delegationMessage(fields))) };
}

/** A headless wallet vouching for its own session key, for `days` from `nowMs`. */
export function delegateSession(pair: KeyringPair, session: Signer, runId: string, nowMs: number, days = 30): Delegation {
  const issuedAt = Math.floor(nowMs / 1000);
  return signDelegationWithPair(
    { runId, sessionScheme: session.scheme, sessionKey: session.publicKey, walletAddress: pair.address, issuedAt, expiresAt: issuedAt + days * 86_400 },
    pair,
  );
}
