// GPT-2's byte-level BPE (vocabulary 50,257, <|endoftext|> = 50256) from js-tiktoken's shipped
// ranks: nothing downloads at run time, and the same ids come out in Node and in a tab.
import { Tiktoken } from 'js-tiktoken/lite';
import gpt2Ranks from 'js-tiktoken/ranks/gpt2';
import type { Tokenizer, TokenizerSpec } from './tokenizerSpec';

export const GPT2_VOCAB = 50_257;
export const GPT2_END_OF_TEXT = 50_256;

export class Gpt2Tokenizer implements Tokenizer {
  readonly kind = 'gpt2';
  readonly vocabSize = GPT2_VOCAB;
  private readonly bpe = new Tiktoken(gpt2Ranks);

  /** `<|endoftext|>` in the text is a document separator and encodes to its one id. */
  encode(text: string): Uint16Array {
    return Uint16Array.from(this.bpe.encode(text, 'all'));
  }

  decode(ids: ArrayLike<number>): string {
    const list = Array.from(ids, (id) => {
      if (!Number.isInteger(id) || id < 0 || id >= GPT2_VOCAB) throw new RangeError(`token ${id} is not a GPT-2 id in 0..${GPT2_VOCAB - 1}`);
      return id;
    });
    return this.bpe.decode(list);
  }

  toJSON(): TokenizerSpec {
    return { kind: 'gpt2' };
  }
}

let shared: Gpt2Tokenizer | undefined;

/** One instance per process or tab: building the rank table costs ~0.1 s. */
export function gpt2Tokenizer(): Gpt2Tokenizer {
  return (shared ??= new Gpt2Tokenizer());
}
