// Runs the shared GPU kernel suite on a real Dawn device in Node (SwiftShader without a GPU).
import { afterAll, beforeAll, describe, it } from 'vitest';
import { requestGpuDevice, type GpuContext } from '../../src/gpu/device';
import { watchUncapturedErrors, type UncapturedErrorWatch } from '../../src/gpu/errors';
import { nodeGpu } from '../../src/gpu/nodeGpu';
import { kernelCases } from './kernelSuite';

describe('GPU kernels on Dawn (Node)', () => {
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

  for (const kernelCase of kernelCases) {
    it(kernelCase.name, async () => {
      await kernelCase.run({ device: ctx.device, open });
      // An error no scope caught (e.g. from an async map) must still fail the case.
      watch.check();
    });
  }
});
