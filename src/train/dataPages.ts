// Which text a peer trains on: batch offsets derived from (run seed, peer address, window)
// through SHA-256, so a validator recomputes them exactly and peers cannot pick their data;
// and random pages, from a separate seed, for validation.

export interface PageRequest {
  /** Sequences wanted (steps × sequences per step). */
  count: number;
  /** Tokens per sequence; each page needs seqLen + 1 tokens (inputs and targets). */
  seqLen: number;
  /** Length of the token array the offsets index. */
  corpusLength: number;
}

const DOMAIN = 'tessera/data-pages/v1';

async function sha256(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
}

/**
 * `count` offsets in [0, corpusLength − seqLen − 1], from SHA-256 in counter mode over a
 * key. Each offset takes 53 bits (exact in a double), so every engine computes the same.
 */
async function offsetsFromKey(key: Uint8Array, request: PageRequest): Promise<Uint32Array> {
  const { count, seqLen, corpusLength } = request;
  const range = corpusLength - seqLen;
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`count must be a non-negative integer, got ${count}`);
  if (!Number.isInteger(seqLen) || seqLen <= 0 || range < 1)
    throw new RangeError(`a corpus of ${corpusLength} tokens has no room for sequences of ${seqLen} + 1 tokens`);
  const out = new Uint32Array(count);
  const block = new Uint8Array(key.length + 4);
  block.set(key);
  const counterView = new DataView(block.buffer, key.length, 4);
  for (let i = 0; i < count; i += 4) {
    counterView.setUint32(0, i / 4, true);
    const words = new DataView((await sha256(block)).buffer);
    for (let j = 0; j < 4 && i + j < count; j++) {
      const hi = words.getUint32(8 * j, true);
      const lo = words.getUint32(8 * j + 4, true);
      const unit = (hi * 2 ** 21 + (lo >>> 11)) / 2 ** 53;
      out[i + j] = Math.floor(unit * range);
    }
  }
  return out;
}

function keyInput(parts: (string | number)[]): Uint8Array {
  // NUL separators: no two different part lists give the same bytes.
  return new TextEncoder().encode([DOMAIN, ...parts.map(String)].join('\0'));
}

export interface AssignedPagesRequest extends PageRequest {
  runSeed: string;
  peerAddress: string;
  window: number;
}

/** The offsets a peer must train on in a window; a validator recomputes the same. */
export async function assignedPages(request: AssignedPagesRequest): Promise<Uint32Array> {
  if (!Number.isInteger(request.window) || request.window < 0) throw new RangeError(`window must be a non-negative integer, got ${request.window}`);
  if (request.peerAddress.length === 0) throw new RangeError('peerAddress is empty');
  const key = await sha256(keyInput(['assigned', request.runSeed, request.peerAddress, request.window]));
  return offsetsFromKey(key, request);
}

export interface UnitPagesRequest extends AssignedPagesRequest {
  /** Which work unit of the window (0-based): each unit has its own pages. */
  unit: number;
}

/** The offsets of one work unit (unit mode: units are trained from θ_w one by one). */
export async function unitPages(request: UnitPagesRequest): Promise<Uint32Array> {
  if (!Number.isInteger(request.window) || request.window < 0) throw new RangeError(`window must be a non-negative integer, got ${request.window}`);
  if (!Number.isInteger(request.unit) || request.unit < 0) throw new RangeError(`unit must be a non-negative integer, got ${request.unit}`);
  if (request.peerAddress.length === 0) throw new RangeError('peerAddress is empty');
  const key = await sha256(keyInput(['unit', request.runSeed, request.peerAddress, request.window, request.unit]));
  return offsetsFromKey(key, request);
}

/** Offsets drawn from `seed` alone (validation, the validator's random pages). */
export async function randomPages(seed: string, request: PageRequest): Promise<Uint32Array> {
  const key = await sha256(keyInput(['random', seed]));
  return offsetsFromKey(key, request);
}

/**
 * Each batch of assigned pages is trained twice, in consecutive steps. A single pass leaves
 * too little trace of the pages for the validator to tell work on them from work on other
 * text (docs/VALIDATOR.md has the measurements); two passes make the proof of work clear.
 */
export const PASSES_PER_BATCH = 2;

/** Which of the window's assigned batches inner step `s` (counted from 0) trains on. */
export function batchForStep(s: number): number {
  return Math.floor(s / PASSES_PER_BATCH);
}

/** How many assigned pages a peer that took `steps` steps trained on. */
export function pagesTrained(steps: number, sequencesPerStep: number): number {
  return Math.ceil(steps / PASSES_PER_BATCH) * sequencesPerStep;
}
