// Two Chromium pages connect with simple-peer over a real WebRTC data channel inside the
// private network namespace and round-trip 1 MiB byte for byte.
import { createHash } from 'node:crypto';
import { expect, test, type Page } from '@playwright/test';
import { randomBytes } from '../test/support/random';
import { assertPrivateNetwork } from '../test/support/privateNetwork';

async function openPeer(page: Page, initiator: boolean, relayTo: () => Page): Promise<void> {
  await page.exposeFunction('relaySignal', async (json: string) => {
    await relayTo().evaluate((s) => window.__p2p.signal(s), json);
  });
  await page.goto('/e2e/harness/p2p.html');
  await page.waitForFunction(() => '__p2p' in window);
  await page.evaluate((init) => window.__p2p.start(init), initiator);
}

test('two tabs round-trip a 1 MiB binary message over a data channel', async ({ browser }) => {
  assertPrivateNetwork();
  const contexts = [await browser.newContext(), await browser.newContext()];
  try {
    await roundTrip(await contexts[0].newPage(), await contexts[1].newPage());
  } finally {
    await Promise.all(contexts.map((c) => c.close()));
  }
});

async function roundTrip(a: Page, b: Page): Promise<void> {
  await openPeer(b, false, () => a);
  await b.evaluate(() => window.__p2p.echoMessages());
  await openPeer(a, true, () => b);
  await Promise.all([a.evaluate(() => window.__p2p.connected()), b.evaluate(() => window.__p2p.connected())]);

  const size = 1 << 20;
  const result = await a.evaluate(([n, seed]) => window.__p2p.roundTrip(n, seed), [size, 42] as const);
  const want = createHash('sha256').update(randomBytes(size, 42)).digest('hex');
  expect(result.echoedBytes).toBe(size);
  expect(result.equal).toBe(true);
  expect(result.sentSha256).toBe(want);
  expect(result.echoedSha256).toBe(want);
  expect(await b.evaluate(() => window.__p2p.receivedSha256())).toEqual([want]);
}
