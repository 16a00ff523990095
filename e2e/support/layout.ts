// Layout checks shared by specs: nothing may stick out sideways (a phone would then scroll
// the whole page horizontally).
import { expect, type Page } from '@playwright/test';

/** How many CSS pixels the page is wider than its viewport (≤ 0: it fits). */
export function horizontalOverflow(page: Page): Promise<number> {
  return page.evaluate(() => {
    const root = document.scrollingElement ?? document.documentElement;
    return root.scrollWidth - root.clientWidth;
  });
}

/** Fails with the page's name and the overflow in pixels (1 px of sub-pixel rounding allowed). */
export async function expectNoHorizontalOverflow(page: Page, what: string): Promise<void> {
  const overflow = await horizontalOverflow(page);
  expect(overflow, `${what} is ${overflow}px wider than the viewport`).toBeLessThanOrEqual(1);
}
