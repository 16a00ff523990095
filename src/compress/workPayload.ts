// A unit-mode contribution's payload: the update for the model plus one receipt per work unit
// (that unit's own delta, compressed alone), so a validator can test any unit's pages.
import { chunkPlan, DEFAULT_SPARSELOCO, type ChunkPlan, type SparseLoCoParams } from './chunks';
import type { ParamLayout } from '../model/layout';
import { CodecError, decodeSparseLoCo, maxPayloadBytes, type SparseUpdate } from './sparseloco';

/** 'TSWU' */
const MAGIC = [0x54, 0x53, 0x57, 0x55];
export const WORK_PAYLOAD_VERSION = 1;
/** magic, version, 3 reserved, unit count, main length. */
const HEAD_BYTES = 4 + 1 + 3 + 4 + 4;
/** Units one contribution may claim at most: bounds the receipts a validator must hold. */
export const MAX_UNITS = 250;

/**
 * A receipt keeps the unit's delta at the update's density but without error feedback: the
 * unit's own trace on its pages is what the validator tests, nothing carried from before.
 * Only the encoder's β differs, so receipts decode (and are capped) with the update's plan.
 */
export const RECEIPT_SPARSELOCO: SparseLoCoParams = { ...DEFAULT_SPARSELOCO, beta: 0 };

/** The plan a receipt encoder uses: a SparseLoCoEncoder on it (β = 0) keeps nothing between receipts. */
export function receiptPlan(layout: ParamLayout): ChunkPlan {
  return chunkPlan(layout, RECEIPT_SPARSELOCO);
}

export interface WorkPayload {
  /** The SparseLoCo payload the outer step applies. */
  main: Uint8Array;
  /** Receipt u: SparseLoCo payload (receipt plan) of θ_w − θ after unit u alone. */
  receipts: Uint8Array[];
}

export interface DecodedWorkPayload {
  main: SparseUpdate;
  /** Receipts stay bytes until a validator samples them: most are never decoded. */
  receipts: Uint8Array[];
}

export function isWorkPayload(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && MAGIC.every((b, i) => bytes[i] === b);
}

export function packWorkPayload(p: WorkPayload): Uint8Array {
  if (p.receipts.length < 1 || p.receipts.length > MAX_UNITS) throw new RangeError(`a work payload carries 1..${MAX_UNITS} receipts, got ${p.receipts.length}`);
  const total = HEAD_BYTES + p.main.length + p.receipts.reduce((s, r) => s + 4 + r.length, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  out[4] = WORK_PAYLOAD_VERSION;
  view.setUint32(8, p.receipts.length, true);
  view.setUint32(12, p.main.length, true);
  out.set(p.main, HEAD_BYTES);
  let at = HEAD_BYTES + p.main.length;
  for (const r of p.receipts) {
    view.setUint32(at, r.length, true);
    out.set(r, at + 4);
    at += 4 + r.length;
  }
  return out;
}

/** The largest valid work payload for this plan: the receive cap. */
export function maxWorkPayloadBytes(plan: ChunkPlan): number {
  return HEAD_BYTES + (1 + MAX_UNITS) * (4 + maxPayloadBytes(plan));
}

/**
 * Splits a hostile work payload: every length is checked against its plan's cap before it is
 * used, the main update is decoded (CodecError when anything is wrong), receipts are sliced.
 */
export function decodeWorkPayload(bytes: Uint8Array, plan: ChunkPlan): DecodedWorkPayload {
  if (bytes.length < HEAD_BYTES) throw new CodecError('truncated', `work payload of ${bytes.length} bytes is shorter than its ${HEAD_BYTES}-byte head`);
  if (!isWorkPayload(bytes)) throw new CodecError('bad-magic', 'not a work payload (magic TSWU)');
  if (bytes[4] !== WORK_PAYLOAD_VERSION) throw new CodecError('unknown-version', `work payload version ${bytes[4]}, this build reads ${WORK_PAYLOAD_VERSION}`);
  if (bytes[5] || bytes[6] || bytes[7]) throw new CodecError('non-canonical', 'reserved bytes of a work payload must be zero');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = view.getUint32(8, true);
  const mainLength = view.getUint32(12, true);
  if (count < 1 || count > MAX_UNITS) throw new CodecError('oversized', `work payload claims ${count} units, allowed 1..${MAX_UNITS}`);
  const mainCap = maxPayloadBytes(plan);
  const receiptCap = mainCap;
  if (mainLength > mainCap || HEAD_BYTES + mainLength > bytes.length)
    throw new CodecError('oversized', `main update of ${mainLength} bytes (cap ${mainCap}, ${bytes.length - HEAD_BYTES} left)`);
  const main = decodeSparseLoCo(bytes.subarray(HEAD_BYTES, HEAD_BYTES + mainLength), plan);
  const out: Uint8Array[] = [];
  let at = HEAD_BYTES + mainLength;
  for (let u = 0; u < count; u++) {
    if (at + 4 > bytes.length) throw new CodecError('truncated', `receipt ${u} of ${count} is missing`);
    const length = view.getUint32(at, true);
    if (length > receiptCap || at + 4 + length > bytes.length)
      throw new CodecError('oversized', `receipt ${u} of ${length} bytes (cap ${receiptCap}, ${bytes.length - at - 4} left)`);
    out.push(bytes.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
  if (at !== bytes.length) throw new CodecError('non-canonical', `${bytes.length - at} bytes after the last receipt`);
  return { main, receipts: out };
}

/** A work payload's main part, unchecked but in bounds (CodecError when it is cut short). */
export function workPayloadMain(bytes: Uint8Array): Uint8Array {
  if (bytes.length < HEAD_BYTES) throw new CodecError('truncated', 'work payload head is cut short');
  const mainLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(12, true);
  if (HEAD_BYTES + mainLength > bytes.length) throw new CodecError('truncated', 'work payload main update is cut short');
  return bytes.subarray(HEAD_BYTES, HEAD_BYTES + mainLength);
}

/** The update a payload applies: a plain SparseLoCo payload, or a work payload's main part. */
export function decodeAppliedUpdate(bytes: Uint8Array, plan: ChunkPlan): SparseUpdate {
  return decodeSparseLoCo(isWorkPayload(bytes) ? workPayloadMain(bytes) : bytes, plan);
}
