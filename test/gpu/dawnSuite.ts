// Registers a shared GPU suite (plain cases, also run in Chromium) as Vitest tests on one
// real Dawn device, failing a case on any WebGPU error that no scope caught.
import { afterAll, beforeAll, describe, it } from 'vitest';
import { requestGpuDevice, type GpuContext } from '../../src/gpu/device';
import { watchUncapturedErrors, type UncapturedErrorWatch } from '../../src/gpu/errors';
import { nodeGpu } from '../../src/gpu/nodeGpu';
import type { KernelCase } from './kernelSuite';

export function describeOnDawn(title: string, cases: readonly KernelCase[]): void {
  describe(title, () => {
    let ctx: GpuContext;
    let watch: UncapturedErrorWatch;
    const open = () => requestGpuDevice({ gpu: nodeGpu(), label: 'test' });

    beforeAll(async () => {
      ctx = await open();
      watch = watchUncapturedErrors(ctx.device);
    });
    afterAll(() => {
      watch.dispose();
      ctx.destroy();
    });

    for (const c of cases) {
      it(c.name, async () => {
        await c.run({ device: ctx.device, open });
        watch.check();
      });
    }
  });
}
