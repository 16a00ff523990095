// Times the pieces of one training step on this machine's adapter (Dawn), to find which kernels
// dominate. Usage: npm run bench:profile -- BATCH SEQ [tiny|small|shakespeare]
import { encodePass, type Dispatch } from '../src/gpu/buffers';
import { gptConfig } from '../src/model/config';
import { requestGpuDevice } from '../src/gpu/device';
import { initParams } from '../src/model/init';
import { GpuGpt } from '../src/gpu/model';
import { nodeGpu } from '../src/gpu/nodeGpu';

const ctx = await requestGpuDevice({ gpu: nodeGpu() });
const device = ctx.device;
const batch = Number(process.argv[2] ?? 8);
const seq = Number(process.argv[3] ?? 64);
const config = gptConfig((process.argv[4] ?? 'tiny') as 'tiny' | 'small' | 'shakespeare', 65);
const model = new GpuGpt(device, { config, batchSize: batch, seqLen: seq });
model.setParams(initParams(config, model.layout, 1));
const rows = batch * seq;
model.setBatch(0, { tokens: new Uint8Array(rows).map((_, i) => i % 65), targets: new Uint8Array(rows).map((_, i) => (i * 7) % 65) });

async function time(dispatches: readonly Dispatch[], reps = 3): Promise<number> {
  const run = async (): Promise<void> => {
    const enc = device.createCommandEncoder();
    encodePass(enc, dispatches);
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
  };
  await run();
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) await run();
  return (performance.now() - t0) / reps;
}

const all = (model as unknown as { trainDispatches: Dispatch[][] }).trainDispatches[0];
const byLabel = new Map<string, Dispatch[]>();
for (const d of all) byLabel.set(d.pipeline.label, [...(byLabel.get(d.pipeline.label) ?? []), d]);
const total = await time(all);
console.log(`batch ${batch} seq ${seq}: forward+backward ${total.toFixed(1)} ms (${all.length} dispatches)`);
for (const [label, ds] of byLabel) console.log(`${label.padEnd(28)} ${String(ds.length).padStart(3)}× ${(await time(ds)).toFixed(1).padStart(8)} ms`);
model.destroy();
ctx.destroy();
process.exit(0);
