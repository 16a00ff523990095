// GPT-2 token ids computed by others, shared by the Node test and the Chromium spec: every
// runtime must give these. Sources: Hugging Face's GPT-2 tokenizer docs (the "Hello, my dog
// is cute" example), GPT-2's vocabulary (<|endoftext|> = 50256), nanoGPT's shakespeare prepare.py.
export const GPT2_VECTORS: { text: string; ids: number[] }[] = [
  { text: 'Hello, my dog is cute', ids: [15496, 11, 616, 3290, 318, 13779] },
  { text: 'Hello world', ids: [15496, 995] },
  { text: '<|endoftext|>', ids: [50256] },
];

/** nanoGPT's data/shakespeare/prepare.py: the first 90 % of the characters, then the rest, each encoded on its own. */
export const SHAKESPEARE_GPT2 = { trainTokens: 301_966, valTokens: 36_059 };

/** Text a byte-level BPE must give back unchanged: accents, CJK, an emoji, runs of spaces and newlines. */
export const ROUND_TRIP_TEXT = 'naïve café 日本語 🙂\n\n   indented\ttab <|endoftext|> next document';
