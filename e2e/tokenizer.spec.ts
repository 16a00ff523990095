// Chromium tokenizes exactly as Node does: the GPT-2 ids others computed, nanoGPT's Shakespeare
// counts, the round trip, and the first 2,000 characters of the corpus id for id.
import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { gpt2Tokenizer } from '../src/train/bpe';
import { GPT2_VECTORS, ROUND_TRIP_TEXT, SHAKESPEARE_GPT2 } from '../test/support/tokenVectors';

interface TabTokens {
  vectors: number[][];
  roundTrip: string;
  counts: number[];
  head: number[];
}

test('GPT-2 BPE in the tab gives the ids Node gives', async ({ page }) => {
  await page.goto('/e2e/harness/tokens.html');
  const got = await page.evaluate(() => (window as unknown as { __tokens: Promise<TabTokens> }).__tokens);
  expect(got.vectors).toEqual(GPT2_VECTORS.map((v) => v.ids));
  expect(got.roundTrip).toBe(ROUND_TRIP_TEXT);
  expect(got.counts).toEqual([SHAKESPEARE_GPT2.trainTokens, SHAKESPEARE_GPT2.valTokens]);
  const text = readFileSync('public/data/tinyshakespeare.txt', 'utf8');
  expect(got.head).toEqual(Array.from(gpt2Tokenizer().encode(text.slice(0, 2000))));
});
