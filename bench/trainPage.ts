// The Chromium side of `npm run bench:train`: the same comparison as in Node, in a tab; lines
// go to the console (the Node driver prints them) and the outcome to window.__benchDone.
import '@tensorflow/tfjs-backend-webgpu';
import { requestGpuDevice } from '../src/gpu/device';
import { runTrainBench, trainOptions } from './trainCompare';
import { finishPage } from './page';

finishPage(async () => {
  const ctx = await requestGpuDevice();
  const a = ctx.report.adapter;
  console.log(`adapter: ${[a.vendor, a.architecture, a.description].filter((s) => s && s !== 'unknown').join(' / ')}`);
  const ok = await runTrainBench(ctx.device, trainOptions(new URLSearchParams(location.search)), (line) => console.log(line));
  ctx.destroy();
  return ok;
});
