// Memory estimates and limit checks as pure functions: the errors a visitor with a small
// adapter sees name the exceeded limit and suggest what fits.
import { describe, expect, it } from 'vitest';
import { gptConfig } from '../../src/model/config';
import { assertFits, estimateMemory, limitProblems, PresetTooLargeError } from '../../src/gpu/memoryPlan';

/** WebGPU's default limits: what a device gets when it asks for nothing more. */
const DEFAULT_LIMITS = {
  maxStorageBufferBindingSize: 128 * 1024 * 1024,
  maxBufferSize: 256 * 1024 * 1024,
  maxComputeWorkgroupsPerDimension: 65535,
  maxComputeWorkgroupStorageSize: 16384,
  maxStorageBuffersPerShaderStage: 8,
  maxComputeInvocationsPerWorkgroup: 256,
};

describe('memory plan', () => {
  it('counts the shakespeare preset at about 10.7M parameters', () => {
    const est = estimateMemory(gptConfig('shakespeare', 65), { batchSize: 1, seqLen: 256, microSteps: 1 });
    const params = est.parameters / 4;
    expect(params).toBeGreaterThan(10.6e6);
    expect(params).toBeLessThan(10.9e6);
    expect(est.total).toBeGreaterThan(est.minimum);
  });

  it('shakespeare at batch 128 exceeds the default binding size; batch 85 and the small preset fit', () => {
    const config = gptConfig('shakespeare', 65);
    const shape = { batchSize: 128, seqLen: 256, microSteps: 1 };
    expect(limitProblems(DEFAULT_LIMITS, config, shape).map((p) => p.limit)).toEqual(['maxStorageBufferBindingSize']);
    let error: PresetTooLargeError | undefined;
    try {
      assertFits(DEFAULT_LIMITS, config, shape, 'shakespeare');
    } catch (err) {
      error = err as PresetTooLargeError;
    }
    expect(error).toBeInstanceOf(PresetTooLargeError);
    expect(error?.message).toMatch(/preset 'shakespeare' with batch 128 × 256 tokens does not fit this GPU/);
    expect(error?.message).toMatch(/maxStorageBufferBindingSize is 128\.0 MiB on this GPU but 192\.0 MiB is needed/);
    expect(error?.message).toMatch(/batchSize 85 fits \(use microSteps 2/);
    expect(error?.message).toMatch(/preset 'small' fits/);
    expect(() => assertFits(DEFAULT_LIMITS, config, { ...shape, batchSize: 85 })).not.toThrow();
  });

  it('names a missing feature-level limit such as workgroup storage', () => {
    const problems = limitProblems({ ...DEFAULT_LIMITS, maxComputeWorkgroupStorageSize: 4096 }, gptConfig('tiny', 65), {
      batchSize: 1,
      seqLen: 64,
      microSteps: 1,
    });
    expect(problems).toEqual([{ limit: 'maxComputeWorkgroupStorageSize', needed: 8192, available: 4096 }]);
  });
});
