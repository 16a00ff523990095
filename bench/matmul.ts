// `npm run bench:matmul`: Tessera's matmul kernel against tf.matMul (tfjs-webgpu) at the GPT's
// shapes, on Dawn in Node then in headless Chromium; flags: --presets --reps --rounds --only node|chromium.
import { matmulOptions, runMatmulBench } from './matmulCompare';
import { adapterName, flags, nodeDevice, runInChromium } from './nodeDriver';

const params = flags();
const opts = matmulOptions(params);
const only = params.get('only');
let ok = true;
console.log(
  `C = A·B with A [M,K], B [K,N] (MxKxN); ${opts.reps} matmuls per timed batch, median of ${opts.rounds} alternating rounds; GFLOP/s = 2·M·K·N / time`,
);
if (only !== 'chromium') {
  const ctx = await nodeDevice();
  console.log(`[node] adapter: ${adapterName(ctx)}`);
  ok = (await runMatmulBench(ctx.device, opts, (line) => console.log(`[node] ${line}`))) && ok;
  ctx.destroy();
}
if (only !== 'node') {
  try {
    ok = (await runInChromium('bench/matmul.html', params, (line) => console.log(`[chromium] ${line}`), 600)) && ok;
  } catch (err) {
    console.log(`[chromium] failed: ${err instanceof Error ? err.message : String(err)}`);
    ok = false;
  }
}
process.exit(ok ? 0 : 1);
