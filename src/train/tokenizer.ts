// Tokenizers: characters exactly as nanoGPT's shakespeare_char (the sorted set of the corpus's
// characters), UTF-8 bytes, and GPT-2's BPE (bpe.ts, loaded on demand). All round-trip and serialize.
import type { TokenizerKind } from '../model/config';
import type { Tokenizer, TokenizerSpec } from './tokenizerSpec';

export type { Tokenizer, TokenizerSpec } from './tokenizerSpec';

export class CharTokenizer implements Tokenizer {
  readonly kind = 'char';
  readonly vocabSize: number;
  private readonly chars: string[];
  private readonly ids: Map<string, number>;

  /** `chars`: the vocabulary in id order. Use `CharTokenizer.fromText` to build nanoGPT's. */
  constructor(chars: readonly string[]) {
    if (chars.length === 0 || chars.length > 65535) throw new RangeError(`a character vocabulary needs 1..65535 characters, got ${chars.length}`);
    if (new Set(chars).size !== chars.length) throw new RangeError('character vocabulary has duplicates');
    this.chars = [...chars];
    this.ids = new Map(chars.map((c, i) => [c, i]));
    this.vocabSize = chars.length;
  }

  /** Sorted unique code points, as Python's sorted(set(text)) orders them. */
  static fromText(text: string): CharTokenizer {
    return new CharTokenizer([...new Set(text)].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!));
  }

  encode(text: string): Uint16Array {
    const out = new Uint16Array(text.length);
    let n = 0;
    for (const c of text) {
      const id = this.ids.get(c);
      if (id === undefined) throw new RangeError(`character ${JSON.stringify(c)} is not in the vocabulary`);
      out[n++] = id;
    }
    return out.subarray(0, n);
  }

  decode(ids: ArrayLike<number>): string {
    let s = '';
    for (let i = 0; i < ids.length; i++) s += this.chars[ids[i]] ?? '\uFFFD';
    return s;
  }

  toJSON(): TokenizerSpec {
    return { kind: 'char', chars: this.chars.join('') };
  }
}

export class ByteTokenizer implements Tokenizer {
  readonly kind = 'byte';
  readonly vocabSize = 256;
  private readonly encoder = new TextEncoder();
  // Invalid sequences (a sample cut mid-character) decode to U+FFFD instead of throwing.
  private readonly decoder = new TextDecoder('utf-8', { fatal: false });

  encode(text: string): Uint16Array {
    return Uint16Array.from(this.encoder.encode(text));
  }

  decode(ids: ArrayLike<number>): string {
    return this.decoder.decode(Uint8Array.from(ids as ArrayLike<number>, (x) => x & 0xff));
  }

  toJSON(): TokenizerSpec {
    return { kind: 'byte' };
  }
}

/** Char and byte tokenizers from their spec; GPT-2's needs its vocabulary loaded (loadTokenizer). */
export function tokenizerFromSpec(spec: TokenizerSpec): Tokenizer {
  if (spec.kind === 'gpt2') throw new Error('the GPT-2 tokenizer loads its vocabulary first: use loadTokenizer');
  return spec.kind === 'char' ? new CharTokenizer([...spec.chars]) : new ByteTokenizer();
}

/** Any tokenizer from its spec; GPT-2's 50,257-token vocabulary is imported on first use (it ships with the app). */
export async function loadTokenizer(spec: TokenizerSpec): Promise<Tokenizer> {
  if (spec.kind !== 'gpt2') return tokenizerFromSpec(spec);
  const { gpt2Tokenizer } = await import('./bpe');
  return gpt2Tokenizer();
}

export interface EncodedCorpus {
  tokenizer: Tokenizer;
  train: Uint16Array;
  val: Uint16Array;
}

/** nanoGPT's split: the first 90% of the ids train, the last 10% validate. */
export function splitCorpus(tokenizer: Tokenizer, text: string, trainFraction = 0.9): EncodedCorpus {
  const ids = tokenizer.encode(text);
  const cut = Math.floor(ids.length * trainFraction);
  return { tokenizer, train: ids.subarray(0, cut), val: ids.subarray(cut) };
}

/** A character-level corpus: the tokenizer built from the text, then the 90/10 split every participant makes. */
export function charCorpus(text: string): EncodedCorpus {
  return splitCorpus(CharTokenizer.fromText(text), text);
}

/** A corpus under the run's tokenizer (char by default), split as every participant splits it. */
export async function encodeCorpus(kind: TokenizerKind, text: string): Promise<EncodedCorpus> {
  if (kind === 'char') return charCorpus(text);
  return splitCorpus(await loadTokenizer(kind === 'byte' ? { kind: 'byte' } : { kind: 'gpt2' }), text);
}

/** A prompt's ids: characters the tokenizer cannot encode are dropped rather than fail; never empty. */
export function encodePrompt(tokenizer: Tokenizer, prompt: string): Uint16Array {
  const encodable = (c: string): boolean => {
    try {
      tokenizer.encode(c);
      return true;
    } catch {
      return false;
    }
  };
  return tokenizer.encode([...prompt].filter(encodable).join('') || '\n');
}
