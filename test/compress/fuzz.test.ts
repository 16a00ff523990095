// Fuzzing the SparseLoCo decoder with 10,000 mutations of valid payloads: it either returns a
// well-formed update or throws CodecError, and no payload makes it allocate more than the
// model's plan says (work is bounded by bytes allocated and read, not by the clock).
import { describe, expect, it } from 'vitest';
import { checkConfig } from '../../src/model/config';
import { paramLayout } from '../../src/model/layout';
import { seededRandom } from '../../src/model/random';
import { chunkPlan, DEFAULT_SPARSELOCO, type ChunkPlan } from '../../src/compress/chunks';
import { CodecError, decodeSparseLoCo, maxPayloadBytes, SparseLoCoEncoder, SPARSELOCO_HEADER_BYTES } from '../../src/compress/sparseloco';
import { randomFloats } from '../support/random';

const config = checkConfig({ vocabSize: 70, contextLength: 20, embedDim: 72, layers: 1, heads: 2 });
const layout = paramLayout(config);
const CASES = 10_000;
let plan: ChunkPlan = chunkPlan(layout);

type Mutation = (b: Uint8Array, r: () => number) => Uint8Array;
const int = (r: () => number, n: number): number => Math.floor(r() * n);

const mutations: Mutation[] = [
  (b, r) => {
    for (let i = 0, n = 1 + int(r, 8); i < n; i++) b[int(r, b.length)] ^= 1 << int(r, 8);
    return b;
  },
  (b, r) => {
    for (let i = 0, n = 1 + int(r, 4); i < n; i++) b[int(r, b.length)] = int(r, 256);
    return b;
  },
  (b, r) => b.subarray(0, int(r, b.length)),
  (b, r) => Uint8Array.from([...b, ...Array.from({ length: 1 + int(r, 64) }, () => int(r, 256))]),
  (b, r) => {
    // Header fields: the part a parser is most tempted to trust.
    b[4 + int(r, SPARSELOCO_HEADER_BYTES - 4)] = int(r, 256);
    return b;
  },
  (b, r) => {
    // Codebook floats replaced by arbitrary bit patterns (NaN, ±inf, huge, subnormal).
    new DataView(b.buffer, b.byteOffset).setUint32(SPARSELOCO_HEADER_BYTES + 4 * int(r, plan.tensorCount * 4), int(r, 2 ** 32), true);
    return b;
  },
  (b, r) => {
    // A run of random bytes in the index stream.
    const start = SPARSELOCO_HEADER_BYTES + plan.tensorCount * 16 + int(r, 200);
    for (let i = 0; i < 1 + int(r, 16); i++) b[Math.min(b.length - 1, start + i)] = int(r, 256);
    return b;
  },
  (b, r) => {
    // Everything after the header random.
    for (let i = SPARSELOCO_HEADER_BYTES; i < b.length; i++) b[i] = int(r, 256);
    return b;
  },
];

function checkWellFormed(u: { indices: Uint32Array; values: Float32Array }): void {
  expect(u.indices.length).toBe(plan.kept);
  expect(u.values.length).toBe(plan.kept);
  expect(new Set(u.indices).size).toBe(plan.kept);
  for (let i = 0; i < u.indices.length; i++) {
    if (!(u.indices[i] < layout.totalFloats) || !Number.isFinite(u.values[i])) throw new Error(`decoder returned entry ${i}: ${u.indices[i]} = ${u.values[i]}`);
  }
}

/**
 * The most array-buffer memory one decode may take: its output (indices and values), the
 * decoded local indices, value codes and codebooks, all sized by the plan, twice over for
 * the index decoder's scratch, plus a page of slack for small views.
 */
function decodeAllocationBound(): number {
  const output = plan.kept * 8;
  const streams = plan.kept * 4 + plan.kept;
  const codebooks = plan.tensorCount * 2 ** plan.params.valueBits * 4;
  return 2 * (output + streams + codebooks) + 4096;
}

