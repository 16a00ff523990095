// The validator's CPU instrument: onnxruntime-web's per-sequence losses from the exported scoring
// graph match the float64 reference within float32 rounding, for several θ through one session.
import { describe, expect, it } from 'vitest';
import { initParams } from '../../src/model/init';
import { paramLayout } from '../../src/model/layout';
import { seededRandom } from '../../src/model/random';
import { CpuLossProbe } from '../../src/validator/cpuLossProbe';
import { OnnxLossProbe } from '../../src/validator/onnxLossProbe';
import { tinyCorpus } from '../support/tinyCorpus';

const SEQ = 32;
const { corpus, config } = tinyCorpus();
const layout = paramLayout(config);

/** The initialisation moved at random, so losses differ by sequence and by θ. */
function perturbed(seed: number): Float32Array {
  const rand = seededRandom(seed);
  return initParams(config, layout, 7).map((v) => v + (rand() - 0.5) * 0.2);
}

describe('OnnxLossProbe', () => {
  it('gives the reference losses for each sequence and each θ, one session throughout', async () => {
    const probe = new OnnxLossProbe(config, SEQ, corpus.train, { threads: 1 });
    const reference = new CpuLossProbe(config, SEQ, corpus.train);
    // 16 sequences per run at this vocabulary, so 40 span three runs (the last one short).
    const offsets = Uint32Array.from({ length: 40 }, (_, i) => i * 911);
    try {
      for (const seed of [1, 2]) {
        const theta = perturbed(seed);
        const [onnx, cpu] = [await probe.perSequence(theta, offsets), await reference.perSequence(theta, offsets)];
        expect(new Set(cpu).size).toBeGreaterThan(30); // distinct losses: an offset mixed up would show
        for (let i = 0; i < offsets.length; i++) expect(Math.abs(onnx[i] - cpu[i]), `sequence ${i}, θ ${seed}`).toBeLessThan(1e-5 * Math.max(1, cpu[i]));
      }
    } finally {
      await probe.destroy();
    }
  });

  it('refuses a θ of the wrong size', async () => {
    const probe = new OnnxLossProbe(config, SEQ, corpus.train, { threads: 1 });
    await expect(probe.perSequence(new Float32Array(5), Uint32Array.of(0))).rejects.toThrow(/layout needs/);
  });
});
