// The Node trainer: argument errors say what is wrong, and a short real run on Dawn writes
// a loss CSV, an SVG plot, the parameters and a summary.
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import type { GptConfig } from '../../src/model/config';
import { initParams } from '../../src/model/init';
import { paramLayout } from '../../src/model/layout';
import { parseTrainArgs, train } from '../../src/node/train';

describe('npm run train', () => {
  it('refuses bad arguments with the reason', () => {
    expect(() => parseTrainArgs(['--preset', 'huge'])).toThrow(/--preset must be one of tiny, small, shakespeare/);
    expect(() => parseTrainArgs(['--steps', '-3'])).toThrow(/--steps must be a positive integer/);
    expect(() => parseTrainArgs(['--lr', 'fast'])).toThrow(/--lr must be a positive number/);
    expect(() => parseTrainArgs(['--bogus', '1'])).toThrow(/unknown option --bogus/);
    expect(() => parseTrainArgs(['--steps'])).toThrow(/usage: npm run train/);
    expect(parseTrainArgs(['--preset', 'small', '--steps', '50'])).toMatchObject({ preset: 'small', steps: 50, batch: 8, seq: 128, warmup: 5 });
  });

  it('trains a few steps and writes the loss curve, plot, parameters and summary', async () => {
    const out = mkdtempSync(join(tmpdir(), 'tessera-train-'));
    const lines: string[] = [];
    const args = parseTrainArgs([
      '--preset',
      'tiny',
      '--steps',
      '6',
      '--batch',
      '1',
      '--seq',
      '16',
      '--eval-every',
      '3',
      '--eval-batches',
      '1',
      '--out',
      out,
      '--onnx',
      join(out, 'model.onnx'),
      '--hf',
      join(out, 'hf'),
    ]);
    const { valLoss } = await train(args, (l) => lines.push(l));
    expect(Number.isFinite(valLoss)).toBe(true);
    const csv = readFileSync(join(out, 'loss.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('step,train_loss,val_loss');
    expect(csv[csv.length - 1]).toMatch(/^6,[\d.]+,[\d.]+$/);
    expect(readFileSync(join(out, 'loss.svg'), 'utf8')).toMatch(/^<svg[\s\S]*<polyline[\s\S]*<\/svg>$/);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as {
      stepsDone: number;
      tokens: number;
      finalValLoss: number;
      config: GptConfig;
      args: { seed: number };
    };
    expect(summary).toMatchObject({ stepsDone: 6, tokens: 96, finalValLoss: valLoss });
    // params.f32: every parameter of the model's layout as float32, all finite, and trained
    // (six AdamW steps moved them away from the seed's initialisation).
    const layout = paramLayout(summary.config);
    expect(statSync(join(out, 'params.f32')).size).toBe(layout.totalFloats * 4);
    const file = readFileSync(join(out, 'params.f32'));
    const params = new Float32Array(file.buffer.slice(file.byteOffset, file.byteOffset + file.byteLength));
    expect(params.every(Number.isFinite)).toBe(true);
    const init = initParams(summary.config, layout, summary.args.seed);
    const moved = params.reduce((n, v, i) => n + (v !== init[i] ? 1 : 0), 0);
    expect(moved, `${moved} of ${params.length} parameters changed`).toBeGreaterThan(0.9 * params.length);
    expect(lines.join('\n')).toMatch(/final validation loss/);
    // --onnx: the file loads in onnxruntime-web and maps tokens to logits over the vocabulary.
    const vocab = summary.config.vocabSize;
    const session = await ort.InferenceSession.create(readFileSync(join(out, 'model.onnx')));
    const logits = (await session.run({ tokens: new ort.Tensor('int64', new BigInt64Array(4), [1, 4]) })).logits;
    expect(logits.dims).toEqual([1, 4, vocab]);
    expect([...(logits.data as Float32Array)].every(Number.isFinite)).toBe(true);
    expect(lines.join('\n')).toMatch(/wrote .*model\.onnx \(ONNX opset 17/);
    // --hf: a checkpoint directory whose weights are the trained params.f32, tensor for tensor.
    const hfConfig = JSON.parse(readFileSync(join(out, 'hf', 'config.json'), 'utf8')) as { n_layer: number; vocab_size: number };
    expect(hfConfig).toMatchObject({ n_layer: summary.config.layers, vocab_size: vocab });
    const st = readFileSync(join(out, 'hf', 'model.safetensors'));
    const headerLength = Number(st.readBigUInt64LE(0));
    const header = JSON.parse(st.subarray(8, 8 + headerLength).toString('utf8')) as Record<string, { data_offsets: [number, number] }>;
    const [start, end] = header['ln_f.bias'].data_offsets;
    const lnf = layout.byName.get('lnf.b')!;
    expect(st.subarray(8 + headerLength + start, 8 + headerLength + end).equals(file.subarray(lnf.offset * 4, (lnf.offset + lnf.size) * 4))).toBe(true);
    expect(lines.join('\n')).toMatch(/GPT2LMHeadModel\.from_pretrained/);
  });
});
