// `npm run bench:onnx-probe`: a GPU-less validator's two instruments side by side on the same
// sequences: onnxruntime-web (wasm, 1 and N threads) and the float64 JavaScript reference.
// Flags: --preset middle --seq 512 --sequences 8 --reference-sequences 1 --threads N.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { promisify } from 'node:util';
import { gptConfig, PRESETS, type PresetName } from '../src/model/config';
import { initParams } from '../src/model/init';
import { paramLayout } from '../src/model/layout';
import { encodeCorpus } from '../src/train/tokenizer';
import { CpuLossProbe } from '../src/validator/cpuLossProbe';
import { OnnxLossProbe } from '../src/validator/onnxLossProbe';
import type { LossProbe } from '../src/validator/scoring';
import { probeThreads } from '../src/node/nodePlatform';
import { flags } from './nodeDriver';

const params = flags();
const preset = (params.get('preset') ?? 'middle') as PresetName;
if (!Object.hasOwn(PRESETS, preset)) throw new Error(`unknown preset ${preset}; use ${Object.keys(PRESETS).join(', ')}`);
const seq = Number(params.get('seq') ?? PRESETS[preset].contextLength);
const sequences = Number(params.get('sequences') ?? 8);
const referenceSequences = Number(params.get('reference-sequences') ?? 1);
const threads = Number(params.get('threads') ?? probeThreads());

const corpus = await encodeCorpus('gpt2', readFileSync('public/data/tinyshakespeare.txt', 'utf8'));
const config = gptConfig(preset, corpus.tokenizer.vocabSize);
const layout = paramLayout(config);
const theta = initParams(config, layout, 1);
const offsets = Uint32Array.from({ length: sequences }, (_, i) => (i * 7919) % (corpus.train.length - seq - 1));
if (!params.has('child-threads'))
  console.log(
    `[onnx-probe] ${preset}: ${(layout.parameterCount / 1e6).toFixed(1)}M parameters, GPT-2 vocabulary ${config.vocabSize}, sequences of ${seq} tokens; ${availableParallelism()} cores`,
  );

/** Sequences per second over `count` sequences, after one untimed warm-up call, and the losses. */
async function timed(label: string, probe: LossProbe, count: number): Promise<{ perSecond: number; losses: Float64Array }> {
  await probe.perSequence(theta, offsets.subarray(0, 1));
  const started = performance.now();
  const losses = await probe.perSequence(theta, offsets.subarray(0, count));
  const seconds = (performance.now() - started) / 1000;
  const perSecond = count / seconds;
  console.log(`[onnx-probe] ${label}: ${count} sequences in ${seconds.toFixed(2)} s, ${perSecond.toFixed(3)} seq/s`);
  return { perSecond, losses };
}

/**
 * onnxruntime reads its thread count once per process, when its wasm starts, so each setting is
 * measured in a child process of this script (`--child-threads N`), which prints one JSON line.
 */
async function onnxIn(childThreads: number): Promise<{ perSecond: number; losses: number[] }> {
  const argv = [
    ...process.execArgv,
    process.argv[1],
    '--preset',
    preset,
    '--seq',
    String(seq),
    '--sequences',
    String(sequences),
    '--child-threads',
    String(childThreads),
  ];
  const { stdout } = await promisify(execFile)(process.execPath, argv, { maxBuffer: 1 << 24 });
  const lines = stdout.trim().split('\n');
  for (const line of lines.slice(0, -1)) console.log(line);
  return JSON.parse(lines[lines.length - 1]) as { perSecond: number; losses: number[] };
}

const childThreads = params.get('child-threads');
if (childThreads !== null) {
  const probe = new OnnxLossProbe(config, seq, corpus.train, { threads: Number(childThreads) });
  const { perSecond, losses } = await timed(`onnxruntime-web, ${childThreads} thread(s)`, probe, sequences);
  await probe.destroy();
  console.log(JSON.stringify({ perSecond, losses: [...losses] }));
  process.exit(0);
}

const one = await onnxIn(1);
const multi = await onnxIn(threads);
const reference = await timed('float64 reference', new CpuLossProbe(config, seq, corpus.train), referenceSequences);

let worst = 0;
for (let i = 0; i < referenceSequences; i++)
  worst = Math.max(worst, Math.abs(one.losses[i] - reference.losses[i]), Math.abs(multi.losses[i] - reference.losses[i]));
console.log(`[onnx-probe] largest |Δloss| onnxruntime vs reference: ${worst.toExponential(2)} (loss ≈ ${reference.losses[0].toFixed(3)})`);
console.log(
  `validator CPU scoring at ${preset}: onnxruntime ${multi.perSecond.toFixed(3)} seq/s (${threads} threads), ${one.perSecond.toFixed(3)} seq/s (1 thread) vs reference ${reference.perSecond.toFixed(4)} seq/s: ${(multi.perSecond / reference.perSecond).toFixed(1)}×`,
);
