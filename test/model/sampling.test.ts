// The sampling rule on its own: temperature, top-k, ties, and refusal of bad settings.
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/model/random';
import { sampleToken, type SamplingOptions } from '../../src/model/sampling';

/** softmax(logits / T) in float64 over the k largest logits (all when k is 0; ties keep the lower id), 0 elsewhere. */
function referenceSoftmax(logits: Float32Array, temperature: number, topK: number): number[] {
  const order = [...logits.keys()].sort((a, b) => logits[b] - logits[a] || a - b);
  const kept = new Set(topK > 0 ? order.slice(0, topK) : order);
  const max = Math.max(...logits);
  const e = [...logits].map((l, i) => (kept.has(i) ? Math.exp((l - max) / temperature) : 0));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / z);
}

/**
 * The exact probability with which sampleToken picks each token under a uniform draw: the
 * measure of the draws u ∈ [0, 1) that pick it. The draw→token map is a step function; each
 * step's right end is found by bisection to 2⁻⁶⁰.
 */
function drawnDistribution(logits: Float32Array, options: SamplingOptions): number[] {
  const at = (u: number): number => sampleToken(logits, options, () => u);
  const p = new Array<number>(logits.length).fill(0);
  let lo = 0;
  for (let steps = 0; lo < 1; steps++) {
    if (steps > 4 * logits.length) throw new Error('the draw→token map has more steps than tokens');
    const id = at(lo);
    let [a, b] = [lo, 1];
    for (let i = 0; i < 64 && b - a > 0; i++) {
      const mid = (a + b) / 2;
      if (mid === a || mid === b) break;
      if (at(mid) === id) a = mid;
      else b = mid;
    }
    p[id] += b - lo;
    lo = b;
  }
  return p;
}

describe('sampleToken', () => {
  const logits = Float32Array.from([1, 3, 2, 3, -5]);

  it('top-k 1 picks the most likely token, lower id on ties', () => {
    expect(sampleToken(logits, { temperature: 1, topK: 1 }, seededRandom(1))).toBe(1);
  });

  it('top-k 3 never leaves the three most likely tokens', () => {
    const rand = seededRandom(2);
    const seen = new Set(Array.from({ length: 500 }, () => sampleToken(logits, { temperature: 1, topK: 3 }, rand)));
    expect([...seen].sort()).toEqual([1, 2, 3]);
  });

  it('draws each token with exactly its softmax(logits / T) probability over the top k', () => {
    for (const options of [
      { temperature: 1, topK: 0 },
      { temperature: 0.5, topK: 0 },
      { temperature: 2, topK: 0 },
      { temperature: 0.05, topK: 0 },
      { temperature: 1, topK: 3 },
      { temperature: 0.7, topK: 2 },
    ]) {
      const want = referenceSoftmax(logits, options.temperature, options.topK);
      const got = drawnDistribution(logits, options);
      for (let id = 0; id < logits.length; id++)
        expect(Math.abs(got[id] - want[id]), `T ${options.temperature}, top-k ${options.topK}, token ${id}: ${got[id]} vs ${want[id]}`).toBeLessThan(1e-9);
    }
  });

  it('follows the softmax when sampled with a seeded generator (every token within 5σ)', () => {
    const n = 20_000;
    const rand = seededRandom(3);
    const counts = [0, 0, 0, 0, 0];
    for (let i = 0; i < n; i++) counts[sampleToken(logits, { temperature: 1, topK: 0 }, rand)]++;
    const p = referenceSoftmax(logits, 1, 0);
    for (let id = 0; id < logits.length; id++) {
      const sigma = Math.sqrt(n * p[id] * (1 - p[id]));
      expect(
        Math.abs(counts[id] - n * p[id]),
        `token ${id}: ${counts[id]} of ${n}, expected ${(n * p[id]).toFixed(1)} ± ${sigma.toFixed(1)}`,
      ).toBeLessThanOrEqual(5 * sigma + 1);
    }
  });

  it('refuses a non-positive temperature', () => {
    expect(() => sampleToken(logits, { temperature: 0, topK: 0 }, Math.random)).toThrow(/temperature must be a positive number/);
  });
});
