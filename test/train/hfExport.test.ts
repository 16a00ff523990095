// The Hugging Face export: a safetensors parser written here reads the file back (names, shapes,
// bytes), and GPT-2's forward written the way transformers computes it, from those tensors
// alone, gives the CPU reference's logits.
import { describe, expect, it } from 'vitest';
import { checkConfig, type GptConfig } from '../../src/model/config';
import { paramLayout, viewOf } from '../../src/model/layout';
import { seededRandom } from '../../src/model/random';
import { referenceForward } from '../../src/model/reference';
import { encodeSafetensors, exportHuggingFace, hfTensorNames } from '../../src/train/hfExport';

const config = checkConfig({ vocabSize: 13, contextLength: 16, embedDim: 16, layers: 2, heads: 2 });
const layout = paramLayout(config);

/** Random values everywhere (LayerNorm gains and biases too), so a swapped tensor changes the logits. */
function randomParams(seed: number): Float32Array {
  const rand = seededRandom(seed);
  return Float32Array.from({ length: layout.totalFloats }, () => (rand() - 0.5) * 3);
}

interface Parsed {
  metadata: Record<string, string>;
  tensors: Map<string, { shape: number[]; data: Float32Array }>;
  headerLength: number;
}

/** safetensors as its specification describes it, independent of the exporter's code. */
function parseSafetensors(bytes: Uint8Array): Parsed {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength))) as Record<string, unknown>;
  const dataStart = 8 + headerLength;
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  let expectedStart = 0;
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const {
      dtype,
      shape,
      data_offsets: [start, end],
    } = entry as { dtype: string; shape: number[]; data_offsets: [number, number] };
    expect(dtype).toBe('F32');
    expect(start).toBe(expectedStart); // contiguous, no gaps or overlaps
    expect(end - start).toBe(shape.reduce((a, b) => a * b, 1) * 4);
    expectedStart = end;
    const data = new Float32Array(bytes.slice(dataStart + start, dataStart + end).buffer);
    tensors.set(name, { shape, data });
  }
  expect(dataStart + expectedStart).toBe(bytes.length);
  return { metadata: header.__metadata__ as Record<string, string>, tensors, headerLength };
}

/** The names and shapes of the official gpt2 checkpoint, written out from its config. */
function gpt2Shapes(c: GptConfig): Map<string, number[]> {
  const C = c.embedDim;
  const shapes = new Map<string, number[]>([
    ['wte.weight', [c.vocabSize, C]],
    ['wpe.weight', [c.contextLength, C]],
    ['ln_f.weight', [C]],
    ['ln_f.bias', [C]],
  ]);
  for (let l = 0; l < c.layers; l++) {
    const h = `h.${l}`;
    for (const ln of ['ln_1', 'ln_2']) shapes.set(`${h}.${ln}.weight`, [C]).set(`${h}.${ln}.bias`, [C]);
    shapes.set(`${h}.attn.c_attn.weight`, [C, 3 * C]).set(`${h}.attn.c_attn.bias`, [3 * C]);
    shapes.set(`${h}.attn.c_proj.weight`, [C, C]).set(`${h}.attn.c_proj.bias`, [C]);
    shapes.set(`${h}.mlp.c_fc.weight`, [C, 4 * C]).set(`${h}.mlp.c_fc.bias`, [4 * C]);
    shapes.set(`${h}.mlp.c_proj.weight`, [4 * C, C]).set(`${h}.mlp.c_proj.bias`, [C]);
  }
  return shapes;
}

/** GPT2LMHeadModel's forward (eval mode) in float64, reading only Hugging Face tensor names. */
function hfForward(c: GptConfig, get: (name: string) => Float32Array, tokens: Int32Array, T: number): Float64Array {
  const C = c.embedDim;
  const H = c.heads;
  const hs = C / H;
  const conv1d = (x: Float64Array, rows: number, prefix: string, nIn: number, nOut: number): Float64Array => {
    const w = get(`${prefix}.weight`);
    const b = get(`${prefix}.bias`);
    const y = new Float64Array(rows * nOut);
    for (let r = 0; r < rows; r++)
      for (let o = 0; o < nOut; o++) {
        let s = b[o];
        for (let i = 0; i < nIn; i++) s += x[r * nIn + i] * w[i * nOut + o];
        y[r * nOut + o] = s;
      }
    return y;
  };
  const layerNorm = (x: Float64Array, prefix: string): Float64Array => {
    const w = get(`${prefix}.weight`);
    const b = get(`${prefix}.bias`);
    const y = new Float64Array(x.length);
    for (let r = 0; r < x.length / C; r++) {
      const row = x.subarray(r * C, (r + 1) * C);
      const mean = row.reduce((a, v) => a + v, 0) / C;
      const variance = row.reduce((a, v) => a + (v - mean) ** 2, 0) / C;
      for (let i = 0; i < C; i++) y[r * C + i] = ((row[i] - mean) / Math.sqrt(variance + 1e-5)) * w[i] + b[i];
    }
    return y;
  };
  const geluNew = (v: number): number => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
  const B = tokens.length / T;
  const rows = B * T;
  const wte = get('wte.weight');
  const wpe = get('wpe.weight');
  let x = new Float64Array(rows * C);
  for (let r = 0; r < rows; r++) for (let i = 0; i < C; i++) x[r * C + i] = wte[tokens[r] * C + i] + wpe[(r % T) * C + i];
  for (let l = 0; l < c.layers; l++) {
    const qkv = conv1d(layerNorm(x, `h.${l}.ln_1`), rows, `h.${l}.attn.c_attn`, C, 3 * C);
    // query, key, value = c_attn(x).split(n_embd, dim=2); each viewed as [B, T, H, hs].
    const at = (r: number, which: number, head: number, d: number): number => qkv[r * 3 * C + which * C + head * hs + d];
    const merged = new Float64Array(rows * C);
    for (let bi = 0; bi < B; bi++)
      for (let head = 0; head < H; head++)
        for (let t = 0; t < T; t++) {
          const q = bi * T + t;
          const scores = Array.from({ length: t + 1 }, (_, u) => {
            let s = 0;
            for (let d = 0; d < hs; d++) s += at(q, 0, head, d) * at(bi * T + u, 1, head, d);
            return s / Math.sqrt(hs);
          });
          const top = Math.max(...scores);
          const e = scores.map((s) => Math.exp(s - top));
          const z = e.reduce((a, v) => a + v, 0);
          for (let d = 0; d < hs; d++) merged[q * C + head * hs + d] = e.reduce((a, p, u) => a + (p / z) * at(bi * T + u, 2, head, d), 0);
        }
    const attn = conv1d(merged, rows, `h.${l}.attn.c_proj`, C, C);
    x = x.map((v, i) => v + attn[i]);
    const fc = conv1d(layerNorm(x, `h.${l}.ln_2`), rows, `h.${l}.mlp.c_fc`, C, 4 * C).map(geluNew);
    const mlp = conv1d(fc, rows, `h.${l}.mlp.c_proj`, 4 * C, C);
    x = x.map((v, i) => v + mlp[i]);
  }
  const final = layerNorm(x, 'ln_f');
  // lm_head is tied: its weight is wte.weight, logits = h · wteᵀ.
  const logits = new Float64Array(rows * c.vocabSize);
  for (let r = 0; r < rows; r++)
    for (let v = 0; v < c.vocabSize; v++) {
      let s = 0;
      for (let i = 0; i < C; i++) s += final[r * C + i] * wte[v * C + i];
      logits[r * c.vocabSize + v] = s;
    }
  return logits;
}

