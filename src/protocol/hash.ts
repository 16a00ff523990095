// Content hashes: BLAKE2b-256 of the canonical bytes names contributions, manifests,
// checkpoints and models everywhere in the protocol (synchronous, same in every runtime).
import { blake2b } from '@noble/hashes/blake2.js';

export const HASH_BYTES = 32;

export function contentHash(bytes: Uint8Array): Uint8Array {
  return blake2b(bytes, { dkLen: HASH_BYTES });
}

/** The model's identity: the hash of its float32 parameters' bytes (little-endian). */
export function modelHash(params: Float32Array): Uint8Array {
  return contentHash(new Uint8Array(params.buffer, params.byteOffset, params.byteLength));
}
