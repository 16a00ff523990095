// `npm run train`: the centralized baseline. Trains a preset on a corpus with Dawn, shows a
// progress bar, and writes the loss curve (CSV and SVG), a summary and the final parameters.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_ADAMW } from '../model/optimizer';
import { gptConfig, PRESETS, TOKENIZER_KINDS, type PresetName, type TokenizerKind } from '../model/config';
import { GpuUnavailableError, requestGpuDevice } from '../gpu/device';
import { initParams } from '../model/init';
import { GpuGpt } from '../gpu/model';
import { nodeGpu } from '../gpu/nodeGpu';
import { seededRandom } from '../model/random';
import { runInnerLoop, type InnerLoopProgress } from '../train/innerLoop';
import { exportHuggingFace } from '../train/hfExport';
import { exportOnnx, ONNX_OPSET } from '../train/onnxExport';
import { encodeCorpus } from '../train/tokenizer';
import { lossPlotSvg } from './lossPlot';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Per-preset defaults: nanoGPT's shakespeare_char settings for the full preset. */
const DEFAULT_BATCH: Record<PresetName, number> = { tiny: 8, small: 8, shakespeare: 64, middle: 8, 'gpt2-small': 4 };

export interface TrainArgs {
  preset: PresetName;
  steps: number;
  corpus: string;
  tokenizer: TokenizerKind;
  batch: number;
  seq: number;
  micro: number;
  lr: number;
  minLr: number;
  warmup: number;
  evalEvery: number;
  evalBatches: number;
  seed: number;
  out: string;
  /** Also write the trained model as ONNX to this path. */
  onnx?: string;
  /** Also write a Hugging Face GPT-2 checkpoint (model.safetensors, config.json) into this directory. */
  hf?: string;
}

const USAGE =
  'usage: npm run train -- [--preset tiny|small|shakespeare|middle|gpt2-small] [--steps N] [--corpus FILE] [--tokenizer char|byte|gpt2] [--batch N] [--seq N] [--micro N] [--lr X] [--min-lr X] [--warmup N] [--eval-every N] [--eval-batches N] [--seed N] [--out DIR] [--onnx FILE] [--hf DIR]';

export function parseTrainArgs(argv: string[]): TrainArgs {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i];
    if (!flag.startsWith('--') || argv[i + 1] === undefined) throw new Error(`expected --flag value pairs, got "${flag}"\n${USAGE}`);
    flags.set(flag.slice(2), argv[i + 1]);
  }
  const preset = (flags.get('preset') ?? 'tiny') as PresetName;
  if (!(preset in PRESETS)) throw new Error(`--preset must be one of ${Object.keys(PRESETS).join(', ')}, got "${preset}"`);
  const num = (name: string, fallback: number, integer = true): number => {
    const raw = flags.get(name);
    flags.delete(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value)))
      throw new Error(`--${name} must be a positive ${integer ? 'integer' : 'number'}, got "${raw}"`);
    return value;
  };
  const steps = num('steps', 200);
  const args: TrainArgs = {
    preset,
    steps,
    corpus: resolve(flags.get('corpus') ?? join(ROOT, 'public', 'data', 'tinyshakespeare.txt')),
    tokenizer: (flags.get('tokenizer') ?? 'char') as TokenizerKind,
    batch: num('batch', DEFAULT_BATCH[preset]),
    seq: num('seq', PRESETS[preset].contextLength),
    micro: num('micro', 1),
    lr: num('lr', 1e-3, false),
    minLr: num('min-lr', 1e-4, false),
    warmup: num('warmup', Math.min(100, Math.ceil(steps / 10))),
    evalEvery: num('eval-every', Math.max(10, Math.round(steps / 20))),
    evalBatches: num('eval-batches', 8),
    seed: num('seed', 1337),
    out: resolve(flags.get('out') ?? join(ROOT, 'runs', `${preset}-${new Date().toISOString().replace(/[:.]/g, '-')}`)),
    ...(flags.has('onnx') ? { onnx: resolve(flags.get('onnx') ?? '') } : {}),
    ...(flags.has('hf') ? { hf: resolve(flags.get('hf') ?? '') } : {}),
  };
  for (const known of ['preset', 'corpus', 'tokenizer', 'out', 'onnx', 'hf']) flags.delete(known);
  if (flags.size) throw new Error(`unknown option --${[...flags.keys()][0]}\n${USAGE}`);
  if (!TOKENIZER_KINDS.includes(args.tokenizer)) throw new Error(`--tokenizer must be one of ${TOKENIZER_KINDS.join(', ')}, got "${args.tokenizer}"`);
  return args;
}

