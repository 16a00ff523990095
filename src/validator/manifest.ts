// The last step of a window's decision: the accepted contributions in id order (never arrival
// order), the outer step over them, and the validator's signed manifest naming hash(θ_{w+1}).
import { applySparseOuterStep } from '../compress/outerStep';
import type { SparseUpdate } from '../compress/sparseloco';
import { toHex } from '../protocol/bytes';
import { signManifest, type Contribution, type Manifest } from '../protocol/contribution';
import { modelHash } from '../protocol/hash';
import type { Signer } from '../protocol/keys';

export interface Candidate {
  header: Contribution;
  payload: Uint8Array;
}

export interface WindowDecision {
  manifest: Manifest;
  next: Float32Array;
  accepted: Candidate[];
  rejected: { id: string; peerAddress: string; reason: string }[];
}

export interface ManifestInput {
  runId: string;
  window: number;
  theta: Float32Array;
  accepted: readonly (Candidate & { update: SparseUpdate })[];
  outerLr: number;
  signer: Signer;
}

export function buildManifest(o: ManifestInput): { manifest: Manifest; next: Float32Array; accepted: Candidate[] } {
  const sorted = [...o.accepted].sort((a, b) => (toHex(a.header.id) < toHex(b.header.id) ? -1 : 1));
  const next = o.theta.slice();
  if (sorted.length)
    applySparseOuterStep(
      next,
      sorted.map((a) => a.update),
      o.outerLr,
    );
  const manifest = signManifest(
    { runId: o.runId, window: o.window, baseHash: modelHash(o.theta), accepted: sorted.map((a) => a.header.id), outerLr: o.outerLr, nextHash: modelHash(next) },
    o.signer,
  );
  return { manifest, next, accepted: sorted.map(({ header, payload }) => ({ header, payload })) };
}
