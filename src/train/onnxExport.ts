// Exports the GPT's forward pass as an ONNX model (opset 17) with the current weights, so a
// user can take the model away and run it with onnxruntime or any other ONNX runtime.
import { headDim, type GptConfig } from '../model/config';
import { tensor, type ParamLayout, type TensorView } from '../model/layout';
import { ProtoWriter } from './protobuf';
import type { TokenizerSpec } from './tokenizer';

/** What the exported file promises; tests hold the engine to it. */
export const ONNX_OPSET = 17;
export const ONNX_IR_VERSION = 8;
export const ONNX_INPUT = 'tokens';
export const ONNX_OUTPUT = 'logits';
export const ONNX_TARGETS = 'targets';
export const ONNX_LOSSES = 'losses';

/** Stored as metadata_props, so the file explains itself: a user needs the alphabet to decode. */
export interface OnnxExportOptions {
  tokenizer?: TokenizerSpec;
  preset?: string;
  step?: number;
  producerVersion?: string;
}

// TensorProto.DataType values.
const FLOAT = 1;
const INT64 = 7;

// AttributeProto.AttributeType values.
const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_INTS = 7;

type Attr = { name: string; f: number } | { name: string; i: number } | { name: string; ints: number[] };

function attribute(a: Attr): ProtoWriter {
  const w = new ProtoWriter().bytes(1, a.name);
  if ('f' in a) return w.float(2, a.f).varint(20, ATTR_FLOAT);
  if ('i' in a) return w.varint(3, a.i).varint(20, ATTR_INT);
  return w.packedVarints(8, a.ints).varint(20, ATTR_INTS);
}

function floatTensor(name: string, dims: number[], data: Float32Array): ProtoWriter {
  const copy = new Float32Array(data); // detach from the flat buffer so the bytes are exactly these
  return new ProtoWriter().packedVarints(1, dims).varint(2, FLOAT).bytes(8, name).bytes(9, new Uint8Array(copy.buffer));
}

function int64Tensor(name: string, dims: number[], data: number[]): ProtoWriter {
  const raw = new BigInt64Array(data.map((v) => BigInt(v)));
  return new ProtoWriter().packedVarints(1, dims).varint(2, INT64).bytes(8, name).bytes(9, new Uint8Array(raw.buffer));
}

/** ValueInfoProto for a tensor whose dims are numbers (fixed) or strings (named, dynamic). */
function valueInfo(name: string, elemType: number, dims: (number | string)[]): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of dims) shape.bytes(1, typeof d === 'number' ? new ProtoWriter().varint(1, d) : new ProtoWriter().bytes(2, d));
  const tensorType = new ProtoWriter().varint(1, elemType).bytes(2, shape);
  return new ProtoWriter().bytes(1, name).bytes(2, new ProtoWriter().bytes(1, tensorType));
}

/**
 * Accumulates nodes, initializers and weight inputs; each `op` returns its output's name. With
 * `params` the weights are initializers (a model to take away); without, each weight is a graph
 * input, so one session serves every θ a validator scores.
 */
class GraphBuilder {
  readonly nodes: ProtoWriter[] = [];
  readonly initializers: ProtoWriter[] = [];
  readonly weightInputs: ProtoWriter[] = [];
  private count = 0;

  constructor(private readonly params?: Float32Array) {}

  /** A parameter of the layout under its own name, as an initializer or a graph input. */
  param(t: TensorView): string {
    if (this.params) return this.floats(t.name, [...t.shape], this.params.subarray(t.offset, t.offset + t.size));
    this.weightInputs.push(valueInfo(t.name, FLOAT, [...t.shape]));
    return t.name;
  }

  op(type: string, inputs: string[], attrs: Attr[] = [], outputName?: string): string {
    const out = outputName ?? `${type.toLowerCase()}_${this.count}`;
    const node = new ProtoWriter();
    for (const i of inputs) node.bytes(1, i);
    node.bytes(2, out).bytes(3, `n${this.count++}`).bytes(4, type);
    for (const a of attrs) node.bytes(5, attribute(a));
    this.nodes.push(node);
    return out;
  }

  floats(name: string, dims: number[], data: Float32Array): string {
    this.initializers.push(floatTensor(name, dims, data));
    return name;
  }

  scalar(name: string, value: number): string {
    return this.floats(name, [], Float32Array.of(value));
  }

  ints(name: string, dims: number[], data: number[]): string {
    this.initializers.push(int64Tensor(name, dims, data));
    return name;
  }
}

/** A layer's weight and bias, named after the layout (`prefix.w`, `prefix.b`). */
function weightAndBias(g: GraphBuilder, layout: ParamLayout, prefix: string): [string, string] {
  return [g.param(tensor(layout, `${prefix}.w`)), g.param(tensor(layout, `${prefix}.b`))];
}

/** y = x·W + b with the layout's [in, out] weights. */
function linear(g: GraphBuilder, x: string, layout: ParamLayout, prefix: string): string {
  const [w, b] = weightAndBias(g, layout, prefix);
  return g.op('Add', [g.op('MatMul', [x, w]), b]);
}

