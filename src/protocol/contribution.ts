// Signed contribution headers and validator manifests: canonical encoding, domain-separated
// signatures, and decoders that refuse anything malformed, oversized or badly signed.
import { ByteReader, ByteWriter, ProtocolError } from './bytes';
import { contentHash, HASH_BYTES } from './hash';
import { PUBLIC_KEY_BYTES, SIGNATURE_BYTES, verifySignature, type Signer } from './keys';

export const PROTOCOL_LIMITS = {
  maxRunIdBytes: 64,
  maxAddressBytes: 64,
  /** A wallet's delegation certificate (src/wallet/certificate.ts) is about 200 bytes. */
  maxCertificateBytes: 512,
  /** A contribution payload for the largest preset stays far below this. */
  maxPayloadBytes: 32 * 2 ** 20,
  maxManifestEntries: 1024,
  maxOuterLr: 10,
  /** A reported mean training loss above this is nonsense for any vocabulary we ship (ln 65536 ≈ 11). */
  maxTrainLoss: 64,
} as const;

const RUN_ID = /^[A-Za-z0-9._:-]{1,64}$/;
const CONTRIBUTION_DOMAIN = 'tessera/contribution/v1';
const MANIFEST_DOMAIN = 'tessera/manifest/v1';

export interface ContributionFields {
  runId: string;
  window: number;
  /** hash(θ_w) the peer trained from. */
  baseHash: Uint8Array;
  payloadHash: Uint8Array;
  payloadBytes: number;
  /**
   * The SS58 address its data pages derive from: the wallet's when `certificate` delegates to
   * the signing key, else the signing key's own (src/wallet/authority.ts checks which).
   */
  peerAddress: string;
  steps: number;
  tokens: number;
  /**
   * The peer's own mean training loss over the window (0: not reported). Self-reported, so
   * it is only shown on the dashboard; the validator scores by the loss it measures itself.
   */
  trainLoss?: number;
  /** The wallet's encoded delegation certificate for the signing key, or empty (no rewards). */
  certificate: Uint8Array;
}

export interface SignedBy {
  scheme: number;
  publicKey: Uint8Array;
  signature: Uint8Array;
}

export type Contribution = ContributionFields & SignedBy & { bytes: Uint8Array; id: Uint8Array; trainLoss: number };

function writeContributionBody(w: ByteWriter, c: ContributionFields): ByteWriter {
  return w
    .string(c.runId)
    .u32(c.window)
    .fixed(c.baseHash, HASH_BYTES)
    .fixed(c.payloadHash, HASH_BYTES)
    .u32(c.payloadBytes)
    .string(c.peerAddress)
    .u32(c.steps)
    .u32(c.tokens)
    .f32(c.trainLoss ?? 0)
    .bytes(c.certificate);
}

function checkRunId(runId: string): void {
  if (!RUN_ID.test(runId)) throw new ProtocolError('bad-field', `run id ${JSON.stringify(runId.slice(0, 80))} must match ${RUN_ID.source}`);
}

/** What the signature covers: the domain tag (so it means nothing elsewhere), then the body. */
function signedMessage(domain: string, body: Uint8Array): Uint8Array {
  return new ByteWriter().string(domain).fixed(body, body.length).finish();
}

/** body ‖ scheme ‖ public key ‖ signature, and the content id of those bytes. */
function seal(domain: string, body: Uint8Array, signer: Signer): SignedBy & { bytes: Uint8Array; id: Uint8Array } {
  const signature = signer.sign(signedMessage(domain, body));
  const bytes = new ByteWriter()
    .fixed(body, body.length)
    .u8(signer.scheme)
    .fixed(signer.publicKey, PUBLIC_KEY_BYTES)
    .fixed(signature, SIGNATURE_BYTES)
    .finish();
  return { scheme: signer.scheme, publicKey: signer.publicKey, signature, bytes, id: contentHash(bytes) };
}

/** The fields every signed message starts with: run id (checked), window, base model hash. */
function readRunHeader(r: ByteReader, what: string, expectRunId?: string): { runId: string; window: number; baseHash: Uint8Array } {
  const runId = r.string(PROTOCOL_LIMITS.maxRunIdBytes, 'runId');
  checkRunId(runId);
  if (expectRunId !== undefined && runId !== expectRunId) throw new ProtocolError('wrong-run', `${what} for run ${runId}, this is ${expectRunId}`);
  return { runId, window: r.u32('window'), baseHash: r.fixed(HASH_BYTES, 'baseHash') };
}

/** Reads the trailing signature and verifies it over everything before it; the reader must end there. */
function readSeal(r: ByteReader, bytes: Uint8Array, domain: string, what: string): SignedBy & { bytes: Uint8Array; id: Uint8Array } {
  const bodyEnd = bytes.length - 1 - PUBLIC_KEY_BYTES - SIGNATURE_BYTES;
  const scheme = r.u8('scheme');
  const publicKey = r.fixed(PUBLIC_KEY_BYTES, 'publicKey');
  const signature = r.fixed(SIGNATURE_BYTES, 'signature');
  r.end();
  if (!verifySignature(scheme, publicKey, signedMessage(domain, bytes.subarray(0, bodyEnd)), signature))
    throw new ProtocolError('bad-signature', `${what} signature does not verify`);
  return { scheme, publicKey, signature, bytes: bytes.slice(), id: contentHash(bytes) };
}