describe('exportHuggingFace', () => {
  const params = randomParams(11);
  const files = exportHuggingFace(config, layout, params, { tokenizer: { kind: 'gpt2' }, preset: 'test', step: 7 });

  it('writes every tensor of the gpt2 checkpoint under its name, shape and bytes', () => {
    const parsed = parseSafetensors(files['model.safetensors']);
    expect(parsed.headerLength % 8).toBe(0);
    expect(parsed.metadata).toEqual({ format: 'pt', producer: 'tessera', step: '7' });
    const shapes = gpt2Shapes(config);
    expect([...parsed.tensors.keys()].sort()).toEqual([...shapes.keys()].sort());
    for (const [name, shape] of shapes) expect(parsed.tensors.get(name)?.shape, name).toEqual(shape);
    for (const [ours, theirs] of hfTensorNames(config)) {
      expect(Buffer.from(parsed.tensors.get(theirs)!.data.buffer).equals(Buffer.from(viewOf(params, layout, ours).slice().buffer)), theirs).toBe(true);
    }
  });

  it("gives the reference's logits when run the way transformers runs GPT-2", () => {
    const parsed = parseSafetensors(files['model.safetensors']);
    const rand = seededRandom(3);
    const [B, T] = [2, config.contextLength];
    const tokens = Int32Array.from({ length: B * T }, () => Math.floor(rand() * config.vocabSize));
    const hf = hfForward(config, (name) => parsed.tensors.get(name)!.data, tokens, T);
    const reference = referenceForward(config, layout, params, { tokens, targets: tokens, batchSize: B, seqLen: T }).logits;
    let error = 0;
    let scale = 1;
    for (let i = 0; i < hf.length; i++) {
      error = Math.max(error, Math.abs(hf[i] - reference[i]));
      scale = Math.max(scale, Math.abs(hf[i]));
    }
    expect(scale).toBeGreaterThan(1); // random weights: logits far from zero, so the check has teeth
    expect(error).toBeLessThanOrEqual(1e-5 * scale); // both float64 inside; the reference rounds logits to float32
  });

  it('writes the config transformers reads for this architecture', () => {
    const hf = JSON.parse(files['config.json']) as Record<string, unknown>;
    expect(hf).toMatchObject({
      architectures: ['GPT2LMHeadModel'],
      model_type: 'gpt2',
      vocab_size: 13,
      n_positions: 16,
      n_embd: 16,
      n_layer: 2,
      n_head: 2,
      activation_function: 'gelu_new',
      layer_norm_epsilon: 1e-5,
      tie_word_embeddings: true,
      bos_token_id: 50256,
      eos_token_id: 50256,
    });
    expect(files['README.md']).toContain("AutoTokenizer.from_pretrained('gpt2')");
    const char = exportHuggingFace(config, layout, params, { tokenizer: { kind: 'char', chars: 'ab' } });
    expect(JSON.parse(char['config.json'])).not.toHaveProperty('eos_token_id');
    expect(char['README.md']).toContain('"ab"');
  });

  it('refuses parameters that do not fit the layout or are not finite, and shapes that do not fit the data', () => {
    expect(() => exportHuggingFace(config, layout, new Float32Array(3))).toThrow(/layout needs/);
    const bad = params.slice();
    bad[5] = Infinity;
    expect(() => exportHuggingFace(config, layout, bad)).toThrow(/parameter 5 is Infinity/);
    expect(() => encodeSafetensors([{ name: 'x', shape: [2, 2], data: new Float32Array(3) }], {})).toThrow(/needs 4 floats/);
  });
});