function layerNorm(g: GraphBuilder, x: string, layout: ParamLayout, prefix: string): string {
  const [w, b] = weightAndBias(g, layout, prefix);
  // Axis 2 of [batch, seq, C]: ONNX attributes could say -1, but positive keeps varints simple.
  return g.op(
    'LayerNormalization',
    [x, w, b],
    [
      { name: 'axis', i: 2 },
      { name: 'epsilon', f: 1e-5 },
    ],
  );
}

/** GELU in the tanh form the engine uses, from primitive ops (Gelu itself needs opset 20). */
function gelu(g: GraphBuilder, x: string): string {
  const cube = g.op('Mul', [g.op('Mul', [x, x]), x]);
  const inner = g.op('Add', [x, g.op('Mul', [cube, 'gelu.cube'])]);
  const t = g.op('Tanh', [g.op('Mul', [inner, 'gelu.scale'])]);
  return g.op('Mul', [g.op('Mul', [x, 'gelu.half']), g.op('Add', [t, 'gelu.one'])]);
}

/** Causal self-attention of one block: qkv [b, t, 3C] → [b, t, C], before the output projection. */
function attention(g: GraphBuilder, qkv: string): string {
  const split = g.op('Transpose', [g.op('Reshape', [qkv, 'shape.qkv'])], [{ name: 'perm', ints: [2, 0, 3, 1, 4] }]); // [3, b, H, t, hs]
  const [q, k, v] = ['idx.0', 'idx.1', 'idx.2'].map((i) => g.op('Gather', [split, i], [{ name: 'axis', i: 0 }]));
  const kT = g.op('Transpose', [k], [{ name: 'perm', ints: [0, 1, 3, 2] }]);
  const scores = g.op('Add', [g.op('Mul', [g.op('MatMul', [q, kT]), 'att.scale']), 'mask.t']);
  const probs = g.op('Softmax', [scores], [{ name: 'axis', i: 3 }]);
  const heads = g.op('Transpose', [g.op('MatMul', [probs, v])], [{ name: 'perm', ints: [0, 2, 1, 3] }]);
  return g.op('Reshape', [heads, 'shape.merge']);
}

/** Constants shared by every block: shapes, indices, the causal mask sliced to the input's length. */
function addConstants(g: GraphBuilder, config: GptConfig): void {
  const { embedDim: C, heads: H, contextLength: N } = config;
  const hs = headDim(config);
  g.ints('shape.qkv', [5], [0, 0, 3, H, hs]); // 0 = keep that input dim (batch, seq)
  g.ints('shape.merge', [3], [0, 0, C]);
  for (const i of [0, 1, 2]) g.ints(`idx.${i}`, [], [i]);
  g.ints('zero.1', [1], [0]);
  g.ints('zeros.2', [2], [0, 0]);
  g.ints('axes.01', [2], [0, 1]);
  g.scalar('att.scale', 1 / Math.sqrt(hs));
  g.scalar('gelu.cube', 0.044715);
  g.scalar('gelu.scale', Math.sqrt(2 / Math.PI));
  g.scalar('gelu.half', 0.5);
  g.scalar('gelu.one', 1);
  // −1e9 rather than −∞: exp underflows to exactly 0 either way, and no runtime sees inf − inf.
  const mask = new Float32Array(N * N);
  for (let r = 0; r < N; r++) for (let c = r + 1; c < N; c++) mask[r * N + c] = -1e9;
  g.floats('mask', [N, N], mask);
  const seq = g.op(
    'Shape',
    [ONNX_INPUT],
    [
      { name: 'start', i: 1 },
      { name: 'end', i: 2 },
    ],
    'seq.len',
  );
  g.op('Slice', ['mask', 'zeros.2', g.op('Concat', [seq, seq], [{ name: 'axis', i: 0 }]), 'axes.01'], [], 'mask.t');
}

/**
 * Protobuf caps a message at 2 GiB. Every preset fits one file (gpt2-small's weights are
 * 498 MB), so the exporter writes no external data and refuses a model that would not fit.
 */
export const PROTOBUF_LIMIT_BYTES = 2 ** 31 - 1;

/** The initializers' float bytes: every parameter once, plus the causal mask. */
export function onnxWeightBytes(config: GptConfig, layout: ParamLayout): number {
  return (layout.parameterCount + config.contextLength ** 2) * 4;
}

/** The forward pass into `g`: tokens → the name of the logits [batch, seq, vocab]. */
function forwardGraph(g: GraphBuilder, config: GptConfig, layout: ParamLayout): string {
  addConstants(g, config);
  const wte = g.param(tensor(layout, 'wte'));
  const wpe = g.param(tensor(layout, 'wpe'));
  const positions = g.op('Slice', [wpe, 'zero.1', 'seq.len', 'zero.1']);
  let x = g.op('Add', [g.op('Gather', [wte, ONNX_INPUT], [{ name: 'axis', i: 0 }]), positions]);
  for (let l = 0; l < config.layers; l++) {
    const qkv = linear(g, layerNorm(g, x, layout, `h${l}.ln1`), layout, `h${l}.attn.qkv`);
    x = g.op('Add', [x, linear(g, attention(g, qkv), layout, `h${l}.attn.proj`)]);
    const fc = linear(g, layerNorm(g, x, layout, `h${l}.ln2`), layout, `h${l}.mlp.fc`);
    x = g.op('Add', [x, linear(g, gelu(g, fc), layout, `h${l}.mlp.proj`)]);
  }
  const lnf = layerNorm(g, x, layout, 'lnf');
  // The head is tied to the embedding: logits = lnf · wteᵀ (runtimes fold the transpose once).
  return g.op('MatMul', [lnf, g.op('Transpose', [wte], [{ name: 'perm', ints: [1, 0] }])]);
}

