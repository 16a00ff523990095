// Signing keys for protocol messages: Ed25519 (@noble/curves; headless key files, validators)
// and sr25519 (Substrate's Schnorrkel, pure JS via @polkadot/util-crypto; browser session keys).
import { ed25519 } from '@noble/curves/ed25519.js';
import { sr25519PairFromSeed, sr25519Sign, sr25519Verify } from '@polkadot/util-crypto';

export const SCHEME_ED25519 = 1;
export const SCHEME_SR25519 = 2;
export const PUBLIC_KEY_BYTES = 32;
export const SIGNATURE_BYTES = 64;

export interface Signer {
  scheme: number;
  publicKey: Uint8Array;
  sign(message: Uint8Array): Uint8Array;
}

/** A signer from a 32-byte seed (headless peers load it from a key file). */
export function ed25519Signer(seed: Uint8Array): Signer {
  if (seed.length !== 32) throw new RangeError('an Ed25519 seed is 32 bytes');
  const secret = seed.slice();
  return { scheme: SCHEME_ED25519, publicKey: ed25519.getPublicKey(secret), sign: (m) => ed25519.sign(m, secret) };
}

/** An sr25519 signer from a 32-byte mini-secret (the form Substrate wallets derive keys from). */
export function sr25519Signer(seed: Uint8Array): Signer {
  if (seed.length !== 32) throw new RangeError('an sr25519 seed is 32 bytes');
  const pair = sr25519PairFromSeed(seed);
  return { scheme: SCHEME_SR25519, publicKey: pair.publicKey, sign: (m) => sr25519Sign(m, pair) };
}

export function randomSigner(): Signer {
  return ed25519Signer(crypto.getRandomValues(new Uint8Array(32)));
}

/** Never throws: malformed keys or signatures simply do not verify. */
export function verifySignature(scheme: number, publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== PUBLIC_KEY_BYTES || signature.length !== SIGNATURE_BYTES) return false;
  try {
    if (scheme === SCHEME_SR25519) return sr25519Verify(message, signature, publicKey);
    return scheme === SCHEME_ED25519 && ed25519.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}
