// The matmul comparison both drivers run (Node on Dawn, a Chromium tab): Tessera's
// createMatmul against tf.matMul at the GPT's linear-layer shapes, timed alternately.
import * as tf from '@tensorflow/tfjs';
import { createStorageBuffer, readFloat32 } from '../src/gpu/buffers';
import { PRESETS, type PresetName } from '../src/model/config';
import { createMatmul } from '../src/gpu/matmul';
import { DEFAULT_SHAPES, median } from './trainCompare';
import { freshTfjsWebgpu } from './tfjsGpt';

export interface MatmulBenchOptions {
  presets: PresetName[];
  /** Matmuls per timed batch, and alternating rounds per engine. */
  reps: number;
  rounds: number;
}

export function matmulOptions(params: URLSearchParams): MatmulBenchOptions {
  const int = (name: string, fallback: number): number => {
    const value = Number(params.get(name) ?? fallback);
    if (!Number.isInteger(value) || value <= 0) throw new RangeError(`--${name} must be a positive integer`);
    return value;
  };
  const presets = (params.get('presets') ?? 'tiny,small').split(',') as PresetName[];
  for (const p of presets) if (!(p in PRESETS)) throw new RangeError(`unknown preset ${p}`);
  return { presets, reps: int('reps', 10), rounds: int('rounds', 5) };
}

/** rows×C·C×3C (qkv), rows×C·C×4C (mlp.fc), rows×4C·4C×C (mlp.proj), rows = the train bench's batch × seq. */
export function matmulShapes(preset: PresetName): { name: string; m: number; k: number; n: number }[] {
  const C = PRESETS[preset].embedDim;
  const m = DEFAULT_SHAPES[preset].batch * DEFAULT_SHAPES[preset].seq;
  return [
    { name: 'qkv', m, k: C, n: 3 * C },
    { name: 'fc', m, k: C, n: 4 * C },
    { name: 'proj', m, k: 4 * C, n: C },
  ];
}

function randomFloats(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 31 - 1);
}

export async function runMatmulBench(device: GPUDevice, opts: MatmulBenchOptions, log: (line: string) => void): Promise<boolean> {
  await freshTfjsWebgpu();
  let ok = true;
  for (const preset of opts.presets) {
    for (const { name, m, k, n } of matmulShapes(preset)) {
      const dims = `${m}x${k}x${n}`;
      const [a, b] = [randomFloats(m * k, 1), randomFloats(k * n, 2)];
      const bufs = [createStorageBuffer(device, a, 'a'), createStorageBuffer(device, b, 'b'), createStorageBuffer(device, m * n * 4, 'c')];
      const mm = createMatmul(device, { m, n, k }, bufs[0], bufs[1], bufs[2]);
      const [ta, tb] = [tf.tensor2d(a, [m, k]), tf.tensor2d(b, [k, n])];
      const runTessera = async (): Promise<number> => {
        const t0 = performance.now();
        const encoder = device.createCommandEncoder();
        for (let i = 0; i < opts.reps; i++) mm.encode(encoder);
        device.queue.submit([encoder.finish()]);
        await device.queue.onSubmittedWorkDone();
        return (performance.now() - t0) / opts.reps;
      };
      const runTfjs = async (): Promise<number> => {
        const t0 = performance.now();
        for (let i = 0; i < opts.reps - 1; i++) tf.matMul(ta, tb).dispose();
        const last = tf.matMul(ta, tb);
        await last.data(); // submits and waits for every queued matmul
        last.dispose();
        return (performance.now() - t0) / opts.reps;
      };
      try {
        await runTessera();
        await runTfjs();
        const times = { tess: [] as number[], peer: [] as number[] };
        for (let r = 0; r < opts.rounds; r++) {
          times.tess.push(await runTessera());
          times.peer.push(await runTfjs());
        }
        const ref = tf.matMul(ta, tb);
        const [mine, theirs] = [await readFloat32(device, bufs[2], m * n), await ref.data()];
        ref.dispose();
        let diff = 0;
        for (let i = 0; i < m * n; i++) diff = Math.max(diff, Math.abs(mine[i] - theirs[i]));
        if (diff > 1e-3) ok = false;
        const [msT, msP] = [median(times.tess), median(times.peer)];
        const gflops = (ms: number): string => ((2 * m * n * k) / ms / 1e6).toFixed(3);
        log(
          `${preset} ${name.padEnd(4)} ${dims.padEnd(12)} tessera ${msT.toFixed(2).padStart(8)} ms ${gflops(msT).padStart(7)} GFLOP/s | tfjs ${msP.toFixed(2).padStart(8)} ms ${gflops(msP).padStart(7)} GFLOP/s | max|Δ| ${diff.toExponential(1)}`,
        );
        log(`matmul speedup vs tfjs-webgpu (${dims}): ${(msP / msT).toFixed(2)}×`);
      } finally {
        for (const buf of bufs) buf.destroy();
        ta.dispose();
        tb.dispose();
      }
    }
  }
  return ok;
}
