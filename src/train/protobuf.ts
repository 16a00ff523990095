// A minimal Protocol Buffers writer: just the wire types ONNX needs (varint, 32-bit,
// length-delimited), so the exporter carries no protobuf library into the page bundle.

/** Bytes of one message under construction; nested messages are written as byte strings. */
export class ProtoWriter {
  private chunks: Uint8Array[] = [];
  private length = 0;

  /** Field with wire type 0 (int32/int64/enum). Numbers must be non-negative safe integers. */
  varint(field: number, value: number): this {
    this.tag(field, 0);
    this.rawVarint(value);
    return this;
  }

  /** Field with wire type 5 (float). */
  float(field: number, value: number): this {
    this.tag(field, 5);
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setFloat32(0, value, true);
    this.push(bytes);
    return this;
  }

  /** Field with wire type 2: raw bytes, a UTF-8 string or a nested message. */
  bytes(field: number, value: Uint8Array | string | ProtoWriter): this {
    const data = typeof value === 'string' ? new TextEncoder().encode(value) : value instanceof ProtoWriter ? value.finish() : value;
    this.tag(field, 2);
    this.rawVarint(data.length);
    this.push(data);
    return this;
  }

  /** A repeated int64 field in packed form (proto3's default encoding for scalars). */
  packedVarints(field: number, values: readonly number[]): this {
    const inner = new ProtoWriter();
    for (const v of values) inner.rawVarint(v);
    return this.bytes(field, inner.finish());
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }

  private tag(field: number, wireType: number): void {
    this.rawVarint(field * 8 + wireType);
  }

  /** Negative int64 values would need 10-byte two's complement; ONNX graphs here never use them. */
  private rawVarint(value: number): void {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`varint must be a non-negative safe integer, got ${value}`);
    const bytes: number[] = [];
    let v = value;
    while (v >= 0x80) {
      bytes.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    bytes.push(v);
    this.push(Uint8Array.from(bytes));
  }

  private push(bytes: Uint8Array): void {
    this.chunks.push(bytes);
    this.length += bytes.length;
  }
}
