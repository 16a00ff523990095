// The validator's loss probes in a worker thread: onnxruntime's losses (the CPU instrument), the
// reference's within float32 rounding, while the calling thread's event loop keeps running.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initParams } from '../../src/model/init';
import { paramLayout } from '../../src/model/layout';
import { openProbeThread } from '../../src/node/probeThread';
import { CpuLossProbe } from '../../src/validator/cpuLossProbe';
import type { RemoteProbes } from '../../src/validator/remoteProbe';
import { tinyCorpus } from '../support/tinyCorpus';

const SEQ = 32;
const { corpus, config } = tinyCorpus();
const theta = initParams(config, paramLayout(config), 7);
const offsets = Uint32Array.from({ length: 24 }, (_, i) => i * 997);

/** onnxruntime (float32) against the float64 reference: equal to float32 rounding, sequence by sequence. */
function expectNear(actual: Float64Array, reference: Float64Array): void {
  expect(actual.length).toBe(reference.length);
  actual.forEach((v, i) => expect(Math.abs(v - reference[i]), `sequence ${i}`).toBeLessThan(1e-5 * Math.max(1, reference[i])));
}

/** How many times a 5 ms timer fired while `work` ran: 0 means the event loop was blocked throughout. */
async function ticksDuring(work: () => Promise<unknown>): Promise<number> {
  let ticks = 0;
  const timer = setInterval(() => ticks++, 5);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return ticks;
}

describe('loss probes in a worker thread', () => {
  let cpu: RemoteProbes;
  beforeAll(async () => {
    cpu = await openProbeThread({ mode: 'cpu', config, seqLen: SEQ, train: corpus.train, val: corpus.val, threads: 2 });
  });
  afterAll(() => cpu?.close());

  it('scores with onnxruntime, giving the CPU reference losses for both splits', async () => {
    const local = new CpuLossProbe(config, SEQ, corpus.train);
    expectNear(await cpu.scoring.perSequence(theta, offsets), await local.perSequence(theta, offsets));
    const val = new CpuLossProbe(config, SEQ, corpus.val);
    expectNear(await cpu.validation.perSequence(theta, offsets), await val.perSequence(theta, offsets));
    expect(cpu.label).toMatch(/onnxruntime-web on the CPU \(wasm, 2 threads\)/);
  });

  it('leaves the caller’s event loop running while it scores (in-process scoring blocks it)', async () => {
    const many = Uint32Array.from({ length: 96 }, (_, i) => i * 331);
    const local = new CpuLossProbe(config, SEQ, corpus.train);
    expect(await ticksDuring(() => local.perSequence(theta, many))).toBe(0);
    expect(await ticksDuring(() => cpu.scoring.perSequence(theta, many))).toBeGreaterThan(3);
  });

  it('answers concurrent requests each with its own losses', async () => {
    const a = offsets.subarray(0, 8);
    const b = offsets.subarray(8, 16);
    const [la, lb] = await Promise.all([cpu.scoring.perSequence(theta, a), cpu.scoring.perSequence(theta, b)]);
    const local = new CpuLossProbe(config, SEQ, corpus.train);
    expectNear(la, await local.perSequence(theta, a));
    expectNear(lb, await local.perSequence(theta, b));
  });

  it('scores on Dawn inside the thread, matching the CPU reference', async () => {
    const gpu = await openProbeThread({ mode: 'gpu', config, seqLen: SEQ, train: corpus.train, val: corpus.val });
    try {
      expect(gpu.label).not.toMatch(/onnxruntime|CPU reference/);
      // The probes are forward-only: far less GPU memory than the training models they replaced.
      const [held, training] = [...gpu.label.matchAll(/([\d.]+) MiB/g)].map((m) => Number(m[1]));
      expect(held).toBeGreaterThan(0);
      expect(held).toBeLessThan(training / 2);
      const g = await gpu.scoring.perSequence(theta, offsets.subarray(0, 8));
      const c = await new CpuLossProbe(config, SEQ, corpus.train).perSequence(theta, offsets.subarray(0, 8));
      g.forEach((v, i) => expect(Math.abs(v - c[i])).toBeLessThan(1e-4));
    } finally {
      gpu.close();
    }
  });

  it('fails pending and later requests with the reason once the thread is gone', async () => {
    const probes = await openProbeThread({ mode: 'cpu', config, seqLen: SEQ, train: corpus.train, val: corpus.val });
    const pending = probes.scoring.perSequence(theta, offsets);
    probes.close();
    await expect(pending).rejects.toThrow(/closed/);
    await expect(probes.scoring.perSequence(theta, offsets)).rejects.toThrow(/closed/);
  });
});