export function signContribution(fields: ContributionFields, signer: Signer): Contribution {
  checkRunId(fields.runId);
  if (fields.certificate.length > PROTOCOL_LIMITS.maxCertificateBytes) throw new RangeError('certificate too large');
  const loss = Math.fround(fields.trainLoss ?? 0);
  if (!(loss >= 0 && loss <= PROTOCOL_LIMITS.maxTrainLoss))
    throw new RangeError(`train loss ${loss} outside [0, ${PROTOCOL_LIMITS.maxTrainLoss}]: pass it through reportableLoss`);
  return {
    ...fields,
    trainLoss: Math.fround(fields.trainLoss ?? 0),
    ...seal(CONTRIBUTION_DOMAIN, writeContributionBody(new ByteWriter(), fields).finish(), signer),
  };
}

export function decodeContribution(bytes: Uint8Array, expectRunId?: string): Contribution {
  const r = new ByteReader(bytes);
  const { runId, window, baseHash } = readRunHeader(r, 'contribution', expectRunId);
  const payloadHash = r.fixed(HASH_BYTES, 'payloadHash');
  const payloadBytes = r.u32('payloadBytes');
  if (payloadBytes === 0 || payloadBytes > PROTOCOL_LIMITS.maxPayloadBytes)
    throw new ProtocolError('too-large', `payloadBytes ${payloadBytes} outside 1..${PROTOCOL_LIMITS.maxPayloadBytes}`);
  const peerAddress = r.string(PROTOCOL_LIMITS.maxAddressBytes, 'peerAddress');
  if (peerAddress.length === 0) throw new ProtocolError('bad-field', 'peerAddress is empty');
  const steps = r.u32('steps');
  const tokens = r.u32('tokens');
  const trainLoss = checkTrainLoss(r.f32('trainLoss'));
  const certificate = r.bytes(PROTOCOL_LIMITS.maxCertificateBytes, 'certificate');
  const sealed = readSeal(r, bytes, CONTRIBUTION_DOMAIN, 'contribution');
  return { runId, window, baseHash, payloadHash, payloadBytes, peerAddress, steps, tokens, trainLoss, certificate, ...sealed };
}

export interface ManifestFields {
  runId: string;
  window: number;
  baseHash: Uint8Array;
  /** Accepted contribution ids (header hashes), in the order the outer step applies them. */
  accepted: Uint8Array[];
  outerLr: number;
  /** hash(θ_{w+1}) after applying them: every replica checks its own against it. */
  nextHash: Uint8Array;
}

export type Manifest = ManifestFields & SignedBy & { bytes: Uint8Array; id: Uint8Array };

function writeManifestBody(m: ManifestFields): Uint8Array {
  const w = new ByteWriter().string(m.runId).u32(m.window).fixed(m.baseHash, HASH_BYTES).u32(m.accepted.length);
  for (const id of m.accepted) w.fixed(id, HASH_BYTES);
  return w.f32(m.outerLr).fixed(m.nextHash, HASH_BYTES).finish();
}

function checkTrainLoss(loss: number): number {
  if (!(loss >= 0 && loss <= PROTOCOL_LIMITS.maxTrainLoss))
    throw new ProtocolError('bad-field', `train loss ${loss} outside [0, ${PROTOCOL_LIMITS.maxTrainLoss}]`);
  return loss;
}

/** A training loss as a header may carry it: 0 (not reported) when missing, diverged or absurd. */
export function reportableLoss(loss: number | undefined): number {
  return loss !== undefined && loss >= 0 && loss <= PROTOCOL_LIMITS.maxTrainLoss ? Math.fround(loss) : 0;
}

function checkLr(lr: number): void {
  if (!(lr > 0 && lr <= PROTOCOL_LIMITS.maxOuterLr)) throw new ProtocolError('bad-field', `outer lr ${lr} outside (0, ${PROTOCOL_LIMITS.maxOuterLr}]`);
}

export function signManifest(fields: ManifestFields, signer: Signer): Manifest {
  checkRunId(fields.runId);
  checkLr(fields.outerLr);
  if (fields.accepted.length > PROTOCOL_LIMITS.maxManifestEntries) throw new RangeError('too many manifest entries');
  const rounded = { ...fields, outerLr: Math.fround(fields.outerLr) };
  return { ...rounded, ...seal(MANIFEST_DOMAIN, writeManifestBody(rounded), signer) };
}

export function decodeManifest(bytes: Uint8Array, expectRunId?: string): Manifest {
  const r = new ByteReader(bytes);
  const { runId, window, baseHash } = readRunHeader(r, 'manifest', expectRunId);
  const count = r.u32('accepted count');
  if (count > PROTOCOL_LIMITS.maxManifestEntries)
    throw new ProtocolError('too-large', `${count} manifest entries exceed ${PROTOCOL_LIMITS.maxManifestEntries}`);
  const accepted = Array.from({ length: count }, (_, i) => r.fixed(HASH_BYTES, `accepted[${i}]`));
  const outerLr = r.f32('outerLr');
  checkLr(outerLr);
  const nextHash = r.fixed(HASH_BYTES, 'nextHash');
  return { runId, window, baseHash, accepted, outerLr, nextHash, ...readSeal(r, bytes, MANIFEST_DOMAIN, 'manifest') };
}
