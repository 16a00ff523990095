// Canonical binary encoding for protocol messages: fixed field order, little-endian integers,
// length-prefixed strings and byte arrays. One content has one encoding, so its hash is its id.

export type ProtocolErrorCode = 'truncated' | 'trailing-bytes' | 'too-large' | 'bad-field' | 'bad-signature' | 'wrong-run' | 'unknown-type' | 'unauthorized';

/** Every refusal of bytes from a peer: typed, with the field at fault. Nothing is half-applied. */
export class ProtocolError extends Error {
  constructor(
    readonly code: ProtocolErrorCode,
    message: string,
  ) {
    super(`protocol: ${code}: ${message}`);
    this.name = 'ProtocolError';
  }
}

export class ByteWriter {
  private parts: Uint8Array[] = [];
  private length = 0;

  private push(b: Uint8Array): this {
    this.parts.push(b);
    this.length += b.length;
    return this;
  }

  u8(v: number): this {
    return this.push(Uint8Array.of(v));
  }

  u32(v: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v, true);
    return this.push(b);
  }

  f32(v: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    return this.push(b);
  }

  /** Exactly n bytes (hashes, keys, signatures). */
  fixed(b: Uint8Array, n: number): this {
    if (b.length !== n) throw new RangeError(`expected ${n} bytes, got ${b.length}`);
    return this.push(b);
  }

  /** u32 length, then the bytes. */
  bytes(b: Uint8Array): this {
    return this.u32(b.length).push(b);
  }

  string(s: string): this {
    return this.bytes(new TextEncoder().encode(s));
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

export class ByteReader {
  private at = 0;
  private readonly view: DataView;

  constructor(private readonly data: Uint8Array) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  }

  private need(n: number, what: string): void {
    if (this.at + n > this.data.length) throw new ProtocolError('truncated', `${what} needs ${n} bytes at ${this.at} of ${this.data.length}`);
  }

  u8(what: string): number {
    this.need(1, what);
    return this.data[this.at++];
  }

  u32(what: string): number {
    this.need(4, what);
    const v = this.view.getUint32(this.at, true);
    this.at += 4;
    return v;
  }

  f32(what: string): number {
    this.need(4, what);
    const v = this.view.getFloat32(this.at, true);
    this.at += 4;
    return v;
  }

  fixed(n: number, what: string): Uint8Array {
    this.need(n, what);
    return this.data.slice(this.at, (this.at += n));
  }

  /** A length-prefixed field, refused before reading if longer than `max`. */
  bytes(max: number, what: string): Uint8Array {
    const n = this.u32(what);
    if (n > max) throw new ProtocolError('too-large', `${what} of ${n} bytes exceeds ${max}`);
    return this.fixed(n, what);
  }

  string(max: number, what: string): string {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(this.bytes(max, what));
    } catch (err) {
      if (err instanceof ProtocolError) throw err;
      throw new ProtocolError('bad-field', `${what} is not UTF-8`);
    }
  }

  /** The message must end exactly here: trailing bytes would give one content two encodings. */
  end(): void {
    if (this.at !== this.data.length) throw new ProtocolError('trailing-bytes', `${this.data.length - this.at} bytes after the message`);
  }
}

export const toHex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

export function fromHex(hex: string): Uint8Array {
  if (!/^([0-9a-f]{2})*$/.test(hex)) throw new RangeError('not lowercase hex');
  return Uint8Array.from({ length: hex.length / 2 }, (_, i) => parseInt(hex.slice(2 * i, 2 * i + 2), 16));
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
