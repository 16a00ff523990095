// `npm run bench:train`: Tessera's training step against the same GPT in tfjs-webgpu, first
// on Dawn in Node, then in headless Chromium; flags: --presets --batch --seq --steps --rounds --warmup --budget --only node|chromium.
import { adapterName, flags, nodeDevice, runInChromium } from './nodeDriver';
import { runTrainBench, trainOptions } from './trainCompare';

const params = flags();
const opts = trainOptions(params);
const only = params.get('only');
let ok = true;
console.log(
  `FLOP/step = 6·(12·L·C² + V·C)·tokens + 12·L·T·C·tokens; ${opts.warmup} warm-up step(s), then the median of ${opts.rounds} alternating timed rounds`,
);
if (only !== 'chromium') {
  const ctx = await nodeDevice();
  console.log(`[node] adapter: ${adapterName(ctx)}`);
  ok = (await runTrainBench(ctx.device, opts, (line) => console.log(`[node] ${line}`))) && ok;
  ctx.destroy();
}
if (only !== 'node') {
  try {
    ok = (await runInChromium('bench/train.html', params, (line) => console.log(`[chromium] ${line}`), opts.budgetS * opts.presets.length * 2 + 120)) && ok;
  } catch (err) {
    console.log(`[chromium] failed: ${err instanceof Error ? err.message : String(err)}`);
    ok = false;
  }
}
process.exit(ok ? 0 : 1);
