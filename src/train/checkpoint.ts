// Checkpoints as one self-describing byte string: magic, a JSON header (model config,
// tokenizer, step, sizes, SHA-256 of the body) and the body (parameters, Adam moments).
// Decoding verifies everything before returning anything, so a bad file is never half-loaded.
import type { GptConfig } from '../model/config';
import type { TrainingState } from '../gpu/model';
import type { TokenizerSpec } from './tokenizer';

const MAGIC = 'TESSERA-CKPT-1\n';
/** Headers are small; a larger claim is corruption, refused before parsing. */
const MAX_HEADER_BYTES = 64 * 1024;

export interface CheckpointMeta {
  config: GptConfig;
  tokenizer: TokenizerSpec;
  /** Optimizer steps taken: the next step is step + 1. */
  step: number;
  preset?: string;
  savedAt: string;
}

export interface Checkpoint {
  meta: CheckpointMeta;
  state: TrainingState;
  /** SHA-256 of the body, hex: the checkpoint's identity. */
  hash: string;
}

export type CheckpointErrorCode = 'truncated' | 'bad-magic' | 'bad-header' | 'hash-mismatch' | 'model-mismatch';

export class CheckpointError extends Error {
  readonly code: CheckpointErrorCode;
  constructor(code: CheckpointErrorCode, message: string) {
    super(message);
    this.name = 'CheckpointError';
    this.code = code;
  }
}

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

function body(state: TrainingState): Uint8Array {
  const n = state.params.length;
  const out = new Float32Array(3 * n);
  out.set(state.params, 0);
  out.set(state.m, n);
  out.set(state.v, 2 * n);
  return new Uint8Array(out.buffer);
}

export async function encodeCheckpoint(meta: CheckpointMeta, state: TrainingState): Promise<{ bytes: Uint8Array; hash: string }> {
  if (state.m.length !== state.params.length || state.v.length !== state.params.length) throw new RangeError('parameters and moments differ in length');
  const payload = body(state);
  const hash = await sha256Hex(payload);
  const header = new TextEncoder().encode(JSON.stringify({ ...meta, floats: state.params.length, sha256: hash }));
  const magic = new TextEncoder().encode(MAGIC);
  const bytes = new Uint8Array(magic.length + 4 + header.length + payload.length);
  bytes.set(magic, 0);
  new DataView(bytes.buffer).setUint32(magic.length, header.length, true);
  bytes.set(header, magic.length + 4);
  bytes.set(payload, magic.length + 4 + header.length);
  return { bytes, hash };
}

interface Header extends CheckpointMeta {
  floats: number;
  sha256: string;
}

function parseHeader(bytes: Uint8Array, magicLength: number): { header: Header; bodyStart: number } {
  if (bytes.length < magicLength + 4) throw new CheckpointError('truncated', `checkpoint of ${bytes.length} bytes is shorter than its header`);
  const length = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(magicLength, true);
  if (length > MAX_HEADER_BYTES || magicLength + 4 + length > bytes.length) throw new CheckpointError('truncated', `checkpoint header claims ${length} bytes`);
  let header: Header;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(magicLength + 4, magicLength + 4 + length))) as Header;
  } catch (err) {
    throw new CheckpointError('bad-header', `checkpoint header is not valid JSON: ${(err as Error).message}`);
  }
  const ok =
    header &&
    typeof header === 'object' &&
    Number.isInteger(header.floats) &&
    header.floats > 0 &&
    Number.isInteger(header.step) &&
    header.step >= 0 &&
    typeof header.sha256 === 'string' &&
    typeof header.config === 'object' &&
    header.config !== null &&
    typeof header.tokenizer === 'object' &&
    header.tokenizer !== null;
  if (!ok) throw new CheckpointError('bad-header', 'checkpoint header lacks floats, step, sha256, config or tokenizer');
  return { header, bodyStart: magicLength + 4 + length };
}

/**
 * Verifies and decodes a checkpoint. With `expect`, also refuses one made for another model
 * shape or tokenizer. Throws CheckpointError; returns only a fully verified checkpoint.
 */
export async function decodeCheckpoint(bytes: Uint8Array, expect?: { config: GptConfig; floats: number; tokenizer?: TokenizerSpec }): Promise<Checkpoint> {
  const magic = new TextEncoder().encode(MAGIC);
  if (bytes.length < magic.length || magic.some((b, i) => bytes[i] !== b)) throw new CheckpointError('bad-magic', 'not a Tessera checkpoint');
  const { header, bodyStart } = parseHeader(bytes, magic.length);
  const payload = bytes.slice(bodyStart);
  if (payload.length !== header.floats * 12)
    throw new CheckpointError('truncated', `checkpoint body has ${payload.length} bytes, header says ${header.floats * 12}`);
  const hash = await sha256Hex(payload);
  if (hash !== header.sha256)
    throw new CheckpointError(
      'hash-mismatch',
      `checkpoint content hash ${hash.slice(0, 12)}… does not match its header ${header.sha256.slice(0, 12)}…: the file is corrupt`,
    );
  if (expect) {
    const a = JSON.stringify(expect.config);
    const b = JSON.stringify(header.config);
    if (a !== b || expect.floats !== header.floats) throw new CheckpointError('model-mismatch', `checkpoint is for model ${b}, this run uses ${a}`);
    if (expect.tokenizer && JSON.stringify(expect.tokenizer) !== JSON.stringify(header.tokenizer))
      throw new CheckpointError('model-mismatch', 'checkpoint was made with a different tokenizer');
  }
  const all = new Float32Array(payload.buffer, payload.byteOffset, header.floats * 3);
  const n = header.floats;
  const meta: CheckpointMeta = { config: header.config, tokenizer: header.tokenizer, step: header.step, savedAt: header.savedAt };
  if (header.preset !== undefined) meta.preset = header.preset;
  return { meta, hash, state: { params: all.slice(0, n), m: all.slice(n, 2 * n), v: all.slice(2 * n) } };
}
