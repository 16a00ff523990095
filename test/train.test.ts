// Tokenizers and the learning-rate schedule: nanoGPT's character vocabulary, byte-level
// round trips of any UTF-8, and warmup + cosine on the global step.
import { describe, expect, it } from 'vitest';
import { learningRate } from '../src/model/schedule';
import { batchAt } from '../src/train/innerLoop';
import { ByteTokenizer, CharTokenizer, charCorpus, tokenizerFromSpec } from '../src/train/tokenizer';

describe('tokenizers', () => {
  it('builds the sorted character vocabulary like sorted(set(text))', () => {
    const t = CharTokenizer.fromText('hello, world\n');
    expect(t.vocabSize).toBe(10);
    expect(t.decode([0, 1, 2])).toBe('\n ,');
    expect(t.decode(t.encode('low world'))).toBe('low world');
    expect(() => t.encode('hi!')).toThrow(/"i" is not in the vocabulary/);
    expect(tokenizerFromSpec(t.toJSON()).encode('old')).toEqual(t.encode('old'));
  });

  it('round-trips any UTF-8 through bytes', () => {
    const t = new ByteTokenizer();
    const text = 'Zürich — 東京 🚀';
    expect(t.encode(text).length).toBe(new TextEncoder().encode(text).length);
    expect(t.decode(t.encode(text))).toBe(text);
    expect(t.decode([0xe6, 0x9d])).toBe('\uFFFD'); // a sample cut mid-character does not throw
  });

  it('splits 90/10 in order', () => {
    const text = 'abcdefghij'.repeat(10);
    const c = charCorpus(text);
    expect(c.train.length).toBe(90);
    expect(c.val.length).toBe(10);
    expect(c.tokenizer.decode(c.val)).toBe('abcdefghij');
  });
});

describe('batches', () => {
  it('pairs each token with the next one', () => {
    const ids = Uint16Array.from([0, 1, 2, 3, 4, 5, 6, 7]);
    const b = batchAt(ids, [0, 3], 3);
    expect(Array.from(b.tokens)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(Array.from(b.targets)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(() => batchAt(ids, [5], 3)).toThrow(/leaves no room/);
  });
});

describe('learning-rate schedule', () => {
  const s = { maxLr: 1e-3, minLr: 1e-4, warmupSteps: 10, decaySteps: 110 };
  // Exact schedule values (to 1e-12 relative): warmup maxLr·(step+1)/warmupSteps, then
  // minLr + ½(maxLr − minLr)(1 + cos(π·progress)) over steps warmupSteps..decaySteps.
  const expectLr = (step: number, want: number): void => {
    const got = learningRate(s, step);
    expect(Math.abs(got - want), `step ${step}: ${got}, want ${want}`).toBeLessThanOrEqual(1e-12 * want);
  };
  it('warms up linearly, decays by a cosine, then holds the floor', () => {
    expectLr(0, 1e-4);
    expectLr(4, 5e-4);
    expectLr(9, 1e-3);
    expectLr(10, 1e-3);
    expectLr(35, 1e-4 + 4.5e-4 * (1 + Math.SQRT1_2)); // a quarter of the way: cos(π/4)
    expectLr(60, 5.5e-4);
    expectLr(85, 1e-4 + 4.5e-4 * (1 - Math.SQRT1_2));
    expectLr(109, 1e-4 + 4.5e-4 * (1 + Math.cos(Math.PI * 0.99)));
    expect(learningRate(s, 110)).toBe(1e-4);
    expect(learningRate(s, 5000)).toBe(1e-4);
    for (let i = 10; i < 110; i++) expect(learningRate(s, i + 1)).toBeLessThanOrEqual(learningRate(s, i));
  });
});
