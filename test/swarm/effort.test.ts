// The power setting on the real trainer (Dawn): at Light each work unit is followed by a rest three
// times its length, so a quarter of the time works; paused, it starts none until resumed. Time is the
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
  const started = Date.now();
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
  return { units: result.steps / UNIT, idle, busy: Date.now() - started, payload: result.payload };
}

describe('the power setting', () => {
  it('works a quarter of the window at Light, resting between units, and all of it at Full', async () => {
    // Light's window is 4× longer, so both hold several units however slow the machine is today.
    const full = await windowAt({ share: 1, paused: false }, 6000);
    const light = await windowAt({ share: 0.25, paused: false }, 24_000);
    expect(full.units).toBeGreaterThanOrEqual(3);
    expect(full.idle).toBe(0);
    expect(light.units).toBeGreaterThanOrEqual(2);
    // Each rest follows a unit, u·(1/s − 1) = 3u long at Light: in units of the window's mean unit
    // time, the rest per gap between units is about 3 (Medium would give 1, no rest 0). Measured
    // within one window, so the machine's speed today does not move it as a units-per-second
    // ratio between two windows would.
    const unitMs = light.busy / light.units;
    const restPerGap = light.idle / unitMs / (light.units - 1);
    expect(restPerGap, `${light.units} units at Light: ${light.busy} ms working, ${light.idle} ms resting`).toBeGreaterThan(1.8);
    expect(restPerGap).toBeLessThan(4.2);
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
