// Signing keys for protocol messages. Ed25519 (@noble/curves) for now; the wallet issue adds
// sr25519 session keys with a wallet certificate, as another scheme byte.
import { ed25519 } from '@noble/curves/ed25519.js';

export const SCHEME_ED25519 = 1;
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

export function randomSigner(): Signer {
  return ed25519Signer(crypto.getRandomValues(new Uint8Array(32)));
}

/** Never throws: malformed keys or signatures simply do not verify. */
export function verifySignature(scheme: number, publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (scheme !== SCHEME_ED25519 || publicKey.length !== PUBLIC_KEY_BYTES || signature.length !== SIGNATURE_BYTES) return false;
  try {
    return ed25519.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}
