// The validator's decision for one window: which contributions to accept (well-formed, signed,
// with a valid certificate chain, on the right base, enough steps, one per key and address),
// their fixed order, and θ_{w+1}.
import { chunkPlan, type ChunkPlan } from '../compress/chunks';
import { applySparseOuterStep } from '../compress/outerStep';
import { CodecError, decodeSparseLoCo, type SparseUpdate } from '../compress/sparseloco';
import type { ParamLayout } from '../gpu/layout';
import { equalBytes, toHex } from '../protocol/bytes';
import { signManifest, type Contribution, type Manifest } from '../protocol/contribution';
import { modelHash } from '../protocol/hash';
import type { Signer } from '../protocol/keys';
import { verifyContributionAuthority } from '../wallet/authority';
import { WalletError } from '../wallet/errors';

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

export interface DecideOptions {
  runId: string;
  window: number;
  /** When the window began (ms): certificates must be valid then. */
  windowStartMs: number;
  theta: Float32Array;
  layout: ParamLayout;
  plan?: ChunkPlan;
  candidates: readonly Candidate[];
  outerLr: number;
  minSteps: number;
  signer: Signer;
}

/** Order is by contribution id (hex), so it never depends on arrival order. */
export function decideWindow(o: DecideOptions): WindowDecision {
  const plan = o.plan ?? chunkPlan(o.layout);
  const base = modelHash(o.theta);
  const rejected: WindowDecision['rejected'] = [];
  const accepted: (Candidate & { update: SparseUpdate })[] = [];
  const signers = new Set<string>();
  const addresses = new Set<string>();
  const sorted = [...o.candidates].sort((a, b) => (toHex(a.header.id) < toHex(b.header.id) ? -1 : 1));
  for (const c of sorted) {
    const h = c.header;
    const reject = (reason: string): void => void rejected.push({ id: toHex(h.id), peerAddress: h.peerAddress, reason });
    if (h.runId !== o.runId || h.window !== o.window) reject(`for run ${h.runId} window ${h.window}`);
    else if (!equalBytes(h.baseHash, base)) reject('trained on another base model (out of sync)');
    else if (h.steps < o.minSteps) reject(`${h.steps} inner steps, the run requires ${o.minSteps}`);
    else if (signers.has(toHex(h.publicKey))) reject('a second contribution from the same key in one window');
    else if (addresses.has(h.peerAddress)) reject('a second contribution for the same address in one window');
    else {
      try {
        verifyContributionAuthority(h, o.windowStartMs);
        accepted.push({ ...c, update: decodeSparseLoCo(c.payload, plan) });
        signers.add(toHex(h.publicKey));
        addresses.add(h.peerAddress);
      } catch (err) {
        if (!(err instanceof CodecError) && !(err instanceof WalletError)) throw err;
        reject(err instanceof WalletError ? `${err.code}: ${err.message}` : err.message);
      }
    }
  }
  const next = o.theta.slice();
  if (accepted.length) applySparseOuterStep(next, accepted.map((a) => a.update), o.outerLr);
  const manifest = signManifest({ runId: o.runId, window: o.window, baseHash: base, accepted: accepted.map((a) => a.header.id), outerLr: o.outerLr, nextHash: modelHash(next) }, o.signer);
  return { manifest, next, accepted: accepted.map(({ header, payload }) => ({ header, payload })), rejected };
}
