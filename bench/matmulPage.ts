// The Chromium side of `npm run bench:matmul`: the same comparison as in Node, in a tab; lines
// go to the console (the Node driver prints them) and the outcome to window.__benchDone.
import '@tensorflow/tfjs-backend-webgpu';
import { requestGpuDevice } from '../src/gpu/device';
import { matmulOptions, runMatmulBench } from './matmulCompare';
import { finishPage } from './page';

finishPage(async () => {
  const ctx = await requestGpuDevice();
  const ok = await runMatmulBench(ctx.device, matmulOptions(new URLSearchParams(location.search)), (line) => console.log(line));
  ctx.destroy();
  return ok;
});
