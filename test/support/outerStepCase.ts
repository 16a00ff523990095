// One fixed SparseLoCo round, run identically in Node and in Chromium: three peers encode
// seeded pseudo-gradients, the payloads are decoded and applied; the model's SHA-256 results.
import { checkConfig } from '../../src/model/config';
import { paramLayout } from '../../src/model/layout';
import { seededRandom } from '../../src/model/random';
import { chunkPlan } from '../../src/compress/chunks';
import { applySparseOuterStep, NesterovOuterStep } from '../../src/compress/outerStep';
import { decodeSparseLoCo, SparseLoCoEncoder } from '../../src/compress/sparseloco';

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Shapes that do not divide the 64×64 blocks or 4096 chunks, so edge chunks are exercised. */
export const OUTER_CASE_CONFIG = checkConfig({ vocabSize: 70, contextLength: 20, embedDim: 72, layers: 1, heads: 2 });

export async function outerStepCase(): Promise<{ sparse: string; dense: string; touched: number }> {
  const layout = paramLayout(OUTER_CASE_CONFIG);
  const plan = chunkPlan(layout);
  // Uniform draws only: exp/log/cos may differ between JavaScript engines, + − × ÷ cannot.
  const draw = seededRandom(11);
  const base = Float32Array.from({ length: layout.totalFloats }, () => (draw() - 0.5) * 0.2);
  const payloads: Uint8Array[] = [];
  const deltas: Float32Array[] = [];
  for (let peer = 0; peer < 3; peer++) {
    const encoder = new SparseLoCoEncoder(plan, layout.totalFloats);
    const noise = seededRandom(100 + peer);
    for (let window = 0; window < 2; window++) {
      const after = base.map((v) => v + 0.01 * (peer + 1) * (noise() - 0.5));
      const { bytes } = await encoder.encode(base, after);
      if (window === 1) payloads.push(bytes);
      deltas.push(base.map((v, i) => v - after[i]));
    }
  }
  const theta = base.slice();
  const report = applySparseOuterStep(
    theta,
    payloads.map((p) => decodeSparseLoCo(p, plan)),
    0.8,
  );
  const dense = base.slice();
  const nesterov = new NesterovOuterStep(dense.length);
  nesterov.apply(dense, deltas.slice(0, 3));
  nesterov.apply(dense, deltas.slice(3));
  return { sparse: await sha256Hex(new Uint8Array(theta.buffer)), dense: await sha256Hex(new Uint8Array(dense.buffer)), touched: report.touched };
}
