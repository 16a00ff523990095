// The two index streams a SparseLoCo payload may carry: fixed-width packed indices (Templar's
// 12 bits) or Rice-coded gaps between sorted indices (≈ 7.5 bits at 64 of 4096). LSB-first bits.
import type { TopKChunk } from './topk';

/** Raised by the reader; the codec turns it into its own typed error. */
export class BitStreamError extends Error {
  constructor(
    readonly reason: 'truncated' | 'index-out-of-range' | 'duplicate-index' | 'unsorted-index' | 'non-canonical',
    message: string,
  ) {
    super(message);
  }
}

export class BitWriter {
  private bytes: number[] = [];
  private acc = 0;
  private held = 0;

  write(value: number, bits: number): void {
    for (let b = 0; b < bits; b++) this.bit((value >>> b) & 1);
  }

  bit(bit: number): void {
    this.acc |= bit << this.held;
    if (++this.held === 8) {
      this.bytes.push(this.acc);
      this.acc = 0;
      this.held = 0;
    }
  }

  /** The stream, zero-padded to a whole byte. */
  finish(): Uint8Array {
    return Uint8Array.from(this.held ? [...this.bytes, this.acc] : this.bytes);
  }
}

/** Reads a bounded byte range; running past it is 'truncated', never an out-of-bounds read. */
export class BitReader {
  private pos: number;

  constructor(
    private readonly bytes: Uint8Array,
    start: number,
    private readonly end: number,
  ) {
    this.pos = start * 8;
  }

  bit(): number {
    if (this.pos >= this.end * 8) throw new BitStreamError('truncated', 'the stream ended early');
    const b = (this.bytes[this.pos >> 3] >> (this.pos & 7)) & 1;
    this.pos++;
    return b;
  }

  read(bits: number): number {
    let v = 0;
    for (let b = 0; b < bits; b++) v += this.bit() * 2 ** b;
    return v;
  }

  /** One encoding per content: the stream must end in its last byte, with zero padding. */
  finish(): void {
    if (Math.ceil(this.pos / 8) !== this.end)
      throw new BitStreamError('non-canonical', `${this.end - Math.ceil(this.pos / 8)} unused bytes after the index stream`);
    while (this.pos < this.end * 8) if (this.bit() !== 0) throw new BitStreamError('non-canonical', 'padding bits are not zero');
  }
}

export type IndexCoding = 'packed' | 'rice';

/** Rice parameter for k sorted indices among n: ⌊log2(n / k)⌋, in integers (same everywhere). */
export function riceParameter(n: number, k: number): number {
  let r = 0;
  while (k * 2 ** (r + 1) <= n) r++;
  return r;
}

/** Largest index stream, in bytes, any valid payload can have: the receiver's size cap. */
export function maxIndexBytes(chunks: readonly TopKChunk[], coding: IndexCoding, indexBits: number): number {
  let bits = 0;
  for (const c of chunks) {
    const n = c.rows * c.cols;
    if (coding === 'packed') bits += c.k * indexBits;
    else {
      // Σ gaps ≤ n − k, so the unary parts add up to at most ⌊(n − k) / 2^r⌋ ones plus k zeros.
      const r = riceParameter(n, c.k);
      bits += Math.floor((n - c.k) / 2 ** r) + c.k * (1 + r);
    }
  }
  return Math.ceil(bits / 8);
}

/** `local` holds each chunk's k indices, ascending, chunks concatenated. */
export function writeIndices(chunks: readonly TopKChunk[], local: Uint32Array, coding: IndexCoding, indexBits: number): Uint8Array {
  const w = new BitWriter();
  let i = 0;
  for (const c of chunks) {
    const r = riceParameter(c.rows * c.cols, c.k);
    let prev = -1;
    for (let e = 0; e < c.k; e++, i++) {
      if (coding === 'packed') {
        w.write(local[i], indexBits);
        continue;
      }
      const gap = local[i] - prev - 1;
      for (let q = Math.floor(gap / 2 ** r); q > 0; q--) w.bit(1);
      w.bit(0);
      w.write(gap % 2 ** r, r);
      prev = local[i];
    }
  }
  return w.finish();
}

/** The inverse of writeIndices over bytes [start, end); every index checked against its chunk. */
export function readIndices(
  bytes: Uint8Array,
  start: number,
  end: number,
  chunks: readonly TopKChunk[],
  total: number,
  coding: IndexCoding,
  indexBits: number,
): Uint32Array {
  const reader = new BitReader(bytes, start, end);
  const local = new Uint32Array(total);
  let i = 0;
  chunks.forEach((c, ci) => {
    const n = c.rows * c.cols;
    const r = riceParameter(n, c.k);
    let prev = -1;
    for (let e = 0; e < c.k; e++, i++) {
      let j: number;
      if (coding === 'packed') {
        j = reader.read(indexBits);
        if (e > 0 && j <= prev) throw new BitStreamError(j === prev ? 'duplicate-index' : 'unsorted-index', `chunk ${ci}: index ${j} after ${prev}`);
      } else {
        // The unary run is cut off as soon as it would leave the chunk: no input loops long.
        let q = 0;
        while (reader.bit() === 1)
          if (prev + 1 + ++q * 2 ** r >= n) throw new BitStreamError('index-out-of-range', `chunk ${ci}: gap leaves its ${n} elements`);
        j = prev + 1 + q * 2 ** r + reader.read(r);
      }
      if (j >= n) throw new BitStreamError('index-out-of-range', `chunk ${ci} has ${n} elements, index ${j}`);
      local[i] = j;
      prev = j;
    }
  });
  reader.finish();
  return local;
}
