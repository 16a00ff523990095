// GPT model shapes: the three presets the product ships (vocabulary size comes from the
// tokenizer), and the validation that rejects shapes the kernels cannot run.

export interface GptConfig {
  vocabSize: number;
  contextLength: number;
  embedDim: number;
  layers: number;
  heads: number;
}

export type PresetName = 'tiny' | 'small' | 'shakespeare';

export const PRESETS: Record<PresetName, Omit<GptConfig, 'vocabSize'>> = {
  tiny: { contextLength: 64, embedDim: 64, layers: 2, heads: 4 },
  small: { contextLength: 128, embedDim: 128, layers: 4, heads: 4 },
  // nanoGPT's shakespeare_char.
  shakespeare: { contextLength: 256, embedDim: 384, layers: 6, heads: 6 },
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
