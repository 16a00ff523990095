// The GPU access layer against Dawn in Node: the adapter report, requested limits, and
// the typed failures a visitor would see when no GPU can be had.
import { describe, expect, it } from 'vitest';
import { describeAdapter, explainUnavailable, formatLimit, TRAINING_LIMITS } from '../../src/gpu/capabilities';
import { GpuUnavailableError, requestGpuDevice, requestTrainingAdapter } from '../../src/gpu/device';
import { nodeGpu } from '../../src/gpu/nodeGpu';

describe('requestGpuDevice in Node', () => {
  it('opens a SwiftShader device with the adapter maxima for training limits', async () => {
    const ctx = await requestGpuDevice({ gpu: nodeGpu() });
    try {
      expect(ctx.report.canTrain).toBe(true);
      const adapter = await requestTrainingAdapter({ gpu: nodeGpu() });
      for (const l of TRAINING_LIMITS) expect(ctx.device.limits[l.key]).toBe(adapter.limits[l.key]);
      // SwiftShader offers more than the 128 MiB default binding; we must have asked for it.
      expect(ctx.device.limits.maxStorageBufferBindingSize).toBeGreaterThan(128 * 1024 * 1024);
      for (const f of ctx.report.features) expect(ctx.device.features.has(f.key)).toBe(f.present);
    } finally {
      ctx.destroy();
    }
  });

  it('explains a missing WebGPU API instead of failing obscurely', async () => {
    const err = await requestGpuDevice({ gpu: undefined }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GpuUnavailableError);
    expect((err as GpuUnavailableError).reason).toBe('no-api');
  });

  it('explains a refused adapter', async () => {
    const refusing = { requestAdapter: () => Promise.resolve(null) } as unknown as GPU;
    const err = await requestGpuDevice({ gpu: refusing }).catch((e: unknown) => e);
    expect((err as GpuUnavailableError).reason).toBe('no-adapter');
    expect((err as GpuUnavailableError).explanation.actions.join(' ')).toMatch(/enable-unsafe-webgpu/);
  });
});

describe('capability report', () => {
  const info = { vendor: 'acme', architecture: 'tiny', device: '', description: '' } as GPUAdapterInfo;
  const limitsWith = (over: Partial<Record<string, number>>) => {
    const l: Record<string, number> = {};
    for (const t of TRAINING_LIMITS) l[t.key] = t.minimum;
    return { ...l, ...over } as unknown as GPUSupportedLimits;
  };

  it('flags a limit below the training minimum', () => {
    const report = describeAdapter({
      info,
      limits: limitsWith({ maxStorageBuffersPerShaderStage: 4 }),
      features: new Set(['subgroups']) as GPUSupportedFeatures,
    });
    expect(report.canTrain).toBe(false);
    expect(report.limits.find((l) => l.key === 'maxStorageBuffersPerShaderStage')?.ok).toBe(false);
    expect(report.features.find((f) => f.key === 'subgroups')?.present).toBe(true);
    expect(report.features.find((f) => f.key === 'shader-f16')?.present).toBe(false);
  });

  it('formats sizes for people', () => {
    expect(formatLimit(128 * 1024 * 1024, 'bytes')).toBe('128 MiB');
    expect(formatLimit(1536, 'bytes')).toBe('1.5 KiB');
    expect(formatLimit(65535, 'count')).toBe('65,535');
  });

  it('has an explanation with actions for every reason', () => {
    for (const r of ['insecure-context', 'no-api', 'no-adapter', 'adapter-error', 'device-error', 'below-limits'] as const) {
      const e = explainUnavailable(r);
      expect(e.title.length).toBeGreaterThan(10);
      expect(e.actions.length).toBeGreaterThan(0);
    }
  });
});
