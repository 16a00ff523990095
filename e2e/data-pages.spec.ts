// Chromium derives exactly the data pages Node does (the same fixed vectors), so a validator
// in Node can check a peer that trained in a tab.
import { expect, test } from '@playwright/test';
import { PAGE_VECTORS } from '../test/support/pageVectors';

test('data pages in Chromium equal the fixed vectors Node checks', async ({ page }) => {
  await page.goto('/e2e/harness/pages.html');
  const got = await page.evaluate(() => (window as unknown as { __pages: Promise<number[][]> }).__pages);
  expect(got).toEqual(PAGE_VECTORS.map((v) => v.offsets));
});
