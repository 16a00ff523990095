// Runs the shared GPU suites (kernels, then the GPT engine against its CPU reference) on this
// context's navigator.gpu (tab or worker), failing a case on any error that no scope caught.
import { requestGpuDevice } from '../../src/gpu/device';
import { watchUncapturedErrors } from '../../src/gpu/errors';
import { kernelCases } from '../../test/gpu/kernelSuite';
import { modelCases } from '../../test/gpu/modelSuite';

export const suiteCases = [...kernelCases, ...modelCases];

export interface CaseResult {
  name: string;
  ok: boolean;
  error?: string;
  ms: number;
}

export async function runKernelSuite(): Promise<CaseResult[]> {
  const open = () => requestGpuDevice({ label: 'suite' });
  const ctx = await open();
  const watch = watchUncapturedErrors(ctx.device);
  const results: CaseResult[] = [];
  for (const kernelCase of suiteCases) {
    const start = performance.now();
    try {
      await kernelCase.run({ device: ctx.device, open });
      watch.check();
      results.push({ name: kernelCase.name, ok: true, ms: performance.now() - start });
    } catch (err) {
      results.push({ name: kernelCase.name, ok: false, error: err instanceof Error ? err.message : String(err), ms: performance.now() - start });
    }
  }
  watch.dispose();
  ctx.destroy();
  return results;
}
