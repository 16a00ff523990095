// A replica's step from θ_w to θ_{w+1}: check the manifest is for this model, decode the
// contributions it names in its order, apply the outer step, and prove the result's hash.
import type { ChunkPlan } from '../compress/chunks';
import { applySparseOuterStep } from '../compress/outerStep';
import { decodeAppliedUpdate } from '../compress/workPayload';
import { equalBytes, toHex } from '../protocol/bytes';
import type { Manifest } from '../protocol/contribution';
import { modelHash } from '../protocol/hash';

export class ManifestError extends Error {
  constructor(
    readonly code: 'wrong-base' | 'missing' | 'hash-mismatch',
    message: string,
  ) {
    super(message);
    this.name = 'ManifestError';
  }
}

/** Returns θ_{w+1}; `theta` is left untouched so a failure changes nothing. */
export function applyManifest(theta: Float32Array, manifest: Manifest, plan: ChunkPlan, payload: (id: Uint8Array) => Uint8Array | undefined): Float32Array {
  if (!equalBytes(modelHash(theta), manifest.baseHash))
    throw new ManifestError('wrong-base', `manifest for window ${manifest.window} is on another base model`);
  const updates = manifest.accepted.map((id) => {
    const bytes = payload(id);
    if (!bytes) throw new ManifestError('missing', `contribution ${toHex(id).slice(0, 12)} is not here yet`);
    return decodeAppliedUpdate(bytes, plan);
  });
  const next = theta.slice();
  if (updates.length) applySparseOuterStep(next, updates, manifest.outerLr);
  if (!equalBytes(modelHash(next), manifest.nextHash))
    throw new ManifestError(
      'hash-mismatch',
      `θ after window ${manifest.window} hashes to ${toHex(modelHash(next)).slice(0, 12)}, the manifest says ${toHex(manifest.nextHash).slice(0, 12)}`,
    );
  return next;
}
