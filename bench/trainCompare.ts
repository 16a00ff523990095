// The training-step comparison both drivers run (Node on Dawn, a Chromium tab): Tessera's
// GpuGpt and the tfjs GPT from the same parameters and batch, timed alternately.
import { DEFAULT_ADAMW } from '../src/model/optimizer';
import { gptConfig, PRESETS, type GptConfig, type PresetName } from '../src/model/config';
import { initParams } from '../src/model/init';
import { paramLayout, type ParamLayout } from '../src/model/layout';
import { GpuGpt } from '../src/gpu/model';
import { freshTfjsWebgpu, TfjsGpt, tfjsGpuBytes } from './tfjsGpt';

/** Character-level vocabulary, as the Shakespeare preset trains on. */
export const VOCAB = 65;

/** Shapes (and steps per timed round) that finish in minutes on SwiftShader, CPU-emulated WebGPU; override with --batch/--seq/--steps. */
export const DEFAULT_SHAPES: Record<PresetName, { batch: number; seq: number; steps: number }> = {
  tiny: { batch: 4, seq: 64, steps: 2 },
  small: { batch: 2, seq: 64, steps: 1 },
  shakespeare: { batch: 1, seq: 32, steps: 1 },
  middle: { batch: 1, seq: 32, steps: 1 },
  'gpt2-small': { batch: 1, seq: 32, steps: 1 },
};

export interface TrainBenchOptions {
  presets: PresetName[];
  batch?: number;
  seq?: number;
  /** Steps per timed round (default per preset), rounds per engine (alternating), untimed warm-up steps. */
  steps?: number;
  rounds: number;
  warmup: number;
  /** Seconds a preset may take before it is cut short or skipped. */
  budgetS: number;
}

/** Options from `--name value` flags (Node) or a page's query string: the same names in both. */
export function trainOptions(params: URLSearchParams): TrainBenchOptions {
  const num = (name: string, fallback?: number): number | undefined => {
    const raw = params.get(name);
    if (raw === null) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value <= 0) throw new RangeError(`--${name} must be a positive integer, got ${raw}`);
    return value;
  };
  const presets = (params.get('presets') ?? 'tiny,small,shakespeare').split(',') as PresetName[];
  for (const p of presets) if (!(p in PRESETS)) throw new RangeError(`unknown preset ${p}; use ${Object.keys(PRESETS).join(', ')}`);
  return {
    presets,
    batch: num('batch'),
    seq: num('seq'),
    steps: num('steps'),
    rounds: num('rounds', 2) as number,
    warmup: num('warmup', 1) as number,
    budgetS: num('budget', 150) as number,
  };
}

/** Model FLOPs per step: 6·N·tokens for the matmul weights N = 12·L·C² + V·C (tied head), plus 12·L·T·C per token for attention. */
export function flopsPerStep(c: GptConfig, batch: number, seq: number): number {
  const { embedDim: C, layers: L, vocabSize: V } = c;
  return batch * seq * (6 * (12 * L * C * C + V * C) + 12 * L * seq * C);
}

/**
 * The least a training step must hold on the GPU, in bytes: parameters, gradients, two Adam
 * moments, and what backward reads — per layer the block input, ln1, qkv, attention output,
 * x1, ln2, fc, gelu (16·C floats per row) and the B·H·T² attention probabilities; then the
 * final residual, lnf and the logits.
 */
export function minTrainBytes(c: GptConfig, layout: ParamLayout, batch: number, seq: number): { state: number; activations: number } {
  const { embedDim: C, layers: L, vocabSize: V, heads: H } = c;
  const rows = batch * seq;
  return { state: 16 * layout.parameterCount, activations: 4 * (rows * (16 * L * C + 2 * C + V) + L * batch * H * seq * seq) };
}

export const mb = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(2)} MiB`;
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** A deterministic batch: token ids from a fixed LCG, targets the next id as in language modelling. */
function batchIds(rows: number): { tokens: Uint32Array; targets: Uint32Array } {
  const ids = new Uint32Array(rows + 1);
  let s = 12345;
  for (let i = 0; i <= rows; i++) ids[i] = (s = (Math.imul(s, 1103515245) + 12345) >>> 0) % VOCAB;
  return { tokens: ids.subarray(0, rows), targets: ids.subarray(1) };
}

interface Timed {
  ms: number;
  loss: number;
}

async function timeTessera(model: GpuGpt, device: GPUDevice, firstStep: number, steps: number): Promise<Timed> {
  const t0 = performance.now();
  let loss: Promise<number> | null = null;
  for (let i = 0; i < steps; i++) loss = model.trainStep(firstStep + i, DEFAULT_ADAMW, { readLoss: i === steps - 1 }) ?? loss;
  const value = (await loss) ?? NaN;
  await device.queue.onSubmittedWorkDone();
  return { ms: (performance.now() - t0) / steps, loss: value };
}

async function timeTfjs(model: TfjsGpt, steps: number): Promise<Timed> {
  const t0 = performance.now();
  let loss = NaN;
  // Reading the last loss submits and waits for every queued command, updates included.
  for (let i = 0; i < steps; i++) loss = (await model.trainStep(i === steps - 1)) ?? loss;
  return { ms: (performance.now() - t0) / steps, loss };
}

/** Runs every preset; returns false if a loss check failed. Each printed line goes through `log`. */
export async function runTrainBench(device: GPUDevice, opts: TrainBenchOptions, log: (line: string) => void): Promise<boolean> {
  let allAgree = true;
  for (const preset of opts.presets) {
    const d = DEFAULT_SHAPES[preset];
    const seq = Math.min(opts.seq ?? d.seq, PRESETS[preset].contextLength);
    try {
      allAgree = (await benchPreset(device, preset, opts.batch ?? d.batch, seq, opts.steps ?? d.steps, opts, log)) && allAgree;
    } catch (err) {
      log(`${preset}: skipped: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return allAgree;
}

