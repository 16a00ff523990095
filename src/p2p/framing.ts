// Splits binary messages into data-channel frames (≤ 64 KiB, browsers cap a message near
// 256 KiB) and reassembles them from untrusted peers with hard caps on size and state.

/** Frame header: magic u16, version u8, flags u8, message id u32, index u32, count u32, total length u32. */
export const FRAME_HEADER_BYTES = 20;
export const MAX_FRAME_BYTES = 64 * 1024;
export const FRAME_PAYLOAD_BYTES = MAX_FRAME_BYTES - FRAME_HEADER_BYTES;
const MAGIC = 0x7e55; // "tess"
const VERSION = 1;

export type FramingErrorCode =
  'short-frame' | 'bad-magic' | 'bad-version' | 'too-large' | 'bad-index' | 'inconsistent' | 'duplicate' | 'bad-length' | 'too-many-pending';

/** A peer sent frames that cannot be part of a valid message; nothing was delivered. */
export class FramingError extends Error {
  readonly code: FramingErrorCode;
  constructor(code: FramingErrorCode, message: string) {
    super(message);
    this.name = 'FramingError';
    this.code = code;
  }
}

export function frameCount(byteLength: number): number {
  return Math.max(1, Math.ceil(byteLength / FRAME_PAYLOAD_BYTES));
}

/** Yields the frames of one message; the caller sends them in order. */
export function* encodeFrames(message: Uint8Array, messageId: number): Generator<Uint8Array> {
  const count = frameCount(message.byteLength);
  for (let index = 0; index < count; index++) {
    const payload = message.subarray(index * FRAME_PAYLOAD_BYTES, (index + 1) * FRAME_PAYLOAD_BYTES);
    const frame = new Uint8Array(FRAME_HEADER_BYTES + payload.byteLength);
    const view = new DataView(frame.buffer);
    view.setUint16(0, MAGIC);
    view.setUint8(2, VERSION);
    view.setUint8(3, 0);
    view.setUint32(4, messageId >>> 0);
    view.setUint32(8, index);
    view.setUint32(12, count);
    view.setUint32(16, message.byteLength);
    frame.set(payload, FRAME_HEADER_BYTES);
    yield frame;
  }
}

interface Pending {
  count: number;
  total: number;
  received: number;
  bytes: Uint8Array;
  seen: Uint8Array;
}

export interface ReassemblerLimits {
  /** Largest message accepted; larger announcements are refused before any allocation. */
  maxMessageBytes: number;
  /** Messages in flight at once from one peer. */
  maxPending: number;
}

/**
 * Reassembles frames from one peer. `push` returns a complete message, null while one is
 * still arriving, or throws FramingError; a throw leaves no partial message behind.
 */
export class Reassembler {
  private readonly pending = new Map<number, Pending>();
  constructor(private readonly limits: ReassemblerLimits) {}

  push(frame: Uint8Array): Uint8Array | null {
    if (frame.byteLength < FRAME_HEADER_BYTES) throw new FramingError('short-frame', `frame of ${frame.byteLength} bytes is shorter than its header`);
    if (frame.byteLength > MAX_FRAME_BYTES) throw new FramingError('too-large', `frame of ${frame.byteLength} bytes exceeds ${MAX_FRAME_BYTES}`);
    const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
    if (view.getUint16(0) !== MAGIC) throw new FramingError('bad-magic', 'frame does not start with the Tessera magic');
    if (view.getUint8(2) !== VERSION) throw new FramingError('bad-version', `frame version ${view.getUint8(2)} is not ${VERSION}`);
    const id = view.getUint32(4);
    const index = view.getUint32(8);
    const count = view.getUint32(12);
    const total = view.getUint32(16);
    const payload = frame.subarray(FRAME_HEADER_BYTES);
    this.checkHeader(index, count, total, payload.byteLength);
    const entry = this.entryFor(id, count, total);
    if (entry.seen[index]) {
      this.pending.delete(id);
      throw new FramingError('duplicate', `frame ${index} of message ${id} arrived twice`);
    }
    entry.seen[index] = 1;
    entry.bytes.set(payload, index * FRAME_PAYLOAD_BYTES);
    entry.received++;
    if (entry.received < entry.count) return null;
    this.pending.delete(id);
    return entry.bytes;
  }

  /** Drops half-received messages (e.g. after a timeout or a disconnect). */
  clear(): void {
    this.pending.clear();
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  private checkHeader(index: number, count: number, total: number, payloadBytes: number): void {
    if (total > this.limits.maxMessageBytes)
      throw new FramingError('too-large', `message of ${total} bytes exceeds the ${this.limits.maxMessageBytes}-byte cap`);
    if (count !== frameCount(total)) throw new FramingError('inconsistent', `frame count ${count} does not fit a ${total}-byte message`);
    if (index >= count) throw new FramingError('bad-index', `frame index ${index} is not below count ${count}`);
    const expected = index === count - 1 ? total - index * FRAME_PAYLOAD_BYTES : FRAME_PAYLOAD_BYTES;
    if (payloadBytes !== expected) throw new FramingError('bad-length', `frame ${index} carries ${payloadBytes} bytes, expected ${expected}`);
  }

  private entryFor(id: number, count: number, total: number): Pending {
    const existing = this.pending.get(id);
    if (existing) {
      if (existing.count !== count || existing.total !== total) {
        this.pending.delete(id);
        throw new FramingError('inconsistent', `frames of message ${id} disagree about its size`);
      }
      return existing;
    }
    if (this.pending.size >= this.limits.maxPending) throw new FramingError('too-many-pending', `more than ${this.limits.maxPending} messages in flight`);
    const entry = { count, total, received: 0, bytes: new Uint8Array(total), seen: new Uint8Array(count) };
    this.pending.set(id, entry);
    return entry;
  }
}
