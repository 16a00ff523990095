// Fuzzing the SparseLoCo decoder with 10,000 mutations of valid payloads: it either returns a
// well-formed update or throws CodecError, fast, and no payload makes it allocate more.
import { describe, expect, it } from 'vitest';
import { checkConfig } from '../../src/gpu/config';
import { paramLayout } from '../../src/gpu/layout';
import { seededRandom } from '../../src/gpu/random';
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

describe.each([
  ['rice', chunkPlan(layout), ['index-out-of-range', 'non-canonical']],
  ['packed', chunkPlan(layout, { ...DEFAULT_SPARSELOCO, indexCoding: 'packed' }), ['index-out-of-range', 'unsorted-index']],
] as const)('decodeSparseLoCo under fuzzing, %s indices', (_, thisPlan, indexRefusals) => {
  it(`throws only CodecError, never hangs, on ${CASES} mutated payloads`, async () => {
    plan = thisPlan;
    const encoder = new SparseLoCoEncoder(plan, layout.totalFloats);
    const base = randomFloats(layout.totalFloats, 8);
    const valid = (await encoder.encode(base, base.map((v, i) => v + 0.001 * ((i % 13) - 6)))).bytes;
    const r = seededRandom(2026);
    const outcomes = new Map<string, number>();
    let slowest = 0;
    for (let n = 0; n < CASES; n++) {
      const payload = mutations[n % mutations.length](valid.slice(), r);
      const t0 = performance.now();
      let outcome = 'accepted';
      try {
        checkWellFormed(decodeSparseLoCo(payload, plan));
      } catch (err) {
        if (!(err instanceof CodecError)) throw new Error(`case ${n}: decoder threw ${String(err)}`);
        outcome = err.code;
      }
      slowest = Math.max(slowest, performance.now() - t0);
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
    // Every refusal family was reached, and some mutations (value bits) decode legitimately.
    for (const code of ['truncated', 'oversized', 'bad-magic', 'unknown-version', 'wrong-params', 'wrong-tensor-table', 'bad-codebook', ...indexRefusals, 'accepted']) {
      expect(outcomes.get(code) ?? 0, `${code} in ${JSON.stringify([...outcomes])}`).toBeGreaterThan(0);
    }
    expect(slowest).toBeLessThan(250);
  });

  it('refuses a 64 MiB payload by its length, before reading past the header', () => {
    plan = thisPlan;
    const encoder = new SparseLoCoEncoder(plan, layout.totalFloats);
    return encoder.encode(new Float32Array(layout.totalFloats), randomFloats(layout.totalFloats, 3)).then(({ bytes }) => {
      const huge = new Uint8Array(64 * 2 ** 20);
      huge.set(bytes);
      const t0 = performance.now();
      expect(() => decodeSparseLoCo(huge, plan)).toThrow(/oversized/);
      expect(performance.now() - t0).toBeLessThan(50);
      // The only sizes the decoder allocates come from the plan, never from the payload.
      expect(bytes.length).toBeLessThanOrEqual(maxPayloadBytes(plan));
    });
  });
});
