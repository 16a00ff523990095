// The ONNX export: onnxruntime-web (wasm, in Node) loads the file and its logits match the WGSL
// engine's forward on Dawn and the CPU reference, at full and shorter sequence lengths.
import * as ort from 'onnxruntime-web';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ADAMW } from '../../src/model/optimizer';
import { checkConfig, gptConfig, PRESETS, type PresetName } from '../../src/model/config';
import { requestGpuDevice, type GpuContext } from '../../src/gpu/device';
import { initParams } from '../../src/model/init';
import { paramLayout } from '../../src/model/layout';
import { GpuGpt } from '../../src/gpu/model';
import { nodeGpu } from '../../src/gpu/nodeGpu';
import { seededRandom } from '../../src/model/random';
import { referenceForward } from '../../src/model/reference';
import { exportOnnx, ONNX_INPUT, ONNX_OUTPUT, onnxWeightBytes, PROTOBUF_LIMIT_BYTES } from '../../src/train/onnxExport';
import { ProtoWriter } from '../../src/train/protobuf';

/** Stated tolerance: |Δlogit| ≤ 1e-4 · max(1, max|logit|) (float32 with different summation orders). */
const TOLERANCE = 1e-4;

const config = checkConfig({ vocabSize: 13, contextLength: 16, embedDim: 16, layers: 2, heads: 2 });
const layout = paramLayout(config);
ort.env.wasm.numThreads = 1;

function randomTokens(count: number, seed: number): Int32Array {
  const rand = seededRandom(seed);
  return Int32Array.from({ length: count }, () => Math.floor(rand() * config.vocabSize));
}

async function runOnnx(bytes: Uint8Array, tokens: Int32Array, batch: number, seq: number): Promise<{ dims: readonly number[]; logits: Float32Array }> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    expect(session.inputNames).toEqual([ONNX_INPUT]);
    expect(session.outputNames).toEqual([ONNX_OUTPUT]);
    const out = await session.run({
      [ONNX_INPUT]: new ort.Tensor(
        'int64',
        BigInt64Array.from(tokens, (t) => BigInt(t)),
        [batch, seq],
      ),
    });
    return { dims: out[ONNX_OUTPUT].dims, logits: out[ONNX_OUTPUT].data as Float32Array };
  } finally {
    await session.release();
  }
}

function maxError(a: Float32Array, b: ArrayLike<number>): { error: number; scale: number } {
  let error = 0;
  let scale = 1;
  for (let i = 0; i < a.length; i++) {
    error = Math.max(error, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return { error, scale };
}

describe('ProtoWriter', () => {
  it('writes varints, floats and nested messages in protobuf wire format', () => {
    const inner = new ProtoWriter().varint(1, 1);
    const bytes = new ProtoWriter().varint(1, 150).float(2, 1).bytes(3, 'hi').bytes(4, inner).packedVarints(5, [3, 270]).finish();
    expect([...bytes]).toEqual([0x08, 0x96, 0x01, 0x15, 0, 0, 0x80, 0x3f, 0x1a, 2, 0x68, 0x69, 0x22, 2, 0x08, 1, 0x2a, 3, 3, 0x8e, 0x02]);
    expect(() => new ProtoWriter().varint(1, -1)).toThrow(RangeError);
  });
});

describe('exportOnnx', () => {
  let ctx: GpuContext;
  let model: GpuGpt;
  let params: Float32Array;
  const batch = 2;
  const seq = config.contextLength;

  beforeAll(async () => {
    ctx = await requestGpuDevice({ gpu: nodeGpu(), label: 'onnx-test' });
    model = new GpuGpt(ctx.device, { config, batchSize: batch, seqLen: seq });
    model.setParams(initParams(config, layout, 5));
    // A few real steps so the exported weights are not the initialisation's near-zero logits.
    for (let step = 1; step <= 4; step++) {
      const tokens = randomTokens(batch * seq, step);
      model.setBatch(0, { tokens, targets: tokens.map((t) => (t + 1) % config.vocabSize) });
      await model.trainStep(step, { ...DEFAULT_ADAMW, lr: 3e-2 }, { readLoss: true });
    }
    await model.settled();
    params = await model.readParams();
  });
  afterAll(() => {
    model.destroy();
    ctx.destroy();
  });

  it("gives the engine's logits at full context length", async () => {
    const tokens = randomTokens(batch * seq, 99);
    model.setBatch(0, { tokens, targets: tokens });
    await model.evaluate();
    const engine = await model.readLogits();
    const onnx = await runOnnx(exportOnnx(config, layout, params), tokens, batch, seq);
    expect(onnx.dims).toEqual([batch, seq, config.vocabSize]);
    const { error, scale } = maxError(onnx.logits, engine);
    expect(scale).toBeGreaterThan(1); // trained weights: logits far from zero, so the check has teeth
    expect(error).toBeLessThanOrEqual(TOLERANCE * scale);
  });

  it('accepts any sequence length up to the context, matching the CPU reference', async () => {
    const tokens = randomTokens(3 * 5, 7);
    const onnx = await runOnnx(exportOnnx(config, layout, params), tokens, 3, 5);
    expect(onnx.dims).toEqual([3, 5, config.vocabSize]);
    const reference = referenceForward(config, layout, params, { tokens, targets: tokens, batchSize: 3, seqLen: 5 });
    const { error, scale } = maxError(onnx.logits, reference.logits);
    expect(error).toBeLessThanOrEqual(TOLERANCE * scale);
  });

  it('refuses parameters that do not fit the layout or are not finite', () => {
    expect(() => exportOnnx(config, layout, new Float32Array(3))).toThrow(/layout needs/);
    const bad = params.slice();
    bad[10] = NaN;
    expect(() => exportOnnx(config, layout, bad)).toThrow(/parameter 10 is NaN/);
  });

  it('fits every preset in one protobuf and refuses a model over its 2 GiB limit before reading a weight', () => {
    for (const name of Object.keys(PRESETS) as PresetName[]) {
      const c = gptConfig(name, 50257);
      expect(onnxWeightBytes(c, paramLayout(c)), name).toBeLessThan(PROTOBUF_LIMIT_BYTES);
    }
    const huge = checkConfig({ vocabSize: 50257, contextLength: 1024, embedDim: 2048, layers: 12, heads: 16 });
    expect(() => exportOnnx(huge, paramLayout(huge), new Float32Array(1))).toThrow(/over protobuf's 2 GiB limit/);
  });
});
