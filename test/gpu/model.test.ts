// Runs the GPT engine suite on a real Dawn device in Node, plus a short training run on the
// built-in corpus that must take the loss well below the uniform baseline ln(V).
import { afterAll, beforeAll, describe, it } from 'vitest';
import { requestGpuDevice, type GpuContext } from '../../src/gpu/device';
import { watchUncapturedErrors, type UncapturedErrorWatch } from '../../src/gpu/errors';
import { nodeGpu } from '../../src/gpu/nodeGpu';
import { modelCases } from './modelSuite';

describe('GPT engine on Dawn (Node)', () => {
  let ctx: GpuContext;
  let watch: UncapturedErrorWatch;
  const open = () => requestGpuDevice({ gpu: nodeGpu(), label: 'model-test' });

  beforeAll(async () => {
    ctx = await open();
    watch = watchUncapturedErrors(ctx.device);
  });
  afterAll(() => {
    watch.dispose();
    ctx.destroy();
  });

  for (const modelCase of modelCases) {
    it(modelCase.name, async () => {
      await modelCase.run({ device: ctx.device, open });
      watch.check();
    });
  }
});
