// The power setting on the real trainer (Dawn): at Light a window holds a quarter of Full's work
// units per second, the rest spent idle between them; paused, it starts none until resumed. Time is the
// real clock plus the idle it is told to spend, so the test does not wait through the rests.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestGpuDevice, type GpuContext } from '../../src/gpu/device';
import { GpuGpt } from '../../src/gpu/model';
import { nodeGpu } from '../../src/gpu/nodeGpu';
import { initParams } from '../../src/model/init';
import { GpuWindowTrainer, type Effort } from '../../src/swarm/windowTrainer';
import { tinyCorpus } from '../support/tinyCorpus';

const { corpus, config } = tinyCorpus();
const schedule = { maxLr: 3e-3, minLr: 3e-4, warmupSteps: 5, decaySteps: 300 };
const UNIT = 2;

let ctx: GpuContext;
let model: GpuGpt;
beforeAll(async () => {
  ctx = await requestGpuDevice({ gpu: nodeGpu(), label: 'effort-test' });
  model = new GpuGpt(ctx.device, { config, batchSize: 2, seqLen: 32 });
});
afterAll(() => {
  model.destroy();
  ctx.destroy();
});

/** One window of `windowMs` (virtual) at `effort`; `onSleep` may change the effort mid-window. */
async function windowAt(effort: Effort, windowMs: number, onSleep?: (trainer: GpuWindowTrainer, slept: number) => void) {
  let idle = 0;
  const now = (): number => Date.now() + idle;
  const trainer = new GpuWindowTrainer(model, corpus.train, undefined, now, async (ms) => {
    idle += ms;
    onSleep?.(trainer, idle);
  });
  trainer.setEffort(effort);
  const theta = initParams(config, model.layout, 1);
  const result = await trainer.trainWindow({
    runId: 'effort',
    peerAddress: 'a',
    window: 0,
    theta,
    deadline: now() + windowMs,
    minSteps: UNIT,
    schedule,
    unitSteps: UNIT,
  });
  return { units: result.steps / UNIT, idle, payload: result.payload };
}

describe('the power setting', () => {
  it('trains a quarter of the units per second of window at Light that it trains at Full, idle in between', async () => {
    // Light's window is 4× longer, so both hold several units however slow the machine is today.
    const full = await windowAt({ share: 1, paused: false }, 6000);
    const light = await windowAt({ share: 0.25, paused: false }, 24_000);
    expect(full.units).toBeGreaterThanOrEqual(3);
    expect(full.idle).toBe(0);
    expect(light.units).toBeGreaterThanOrEqual(2);
    const ratio = light.units / 24_000 / (full.units / 6000);
    expect(ratio, `${light.units} units in 24 s at Light, ${full.units} in 6 s at Full`).toBeGreaterThan(0.12);
    expect(ratio).toBeLessThan(0.45);
    expect(light.idle).toBeGreaterThan(12_000); // most of the window rested
    expect(light.payload).toBeDefined(); // partial effort still contributes its units
  });

  it('starts no unit while paused, and resumes within the window when unpaused', async () => {
    const paused = await windowAt({ share: 1, paused: true }, 1500);
    expect(paused).toMatchObject({ units: 0, payload: undefined });
    expect(paused.idle).toBeGreaterThan(1000);
    const resumed = await windowAt({ share: 1, paused: true }, 3000, (trainer, idle) => {
      if (idle >= 1000) trainer.setEffort({ share: 1, paused: false });
    });
    expect(resumed.units).toBeGreaterThanOrEqual(1);
    expect(resumed.idle).toBeGreaterThanOrEqual(1000);
  });
});
