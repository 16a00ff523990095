// GPT model shapes: the presets the product ships, from the character demo to GPT-2 small (the
// vocabulary comes from the tokenizer), and the validation that rejects shapes the kernels cannot run.

export interface GptConfig {
  vocabSize: number;
  contextLength: number;
  embedDim: number;
  layers: number;
  heads: number;
}

/** How a run's text becomes ids (src/train/tokenizer.ts); the vocabulary fixes the model's width of wte. */
export type TokenizerKind = 'char' | 'byte' | 'gpt2';

export const TOKENIZER_KINDS: readonly TokenizerKind[] = ['char', 'byte', 'gpt2'];

export type PresetName = 'tiny' | 'small' | 'shakespeare' | 'middle' | 'gpt2-small';

/** A model's shape without its vocabulary (the tokenizer decides that). */
export type ModelShape = Omit<GptConfig, 'vocabSize'>;

export const PRESETS: Record<PresetName, ModelShape> = {
  tiny: { contextLength: 64, embedDim: 64, layers: 2, heads: 4 },
  small: { contextLength: 128, embedDim: 128, layers: 4, heads: 4 },
  // nanoGPT's shakespeare_char.
  shakespeare: { contextLength: 256, embedDim: 384, layers: 6, heads: 6 },
  // 44.9M parameters with GPT-2's vocabulary (25.7M of them the token embedding): sized for a laptop's integrated GPU.
  middle: { contextLength: 512, embedDim: 512, layers: 6, heads: 8 },
  // GPT-2 small: 124M parameters with GPT-2's vocabulary (llm.c's reference run).
  'gpt2-small': { contextLength: 1024, embedDim: 768, layers: 12, heads: 12 },
};

export function gptConfig(preset: PresetName, vocabSize: number): GptConfig {
  return checkConfig({ ...PRESETS[preset], vocabSize });
}

export function checkConfig(config: GptConfig): GptConfig {
  for (const [key, value] of Object.entries(config)) {
    if (!Number.isInteger(value) || value <= 0) throw new RangeError(`GPT config ${key} must be a positive integer, got ${value}`);
  }
  if (config.embedDim % config.heads !== 0) throw new RangeError(`embedDim ${config.embedDim} is not divisible by heads ${config.heads}`);
  if (config.embedDim % 4 !== 0) throw new RangeError(`embedDim ${config.embedDim} must be a multiple of 4`);
  return config;
}

export function headDim(config: GptConfig): number {
  return config.embedDim / config.heads;
}
