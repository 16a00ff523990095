// The outer step: median-norm clipping, per-coordinate averaging over the contributions that
// carry a coordinate, refusal of malformed input, Nesterov for dense DiLoCo, fixed bytes.
import { describe, expect, it } from 'vitest';
import { applySparseOuterStep, median, NesterovOuterStep } from '../../src/compress/outerStep';
import { outerStepCase } from '../support/outerStepCase';

const u = (indices: number[], values: number[]): { indices: Uint32Array; values: Float32Array } => ({
  indices: Uint32Array.from(indices),
  values: Float32Array.from(values),
});

describe('applySparseOuterStep', () => {
  it('clips each contribution to the median norm, then averages each coordinate over its carriers', () => {
    const theta = new Float32Array(8).fill(1);
    // Norms 1, 2 and 10: the median is 2, so only the third is scaled (by 0.2).
    const report = applySparseOuterStep(theta, [u([0, 5], [0.6, 0.8]), u([5], [2]), u([7], [10])], 0.5);
    expect(report.median).toBe(2);
    expect(report.scales).toEqual([1, 1, Math.fround(0.2)]);
    expect(report.touched).toBe(3);
    expect(theta[0]).toBe(Math.fround(1 - 0.5 * 0.6));
    expect(theta[5]).toBe(Math.fround(1 - 0.5 * Math.fround((Math.fround(0.8) + 2) / 2)));
    expect(theta[7]).toBe(Math.fround(1 - 0.5 * Math.fround(10 * Math.fround(0.2))));
    expect([theta[1], theta[2], theta[6]]).toEqual([1, 1, 1]);
  });

  it('takes the mean of the two middle norms for an even count', () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBe(0);
  });

  it('refuses malformed contributions and rates without changing the model', () => {
    const theta = new Float32Array(4).fill(1);
    expect(() => applySparseOuterStep(theta, [u([0], [1]), u([4], [1])], 1)).toThrow(/index 4 outside the model/);
    expect(() => applySparseOuterStep(theta, [u([0], [NaN])], 1)).toThrow(/not finite/);
    expect(() => applySparseOuterStep(theta, [u([0], [1])], -1)).toThrow(/outer lr/);
    expect([...theta]).toEqual([1, 1, 1, 1]);
  });

  it('produces the same model bytes on every run (golden SHA-256; Chromium checks it too)', async () => {
    const a = await outerStepCase();
    const b = await outerStepCase();
    expect(a).toEqual(b);
    expect(a.touched).toBeGreaterThan(1000);
    expect(a).toEqual(OUTER_CASE_HASHES);
  });
});

describe('NesterovOuterStep', () => {
  it("is PyTorch's Nesterov SGD on the mean pseudo-gradient", () => {
    const theta = Float32Array.from([1]);
    const step = new NesterovOuterStep(1, { lr: 0.7, momentum: 0.9 });
    step.apply(theta, [Float32Array.from([0.2]), Float32Array.from([0.4])]); // ḡ = 0.3, m = 0.3
    expect(theta[0]).toBeCloseTo(1 - 0.7 * (0.3 + 0.9 * 0.3), 6);
    step.apply(theta, [Float32Array.from([0.1])]); // m = 0.27 + 0.1 = 0.37
    expect(theta[0]).toBeCloseTo(1 - 0.7 * 0.57 - 0.7 * (0.1 + 0.9 * 0.37), 5);
  });
});

/** Recorded from Node; any change to the codec or the outer step's arithmetic changes them. */
const OUTER_CASE_HASHES = {
  sparse: '716a28bb7a85026c3fb6abf3fdcdf02fba9bcec9e395da00a91d521384046541',
  dense: '0871f58a161b2161447845e41cee8e8c186ff3a483a20ad260c13700d2a32d99',
  touched: 3218,
};
