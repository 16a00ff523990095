// Work payloads: the main update and one receipt per unit survive a round trip byte for byte,
// the outer step reads either payload format, and every malformed length or count is refused.
import { describe, expect, it } from 'vitest';
import { chunkPlan } from '../../src/compress/chunks';
import { CodecError, decodeSparseLoCo, SparseLoCoEncoder } from '../../src/compress/sparseloco';
import { decodeAppliedUpdate, decodeWorkPayload, MAX_UNITS, maxWorkPayloadBytes, packWorkPayload, receiptPlan } from '../../src/compress/workPayload';
import { checkConfig } from '../../src/model/config';
import { paramLayout } from '../../src/model/layout';
import { randomFloats } from '../support/random';

const layout = paramLayout(checkConfig({ vocabSize: 70, contextLength: 20, embedDim: 72, layers: 1, heads: 2 }));
const plan = chunkPlan(layout);
const rplan = receiptPlan(layout);
const base = randomFloats(layout.totalFloats, 1);
const unitAfter = (u: number): Float32Array => base.map((v, i) => v - 0.01 * Math.sin(i * 0.37 + u));

async function sample(units = 3): Promise<{ main: Uint8Array; receipts: Uint8Array[]; bytes: Uint8Array }> {
  const main = (await new SparseLoCoEncoder(plan, layout.totalFloats).encode(base, unitAfter(99))).bytes;
  const receipts = await Promise.all([...Array(units).keys()].map((u) => receiptOf(rplan, base, unitAfter(u))));
  return { main, receipts, bytes: packWorkPayload({ main, receipts }) };
}

function code(f: () => unknown): string {
  try {
    f();
    return 'accepted';
  } catch (err) {
    if (err instanceof CodecError) return err.code;
    throw err;
  }
}

/** A receipt as a peer makes one: the receipt plan's encoder (β = 0) on θ_w → θ after a unit. */
async function receiptOf(rplan: ReturnType<typeof receiptPlan>, base: Float32Array, after: Float32Array): Promise<Uint8Array> {
  return (await new SparseLoCoEncoder(rplan, base.length).encode(base, after)).bytes;
}
describe('work payloads', () => {
  it('round-trip the main update and every receipt, and fit the receive cap', async () => {
    const { main, receipts, bytes } = await sample();
    const decoded = decodeWorkPayload(bytes, plan);
    expect(decoded.main).toEqual(decodeSparseLoCo(main, plan));
    expect(decoded.receipts.map((r) => Array.from(r))).toEqual(receipts.map((r) => Array.from(r)));
    expect(bytes.length).toBeLessThanOrEqual(maxWorkPayloadBytes(plan));
    expect(decodeAppliedUpdate(bytes, plan)).toEqual(decodeSparseLoCo(main, plan));
    expect(decodeAppliedUpdate(main, plan)).toEqual(decodeSparseLoCo(main, plan));
  });

  it('make a receipt the unit delta alone: no error feedback from an earlier encode', async () => {
    const r = decodeSparseLoCo(await receiptOf(rplan, base, unitAfter(0)), rplan);
    const again = decodeSparseLoCo(await receiptOf(rplan, base, unitAfter(0)), rplan);
    expect(r).toEqual(again);
    // Its kept entries approximate base − after at those coordinates (2-bit codebook: same sign).
    const signs = Array.from(r.indices).filter((j, n) => Math.sign(r.values[n]) === Math.sign(base[j] - unitAfter(0)[j])).length;
    expect(signs / r.indices.length).toBeGreaterThan(0.9);
  });

  it('refuse truncation, a wrong magic or version, bad counts, overlong lengths and trailing bytes', async () => {
    const { bytes } = await sample(2);
    const edit = (f: (b: Uint8Array, v: DataView) => void): Uint8Array => {
      const b = bytes.slice();
      f(b, new DataView(b.buffer));
      return b;
    };
    expect(code(() => decodeWorkPayload(bytes.subarray(0, 10), plan))).toBe('truncated');
    expect(code(() => decodeWorkPayload(bytes.subarray(0, bytes.length - 1), plan))).not.toBe('accepted');
    expect(
      code(() =>
        decodeWorkPayload(
          edit((b) => (b[0] = 0)),
          plan,
        ),
      ),
    ).toBe('bad-magic');
    expect(
      code(() =>
        decodeWorkPayload(
          edit((b) => (b[4] = 9)),
          plan,
        ),
      ),
    ).toBe('unknown-version');
    expect(
      code(() =>
        decodeWorkPayload(
          edit((b) => (b[6] = 1)),
          plan,
        ),
      ),
    ).toBe('non-canonical');
    expect(
      code(() =>
        decodeWorkPayload(
          edit((_, v) => v.setUint32(8, 0, true)),
          plan,
        ),
      ),
    ).toBe('oversized');
    expect(
      code(() =>
        decodeWorkPayload(
          edit((_, v) => v.setUint32(8, MAX_UNITS + 1, true)),
          plan,
        ),
      ),
    ).toBe('oversized');
    expect(
      code(() =>
        decodeWorkPayload(
          edit((_, v) => v.setUint32(8, 3, true)),
          plan,
        ),
      ),
    ).toBe('truncated');
    expect(
      code(() =>
        decodeWorkPayload(
          edit((_, v) => v.setUint32(12, 0xffffffff, true)),
          plan,
        ),
      ),
    ).toBe('oversized');
    const withTail = new Uint8Array(bytes.length + 1);
    withTail.set(bytes);
    expect(code(() => decodeWorkPayload(withTail, plan))).toBe('non-canonical');
    const plain = (await sample(1)).main;
    expect(code(() => decodeWorkPayload(plain, plan))).toBe('bad-magic');
    expect(() => packWorkPayload({ main: bytes, receipts: [] })).toThrow(/1\.\.250 receipts/);
  });
});
