// The SparseLoCo round (encode, decode, median-clipped outer step) and the dense Nesterov step
// give byte-identical models in Chromium and in Node: replicas on any platform agree.
import { expect, test } from '@playwright/test';
import { outerStepCase } from '../test/support/outerStepCase';

test("outer step model hash in Chromium equals Node's", async ({ page }) => {
  const node = await outerStepCase();
  await page.goto('/e2e/harness/outer.html');
  const chromium = await page.evaluate(() => (window as unknown as { __outer: Promise<{ sparse: string; dense: string; touched: number }> }).__outer);
  expect(chromium).toEqual(node);
  expect(chromium.sparse).toMatch(/^[0-9a-f]{64}$/);
});
