// Mesh messages: one type byte, then a body. Contributions are announced (header only) and
// pulled by id; manifests are flooded; checkpoints move in chunks. Decoding checks every cap.
import { ByteReader, ByteWriter, ProtocolError } from './bytes';
import { HASH_BYTES } from './hash';
import { PROTOCOL_LIMITS } from './contribution';

export const CHECKPOINT_CHUNK_BYTES = 256 * 1024;
const MAX_HEADER_BYTES = 1024;
const MAX_MANIFEST_BYTES = 256 + PROTOCOL_LIMITS.maxManifestEntries * HASH_BYTES;
/** The largest mesh message any type can be (a payload at its cap): links refuse bigger ones before reassembly. */
export const MAX_WIRE_BYTES = 1 + HASH_BYTES + 4 + Math.max(PROTOCOL_LIMITS.maxPayloadBytes, 12 + CHECKPOINT_CHUNK_BYTES, MAX_MANIFEST_BYTES);

export type WireMessage =
  | { type: 'announce'; contribution: Uint8Array }
  | { type: 'want'; id: Uint8Array }
  | { type: 'payload'; id: Uint8Array; payload: Uint8Array }
  | { type: 'manifest'; manifest: Uint8Array }
  | { type: 'checkpoint-want'; window: number; chunk: number }
  | { type: 'checkpoint-chunk'; window: number; chunk: number; chunks: number; data: Uint8Array };

const TYPES = ['announce', 'want', 'payload', 'manifest', 'checkpoint-want', 'checkpoint-chunk'] as const;

export function encodeWire(m: WireMessage): Uint8Array {
  const w = new ByteWriter().u8(TYPES.indexOf(m.type) + 1);
  switch (m.type) {
    case 'announce':
      return w.bytes(m.contribution).finish();
    case 'want':
      return w.fixed(m.id, HASH_BYTES).finish();
    case 'payload':
      return w.fixed(m.id, HASH_BYTES).bytes(m.payload).finish();
    case 'manifest':
      return w.bytes(m.manifest).finish();
    case 'checkpoint-want':
      return w.u32(m.window).u32(m.chunk).finish();
    case 'checkpoint-chunk':
      return w.u32(m.window).u32(m.chunk).u32(m.chunks).bytes(m.data).finish();
  }
}

/** Parses one mesh message or throws ProtocolError (the sender is then dropped). */
export function decodeWire(bytes: Uint8Array): WireMessage {
  const r = new ByteReader(bytes);
  const type = TYPES[r.u8('type') - 1] as (typeof TYPES)[number] | undefined;
  let m: WireMessage;
  switch (type) {
    case 'announce':
      m = { type, contribution: r.bytes(MAX_HEADER_BYTES, 'contribution') };
      break;
    case 'want':
      m = { type, id: r.fixed(HASH_BYTES, 'id') };
      break;
    case 'payload':
      m = { type, id: r.fixed(HASH_BYTES, 'id'), payload: r.bytes(PROTOCOL_LIMITS.maxPayloadBytes, 'payload') };
      break;
    case 'manifest':
      m = { type, manifest: r.bytes(MAX_MANIFEST_BYTES, 'manifest') };
      break;
    case 'checkpoint-want':
      m = { type, window: r.u32('window'), chunk: r.u32('chunk') };
      break;
    case 'checkpoint-chunk': {
      const [window, chunk, chunks] = [r.u32('window'), r.u32('chunk'), r.u32('chunks')];
      if (chunks === 0 || chunk >= chunks) throw new ProtocolError('bad-field', `checkpoint chunk ${chunk} of ${chunks}`);
      m = { type, window, chunk, chunks, data: r.bytes(CHECKPOINT_CHUNK_BYTES, 'checkpoint data') };
      break;
    }
    default:
      throw new ProtocolError('unknown-type', `message type byte ${bytes[0]}`);
  }
  r.end();
  return m;
}