async function benchPreset(
  device: GPUDevice,
  preset: PresetName,
  batch: number,
  seq: number,
  steps: number,
  opts: TrainBenchOptions,
  log: (line: string) => void,
): Promise<boolean> {
  const config = gptConfig(preset, VOCAB);
  const layout = paramLayout(config);
  const flat = initParams(config, layout, 1);
  const { tokens, targets } = batchIds(batch * seq);
  const flops = flopsPerStep(config, batch, seq);
  log(
    `${preset}: L=${config.layers} C=${config.embedDim} H=${config.heads} V=${VOCAB}, batch ${batch} × seq ${seq}, ${steps} step(s) × ${opts.rounds} rounds, ${(layout.parameterCount / 1e6).toFixed(3)}M params, ${(flops / 1e9).toFixed(3)} GFLOP/step`,
  );

  await freshTfjsWebgpu();
  const tess = new GpuGpt(device, { config, batchSize: batch, seqLen: seq });
  const peer = new TfjsGpt(config, layout, flat, batch, seq, DEFAULT_ADAMW);
  try {
    tess.setParams(flat);
    tess.setBatch(0, { tokens, targets });
    peer.setBatch(tokens, targets);
    const [l0, l1] = [await tess.evaluate(), await peer.loss()];
    const agree = Math.abs(l0 - l1) <= 1e-3;
    log(
      `${preset}: first-step loss tessera ${l0.toFixed(5)} tfjs ${l1.toFixed(5)} |Δ| ${Math.abs(l0 - l1).toExponential(1)} ${agree ? 'ok' : 'MISMATCH (> 1e-3)'}`,
    );

    const started = performance.now();
    let step = 1;
    let warmTess = 0;
    let warmPeer = 0;
    for (let i = 0; i < opts.warmup; i++) {
      warmTess = (await timeTessera(tess, device, step++, 1)).ms;
      warmPeer = (await timeTfjs(peer, 1)).ms;
    }
    const roundS = ((warmTess + warmPeer) * steps) / 1000;
    if ((performance.now() - started) / 1000 + roundS > opts.budgetS) {
      log(
        `${preset}: skipped: a warm-up step took ${(warmTess / 1000).toFixed(1)} s (tessera) and ${(warmPeer / 1000).toFixed(1)} s (tfjs); one round of ${steps} step(s) each would pass --budget ${opts.budgetS} s (raise it, or lower --batch/--seq)`,
      );
      return agree;
    }
    const times = { tess: [] as number[], peer: [] as number[] };
    let last = { tess: NaN, peer: NaN };
    for (let r = 0; r < opts.rounds; r++) {
      const t = await timeTessera(tess, device, step, steps);
      const p = await timeTfjs(peer, steps);
      step += steps;
      times.tess.push(t.ms);
      times.peer.push(p.ms);
      last = { tess: t.loss, peer: p.loss };
      const elapsed = (performance.now() - started) / 1000;
      if (r + 1 < opts.rounds && elapsed + ((t.ms + p.ms) * steps) / 1000 > opts.budgetS) {
        log(`${preset}: stopped after ${r + 1} of ${opts.rounds} rounds (--budget ${opts.budgetS} s)`);
        break;
      }
    }
    const min = minTrainBytes(config, layout, batch, seq);
    const line = (name: string, ms: number, bytes: number): string =>
      `${preset}: ${name.padEnd(11)} ${ms.toFixed(1).padStart(9)} ms/step ${((batch * seq * 1000) / ms).toFixed(0).padStart(7)} tok/s ${(flops / ms / 1e6).toFixed(3).padStart(7)} GFLOP/s  GPU peak ${mb(bytes)}`;
    const msTess = median(times.tess);
    const msPeer = median(times.peer);
    log(line('tessera', msTess, tess.memory.total));
    log(line('tfjs-webgpu', msPeer, tfjsGpuBytes()));
    log(`${preset}: GPU minimum ≈ ${mb(min.state + min.activations)} (params+grads+Adam m,v ${mb(min.state)} + activations ${mb(min.activations)})`);
    log(`${preset}: loss after ${step - 1} steps: tessera ${last.tess.toFixed(4)} (AdamW, clip 1) tfjs ${last.peer.toFixed(4)} (Adam)`);
    log(`${preset}: train-step speedup vs tfjs-webgpu: ${(msPeer / msTess).toFixed(2)}×`);
    return agree;
  } finally {
    tess.destroy();
    peer.dispose();
  }
}
