// Exports the GPT as a Hugging Face GPT-2 checkpoint: model.safetensors under the official gpt2
// tensor names plus config.json, so `GPT2LMHeadModel.from_pretrained(dir)` loads it unchanged.
import { headDim, type GptConfig } from '../model/config';
import { tensor, type ParamLayout } from '../model/layout';
import type { TokenizerSpec } from './tokenizer';

/** GPT-2's end-of-text id, which transformers uses as bos and eos for the gpt2 tokenizer. */
const GPT2_EOT = 50256;

export interface HfExportOptions {
  tokenizer?: TokenizerSpec;
  preset?: string;
  step?: number;
}

/** The files of one exported checkpoint directory, by file name. */
export interface HfExport {
  'model.safetensors': Uint8Array;
  'config.json': string;
  'README.md': string;
}

/**
 * Our layout name → Hugging Face's, per tensor. Our matrices are already [in, out], which is
 * GPT-2's Conv1D layout, and our qkv columns are [3][heads][headDim], which is how GPT2Attention
 * splits c_attn, so every tensor is copied as it is; only the names change. The head is tied to
 * wte, so there is no lm_head.weight (transformers re-ties it on load).
 */
export function hfTensorNames(config: GptConfig): [ours: string, theirs: string][] {
  const names: [string, string][] = [
    ['wte', 'wte.weight'],
    ['wpe', 'wpe.weight'],
  ];
  const parts: [string, string][] = [
    ['ln1', 'ln_1'],
    ['attn.qkv', 'attn.c_attn'],
    ['attn.proj', 'attn.c_proj'],
    ['ln2', 'ln_2'],
    ['mlp.fc', 'mlp.c_fc'],
    ['mlp.proj', 'mlp.c_proj'],
  ];
  for (let l = 0; l < config.layers; l++) {
    for (const [ours, theirs] of parts) {
      names.push([`h${l}.${ours}.w`, `h.${l}.${theirs}.weight`], [`h${l}.${ours}.b`, `h.${l}.${theirs}.bias`]);
    }
  }
  names.push(['lnf.w', 'ln_f.weight'], ['lnf.b', 'ln_f.bias']);
  return names;
}

/**
 * safetensors: u64 little-endian header length, the JSON header (padded with spaces to 8 bytes
 * so every tensor starts aligned), then the raw little-endian float32 data in header order.
 */
export function encodeSafetensors(tensors: { name: string; shape: readonly number[]; data: Float32Array }[], metadata: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const t of tensors) {
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (size !== t.data.length) throw new RangeError(`${t.name}: shape [${t.shape.join(', ')}] needs ${size} floats, got ${t.data.length}`);
    header[t.name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + size * 4] };
    offset += size * 4;
  }
  const text = JSON.stringify(header);
  const unpadded = new TextEncoder().encode(text).length;
  const json = new TextEncoder().encode(text + ' '.repeat(Math.ceil(unpadded / 8) * 8 - unpadded));
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const t of tensors) {
    // Float32Array bytes are the platform's order; every platform WebGPU runs on is little-endian.
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    at += t.data.byteLength;
  }
  return out;
}

/** config.json for GPT2LMHeadModel with this architecture: learned positions, pre-LN, tanh GELU. */
export function hfConfig(config: GptConfig, options: HfExportOptions = {}): Record<string, unknown> {
  const gpt2Tokens = options.tokenizer?.kind === 'gpt2' ? { bos_token_id: GPT2_EOT, eos_token_id: GPT2_EOT } : {};
  return {
    architectures: ['GPT2LMHeadModel'],
    model_type: 'gpt2',
    vocab_size: config.vocabSize,
    n_positions: config.contextLength,
    n_ctx: config.contextLength,
    n_embd: config.embedDim,
    n_layer: config.layers,
    n_head: config.heads,
    n_inner: null,
    activation_function: 'gelu_new',
    layer_norm_epsilon: 1e-5,
    resid_pdrop: 0,
    embd_pdrop: 0,
    attn_pdrop: 0,
    scale_attn_weights: true,
    scale_attn_by_inverse_layer_idx: false,
    reorder_and_upcast_attn: false,
    tie_word_embeddings: true,
    use_cache: true,
    torch_dtype: 'float32',
    ...gpt2Tokens,
    tessera: { config, tokenizer: options.tokenizer ?? null, preset: options.preset ?? null, step: options.step ?? null },
  };
}

function modelCard(config: GptConfig, parameterCount: number, options: HfExportOptions): string {
  const tok = options.tokenizer;
  const tokenizerLine =
    tok?.kind === 'gpt2'
      ? "GPT-2's BPE: load it with `AutoTokenizer.from_pretrained('gpt2')`."
      : tok?.kind === 'byte'
        ? 'bytes: token id = UTF-8 byte value (vocabulary 256); no Hugging Face tokenizer file is needed.'
        : tok?.kind === 'char'
          ? `characters: token id = index in this alphabet (JSON string): ${JSON.stringify(tok.chars)}`
          : 'not recorded.';
  return [
    `# Tessera GPT${options.preset ? ` (${options.preset})` : ''}`,
    '',
    `Trained by a Tessera swarm${options.step !== undefined ? `, exported after step ${options.step}` : ''}.`,
    `${parameterCount.toLocaleString('en-US')} parameters: ${config.layers} layers, ${config.heads} heads of ${headDim(config)}, width ${config.embedDim}, context ${config.contextLength}, vocabulary ${config.vocabSize}.`,
    '',
    `Tokenizer: ${tokenizerLine}`,
    '',
    '```python',
    'from transformers import GPT2LMHeadModel',
    "model = GPT2LMHeadModel.from_pretrained('.')",
    '```',
    '',
  ].join('\n');
}

/** The checkpoint directory's files for `params` (the flat buffer in `layout`). */
export function exportHuggingFace(config: GptConfig, layout: ParamLayout, params: Float32Array, options: HfExportOptions = {}): HfExport {
  if (params.length !== layout.totalFloats) throw new RangeError(`params has ${params.length} floats, layout needs ${layout.totalFloats}`);
  for (let i = 0; i < params.length; i++) {
    if (!Number.isFinite(params[i])) throw new RangeError(`parameter ${i} is ${params[i]}; a model with non-finite weights cannot be exported`);
  }
  const tensors = hfTensorNames(config).map(([ours, name]) => {
    const t = tensor(layout, ours);
    return { name, shape: t.shape, data: params.subarray(t.offset, t.offset + t.size) };
  });
  // transformers refuses a safetensors file whose metadata has no format it knows; "pt" is PyTorch's.
  const metadata: Record<string, string> = { format: 'pt', producer: 'tessera' };
  if (options.step !== undefined) metadata.step = String(options.step);
  return {
    'model.safetensors': encodeSafetensors(tensors, metadata),
    'config.json': `${JSON.stringify(hfConfig(config, options), null, 2)}\n`,
    'README.md': modelCard(config, layout.parameterCount, options),
  };
}
