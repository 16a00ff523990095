// GPT-2's BPE as a run's tokenizer: ids equal to ones computed elsewhere, nanoGPT's Shakespeare
// token counts, exact round trips, and a corpus under it sized for the 50,257-token model.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GPT2_END_OF_TEXT, GPT2_VOCAB, gpt2Tokenizer } from '../../src/train/bpe';
import { encodeCorpus, loadTokenizer, tokenizerFromSpec } from '../../src/train/tokenizer';
import { GPT2_VECTORS, ROUND_TRIP_TEXT, SHAKESPEARE_GPT2 } from '../support/tokenVectors';

const shakespeare = readFileSync('public/data/tinyshakespeare.txt', 'utf8');

describe('GPT-2 BPE', () => {
  const bpe = gpt2Tokenizer();

  it('gives the ids others computed', () => {
    for (const v of GPT2_VECTORS) expect(Array.from(bpe.encode(v.text)), v.text).toEqual(v.ids);
    expect(bpe.vocabSize).toBe(GPT2_VOCAB);
    expect(Array.from(bpe.encode('<|endoftext|>'))).toEqual([GPT2_END_OF_TEXT]);
  });

  it("encodes Shakespeare into nanoGPT's token counts", () => {
    const cut = Math.floor(shakespeare.length * 0.9);
    expect(bpe.encode(shakespeare.slice(0, cut)).length).toBe(SHAKESPEARE_GPT2.trainTokens);
    expect(bpe.encode(shakespeare.slice(cut)).length).toBe(SHAKESPEARE_GPT2.valTokens);
  });

  it('round-trips any text exactly, and refuses ids outside the vocabulary', () => {
    expect(bpe.decode(bpe.encode(ROUND_TRIP_TEXT))).toBe(ROUND_TRIP_TEXT);
    expect(bpe.decode(bpe.encode(shakespeare))).toBe(shakespeare);
    expect(() => bpe.decode([GPT2_VOCAB])).toThrow(/not a GPT-2 id/);
    expect(() => bpe.decode([1.5])).toThrow(/not a GPT-2 id/);
  });

  it('loads from its spec, and a run corpus under it splits 90/10 within the vocabulary', async () => {
    expect(await loadTokenizer({ kind: 'gpt2' })).toBe(bpe);
    expect(() => tokenizerFromSpec({ kind: 'gpt2' })).toThrow(/loadTokenizer/);
    const corpus = await encodeCorpus('gpt2', shakespeare);
    expect(corpus.tokenizer.vocabSize).toBe(GPT2_VOCAB);
    expect(corpus.train.length + corpus.val.length).toBe(SHAKESPEARE_GPT2.trainTokens + SHAKESPEARE_GPT2.valTokens);
    expect(corpus.train.length).toBe(Math.floor(0.9 * (corpus.train.length + corpus.val.length)));
    expect(corpus.val.reduce((a, b) => Math.max(a, b), 0)).toBeLessThan(GPT2_VOCAB);
    expect((await encodeCorpus('byte', 'ab')).train.length + (await encodeCorpus('byte', 'ab')).val.length).toBe(2);
  });
});
