// The built-in corpus as every participant splits it, and the `tiny` model for its vocabulary:
// what the swarm tests train on.
import { readFileSync } from 'node:fs';
import { gptConfig, type GptConfig } from '../../src/model/config';
import { charCorpus, type EncodedCorpus } from '../../src/train/tokenizer';

export function tinyCorpus(): { corpus: EncodedCorpus; config: GptConfig } {
  const text = readFileSync('public/data/tinyshakespeare.txt', 'utf8');
  const corpus = charCorpus(text);
  return { corpus, config: gptConfig('tiny', corpus.tokenizer.vocabSize) };
}