/** The ModelProto around a finished graph: inputs, outputs, opset and metadata. */
function modelBytes(g: GraphBuilder, inputs: ProtoWriter[], outputs: ProtoWriter[], metadata: Record<string, string>, producerVersion = '0.1.0'): Uint8Array {
  const graph = new ProtoWriter();
  for (const n of g.nodes) graph.bytes(1, n);
  graph.bytes(2, 'tessera-gpt');
  for (const t of g.initializers) graph.bytes(5, t);
  for (const i of [...inputs, ...g.weightInputs]) graph.bytes(11, i);
  for (const o of outputs) graph.bytes(12, o);
  const model = new ProtoWriter()
    .varint(1, ONNX_IR_VERSION)
    .bytes(2, 'tessera')
    .bytes(3, producerVersion)
    .bytes(7, graph)
    .bytes(8, new ProtoWriter().bytes(1, '').varint(2, ONNX_OPSET));
  for (const [key, value] of Object.entries(metadata)) model.bytes(14, new ProtoWriter().bytes(1, key).bytes(2, value));
  return model.finish();
}

/**
 * The model as ONNX bytes: input `tokens` int64 [batch, seq] (seq ≤ contextLength), output
 * `logits` float32 [batch, seq, vocab]. `params` is the flat buffer in `layout`.
 */
export function exportOnnx(config: GptConfig, layout: ParamLayout, params: Float32Array, options: OnnxExportOptions = {}): Uint8Array {
  const bytes = onnxWeightBytes(config, layout);
  if (bytes >= PROTOBUF_LIMIT_BYTES) {
    throw new RangeError(
      `the model's weights are ${(bytes / 2 ** 30).toFixed(2)} GiB, over protobuf's 2 GiB limit for one ONNX file; export it as Hugging Face safetensors instead`,
    );
  }
  if (params.length !== layout.totalFloats) throw new RangeError(`params has ${params.length} floats, layout needs ${layout.totalFloats}`);
  for (let i = 0; i < params.length; i++) {
    if (!Number.isFinite(params[i])) throw new RangeError(`parameter ${i} is ${params[i]}; a model with non-finite weights cannot be exported`);
  }
  const g = new GraphBuilder(params);
  const logits = forwardGraph(g, config, layout);
  g.op('Identity', [logits], [], ONNX_OUTPUT);
  const metadata: Record<string, string> = { config: JSON.stringify(config) };
  if (options.tokenizer) metadata.tokenizer = JSON.stringify(options.tokenizer);
  if (options.preset !== undefined) metadata.preset = options.preset;
  if (options.step !== undefined) metadata.step = String(options.step);
  return modelBytes(
    g,
    [valueInfo(ONNX_INPUT, INT64, ['batch', 'seq'])],
    [valueInfo(ONNX_OUTPUT, FLOAT, ['batch', 'seq', config.vocabSize])],
    metadata,
    options.producerVersion,
  );
}

/**
 * The validator's scoring graph: inputs `tokens` and `targets` int64 [batch, seq] and every
 * parameter under its layout name, output `losses` float32 [batch] (each sequence's mean
 * cross-entropy). No weights inside, so one session scores every θ; the loss is in the graph
 * so batch × seq × vocab logits never cross into JavaScript.
 */
export function exportOnnxScorer(config: GptConfig, layout: ParamLayout): Uint8Array {
  const g = new GraphBuilder();
  const logits = forwardGraph(g, config, layout);
  g.ints('axes.2', [1], [2]);
  const logp = g.op('LogSoftmax', [logits], [{ name: 'axis', i: 2 }]);
  const picked = g.op('GatherElements', [logp, g.op('Unsqueeze', [ONNX_TARGETS, 'axes.2'])], [{ name: 'axis', i: 2 }]); // [b, t, 1]
  const mean = g.op(
    'ReduceMean',
    [picked],
    [
      { name: 'axes', ints: [1, 2] },
      { name: 'keepdims', i: 0 },
    ],
  );
  g.op('Neg', [mean], [], ONNX_LOSSES);
  return modelBytes(
    g,
    [valueInfo(ONNX_INPUT, INT64, ['batch', 'seq']), valueInfo(ONNX_TARGETS, INT64, ['batch', 'seq'])],
    [valueInfo(ONNX_LOSSES, FLOAT, ['batch'])],
    { config: JSON.stringify(config), purpose: 'per-sequence loss for scoring' },
  );
}
