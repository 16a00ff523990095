// The sampling rule on its own: temperature, top-k, ties, and refusal of bad settings.
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/gpu/random';
import { sampleToken } from '../../src/gpu/sampler';

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

  it('follows the softmax at temperature 1 and sharpens as it falls', () => {
    const rand = seededRandom(3);
    const counts = [0, 0, 0, 0, 0];
    for (let i = 0; i < 20000; i++) counts[sampleToken(logits, { temperature: 1, topK: 0 }, rand)]++;
    const z = [...logits].reduce((a, l) => a + Math.exp(l), 0);
    expect(counts[2] / 20000).toBeCloseTo(Math.exp(2) / z, 1);
    const cold = Array.from({ length: 200 }, () => sampleToken(logits, { temperature: 0.05, topK: 0 }, rand));
    expect(cold.every((id) => id === 1 || id === 3)).toBe(true);
  });

  it('refuses a non-positive temperature', () => {
    expect(() => sampleToken(logits, { temperature: 0, topK: 0 }, Math.random)).toThrow(/temperature must be a positive number/);
  });
});
