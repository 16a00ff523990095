// What every tokenizer offers (char, byte, GPT-2's BPE) and how one is written down in
// checkpoints and exported models; apart from tokenizer.ts so the BPE module can load on demand.
import type { TokenizerKind } from '../model/config';

export interface Tokenizer {
  readonly kind: TokenizerKind;
  readonly vocabSize: number;
  encode(text: string): Uint16Array;
  decode(ids: ArrayLike<number>): string;
  /** Enough to rebuild the tokenizer: stored with checkpoints and exported models. */
  toJSON(): TokenizerSpec;
}

export type TokenizerSpec = { kind: 'char'; chars: string } | { kind: 'byte' } | { kind: 'gpt2' };