describe.each([
  ['rice', chunkPlan(layout), ['index-out-of-range', 'non-canonical']],
  ['packed', chunkPlan(layout, { ...DEFAULT_SPARSELOCO, indexCoding: 'packed' }), ['index-out-of-range', 'unsorted-index']],
] as const)('decodeSparseLoCo under fuzzing, %s indices', (_, thisPlan, indexRefusals) => {
  it(`throws only CodecError and allocates no more than the plan sizes, on ${CASES} mutated payloads`, async () => {
    plan = thisPlan;
    const encoder = new SparseLoCoEncoder(plan, layout.totalFloats);
    const base = randomFloats(layout.totalFloats, 8);
    const valid = (
      await encoder.encode(
        base,
        base.map((v, i) => v + 0.001 * ((i % 13) - 6)),
      )
    ).bytes;
    const r = seededRandom(2026);
    const outcomes = new Map<string, number>();
    const bound = decodeAllocationBound();
    let most = 0;
    for (let n = 0; n < CASES; n++) {
      const payload = mutations[n % mutations.length](valid.slice(), r);
      let outcome = 'accepted';
      let decoded: ReturnType<typeof decodeSparseLoCo> | undefined;
      const before = process.memoryUsage().arrayBuffers;
      try {
        decoded = decodeSparseLoCo(payload, plan);
      } catch (err) {
        if (!(err instanceof CodecError)) throw new Error(`case ${n}: decoder threw ${String(err)}`);
        outcome = err.code;
      }
      // Array-buffer bytes the decode allocated (a collection meanwhile only lowers it).
      const allocated = process.memoryUsage().arrayBuffers - before;
      most = Math.max(most, allocated);
      if (allocated > bound) throw new Error(`case ${n} (${outcome}): the decoder allocated ${allocated} bytes, more than the plan's ${bound}`);
      if (decoded) checkWellFormed(decoded);
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
    // Every refusal family was reached, and some mutations (value bits) decode legitimately.
    for (const code of [
      'truncated',
      'oversized',
      'bad-magic',
      'unknown-version',
      'wrong-params',
      'wrong-tensor-table',
      'bad-codebook',
      ...indexRefusals,
      'accepted',
    ]) {
      expect(outcomes.get(code) ?? 0, `${code} in ${JSON.stringify([...outcomes])}`).toBeGreaterThan(0);
    }
    // The measure sees the decoder's own arrays: an accepted decode allocates its output.
    expect(most).toBeGreaterThanOrEqual(plan.kept * 8);
  });

  it('refuses a 64 MiB payload by its length, before reading a byte or allocating', async () => {
    plan = thisPlan;
    const encoder = new SparseLoCoEncoder(plan, layout.totalFloats);
    const { bytes } = await encoder.encode(new Float32Array(layout.totalFloats), randomFloats(layout.totalFloats, 3));
    const huge = new Uint8Array(64 * 2 ** 20);
    huge.set(bytes); // a valid header: only the length gives it away
    // Every element read or raw-buffer access the decoder makes is counted.
    const reads: string[] = [];
    const watched = new Proxy(huge, {
      get(target, key) {
        if (typeof key === 'string' && (/^\d+$/.test(key) || ['buffer', 'subarray', 'slice', 'at', 'values', 'entries', 'forEach'].includes(key)))
          reads.push(key);
        const v: unknown = Reflect.get(target, key, target);
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const before = process.memoryUsage().arrayBuffers;
    let refusal: unknown;
    try {
      decodeSparseLoCo(watched, plan);
    } catch (err) {
      refusal = err;
    }
    const allocated = process.memoryUsage().arrayBuffers - before;
    expect(refusal).toBeInstanceOf(CodecError);
    expect((refusal as CodecError).code).toBe('oversized');
    // The message names the cap that refused it, which comes from the plan alone.
    expect((refusal as CodecError).message).toBe(
      `SparseLoCo payload refused (oversized): ${huge.length} bytes, at most ${maxPayloadBytes(plan)} for this model`,
    );
    expect(reads, 'bytes the decoder read from a payload it should refuse by length').toEqual([]);
    expect(allocated).toBeLessThan(4096);
    // The only sizes the decoder allocates come from the plan, never from the payload.
    expect(bytes.length).toBeLessThanOrEqual(maxPayloadBytes(plan));
  });
});