function progressLine(p: InnerLoopProgress, last: { loss?: number; valLoss?: number }, startedAt: number): string {
  const width = 28;
  const filled = Math.round((p.done / p.of) * width);
  const elapsed = (Date.now() - startedAt) / 1000;
  const eta = p.done > 0 ? (elapsed / p.done) * (p.of - p.done) : 0;
  const f = (x?: number): string => (x === undefined ? '  -  ' : x.toFixed(3));
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${p.done}/${p.of} loss ${f(last.loss)} val ${f(last.valLoss)} ${Math.round(p.tokensPerSecond)} tok/s lr ${p.lr.toExponential(1)} eta ${Math.round(eta)}s`;
}

export async function train(args: TrainArgs, log: (line: string) => void = console.log): Promise<{ valLoss: number; outDir: string }> {
  const text = readFileSync(args.corpus, 'utf8');
  const corpus = await encodeCorpus(args.tokenizer, text);
  const tokenizer = corpus.tokenizer;
  const config = gptConfig(args.preset, tokenizer.vocabSize);
  const ctx = await requestGpuDevice({ gpu: nodeGpu(), label: 'trainer' });
  const model = new GpuGpt(ctx.device, { config, batchSize: args.batch, seqLen: args.seq, microSteps: args.micro });
  log(
    `[train] ${args.preset}: ${model.layout.parameterCount.toLocaleString('en-US')} parameters, vocab ${tokenizer.vocabSize} (${args.tokenizer}), ${args.batch}×${args.seq}×${args.micro} tokens/step, ${(model.memory.total / 2 ** 20).toFixed(1)} MiB on ${ctx.report.adapter.vendor} ${ctx.report.adapter.architecture}`,
  );
  model.setParams(initParams(config, model.layout, args.seed));
  const next = seededRandom(args.seed);
  const pick = (ids: Uint16Array, count: number, rand: () => number): number[] =>
    Array.from({ length: count }, () => Math.floor(rand() * (ids.length - args.seq - 1)));
  const valOffsets = pick(corpus.val, args.evalBatches * args.batch, seededRandom(args.seed + 1));
  let stop = false;
  const onSigint = (): void => {
    stop = true;
    log('\n[train] stopping after this step (Ctrl-C again to abort)');
    process.once('SIGINT', () => process.exit(130));
  };
  process.once('SIGINT', onSigint);
  const tty = process.stderr.isTTY;
  const last: { loss?: number; valLoss?: number } = {};
  const startedAt = Date.now();
  let lastPrint = 0;
  try {
    const result = await runInnerLoop({
      model,
      train: corpus.train,
      offsetsForStep: () => pick(corpus.train, args.batch * args.micro, next),
      startStep: 0,
      steps: args.steps,
      schedule: { maxLr: args.lr, minLr: args.minLr, warmupSteps: args.warmup, decaySteps: args.steps },
      hyper: DEFAULT_ADAMW,
      val: { ids: corpus.val, offsets: valOffsets },
      evalEvery: args.evalEvery,
      lossEvery: Math.max(1, Math.min(10, Math.floor(args.evalEvery / 2))),
      shouldStop: () => stop,
      onProgress: (p) => {
        if (p.loss !== undefined) last.loss = p.loss;
        if (p.valLoss !== undefined) last.valLoss = p.valLoss;
        // A terminal gets a live bar; logs and CI get a line every few seconds.
        if (tty) process.stderr.write(`\r${progressLine(p, last, startedAt)}`);
        else if (Date.now() - lastPrint > 5000 || p.done === p.of) {
          lastPrint = Date.now();
          log(progressLine(p, last, startedAt));
        }
      },
    });
    if (tty) process.stderr.write('\n');
    mkdirSync(args.out, { recursive: true });
    const rows = new Map<number, { train?: number; val?: number }>();
    for (const l of result.trainLosses) rows.set(l.step, { ...rows.get(l.step), train: l.loss });
    for (const l of result.valLosses) rows.set(l.step, { ...rows.get(l.step), val: l.loss });
    const csv = ['step,train_loss,val_loss', ...[...rows.entries()].sort((a, b) => a[0] - b[0]).map(([s, r]) => `${s},${r.train ?? ''},${r.val ?? ''}`)].join(
      '\n',
    );
    writeFileSync(join(args.out, 'loss.csv'), `${csv}\n`);
    writeFileSync(
      join(args.out, 'loss.svg'),
      lossPlotSvg(`${args.preset} on ${args.corpus.split('/').pop()}`, [
        { label: 'train', color: '#2563eb', points: result.trainLosses },
        { label: 'validation', color: '#dc2626', points: result.valLosses },
      ]),
    );
    const params = await model.readParams();
    writeFileSync(join(args.out, 'params.f32'), params);
    if (args.onnx) {
      mkdirSync(dirname(args.onnx), { recursive: true });
      writeFileSync(args.onnx, exportOnnx(config, model.layout, params, { tokenizer: tokenizer.toJSON(), preset: args.preset, step: result.stepsDone }));
      log(`[train] wrote ${args.onnx} (ONNX opset ${ONNX_OPSET}: tokens int64 [batch, seq] → logits [batch, seq, ${config.vocabSize}])`);
    }
    if (args.hf) {
      mkdirSync(args.hf, { recursive: true });
      const files = exportHuggingFace(config, model.layout, params, { tokenizer: tokenizer.toJSON(), preset: args.preset, step: result.stepsDone });
      for (const [name, content] of Object.entries(files)) writeFileSync(join(args.hf, name), content);
      log(`[train] wrote ${args.hf}/ (${Object.keys(files).join(', ')}): GPT2LMHeadModel.from_pretrained('${args.hf}') loads it`);
    }
    const valLoss = result.valLosses[result.valLosses.length - 1]?.loss ?? NaN;
    const summary = {
      preset: args.preset,
      config,
      tokenizer: tokenizer.toJSON(),
      args,
      stepsDone: result.stepsDone,
      tokens: result.tokens,
      seconds: result.milliseconds / 1000,
      finalValLoss: valLoss,
    };
    writeFileSync(join(args.out, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
    log(
      `[train] ${result.stepsDone} steps, ${result.tokens.toLocaleString('en-US')} tokens in ${(result.milliseconds / 1000).toFixed(1)} s; final validation loss ${valLoss.toFixed(4)}`,
    );
    log(`[train] wrote ${join(args.out, 'loss.csv')}, loss.svg, params.f32, summary.json`);
    return { valLoss, outDir: args.out };
  } finally {
    process.off('SIGINT', onSigint);
    model.destroy();
    ctx.destroy();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    await train(parseTrainArgs(process.argv.slice(2)));
    process.exit(0);
  } catch (err) {
    const message =
      err instanceof GpuUnavailableError
        ? `${err.message} (headless peers need a Vulkan driver: a GPU's, or SwiftShader from Debian's chromium package plus libvulkan1)`
        : (err as Error).message;
    console.error(`[train] ${message}`);
    process.exit(1);
  }
}
